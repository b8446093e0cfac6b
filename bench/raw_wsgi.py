"""The ceiling for `make bench`: a WSGI app that answers every request with a fixed JSON body
the size of an alias lookup's, served by gunicorn with the same settings as Modelgate."""

BODY = (
    b'{"model_version": {"name": "bench-hot", "version": "2", "creation_timestamp": 1764600000000, '
    b'"last_updated_timestamp": 1764600000000, "current_stage": "None", "description": "", '
    b'"source": "s3://bench/hot/2", "run_id": "", "status": "READY", "run_link": "", '
    b'"user_id": "bench", "aliases": ["champion"]}}'
)


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]
