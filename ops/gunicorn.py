"""Gunicorn's settings for Modelgate's web servers: `gunicorn -c python:ops.gunicorn
config.wsgi:application --bind HOST:PORT --workers N`.

Gunicorn's own lines (starting, booting a worker, a worker timing out) are JSON like the
application's (ops/logs.py). There is no gunicorn access log: ops.middleware logs one JSON
line a request, with its request id, URL pattern, status and duration."""

accesslog = None
_json_to_stderr = {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"],
                   "stream": "ext://sys.stderr"}
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "ops.logs.RequestIdFilter"}},
    "formatters": {"json": {"()": "ops.logs.JsonFormatter"}},
    # gunicorn's defaults name these two handlers; both are replaced.
    "handlers": {"console": _json_to_stderr, "error_console": _json_to_stderr},
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
}
