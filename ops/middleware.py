import logging
import time

from django.urls import Resolver404, resolve

from .metrics import LATENCY, REQUESTS

logger = logging.getLogger("ops.requests")

_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
UNMATCHED = "unmatched"


def _route(request):
    """The URL pattern that served the request (never the raw path: one series per pattern)."""
    match = getattr(request, "resolver_match", None)
    if match is None:  # answered before URL resolution (e.g. a refused body): look it up
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return UNMATCHED
    return match.route or UNMATCHED


def observe(method, path, route, status, elapsed, client_ip):
    """Count, time and log one answered request (also called by registry.api.hot for the
    requests it answers before Django)."""
    method = method if method in _METHODS else "other"
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(elapsed)
    logger.info(
        "%s %s %s", method, path, status,
        extra={"method": method, "path": path, "route": route, "status": status,
               "duration_ms": round(elapsed * 1000, 1), "client_ip": client_ip},
    )


class RequestMetricsAndLogMiddleware:
    """Counts and times every request for /metrics and logs one access line for it (the
    request id comes from accounts.middleware.RequestIdMiddleware, which runs first)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        observe(request.method, request.path, _route(request), response.status_code,
                time.perf_counter() - started, request.META.get("REMOTE_ADDR"))
        return response
