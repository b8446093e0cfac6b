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


class RequestMetricsAndLogMiddleware:
    """Counts and times every request for /metrics and logs one access line for it (the
    request id comes from accounts.middleware.RequestIdMiddleware, which runs first)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        method = request.method if request.method in _METHODS else "other"
        route = _route(request)
        REQUESTS.labels(method, route, str(response.status_code)).inc()
        LATENCY.labels(method, route).observe(elapsed)
        logger.info(
            "%s %s %s", request.method, request.path, response.status_code,
            extra={"method": method, "path": request.path, "route": route, "status": response.status_code,
                   "duration_ms": round(elapsed * 1000, 1), "client_ip": request.META.get("REMOTE_ADDR")},
        )
        return response
