import contextvars
import re
import uuid

from django.core.signals import request_finished

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# The id of the request this thread is serving, for the log lines written meanwhile
# (ops.logs.RequestIdFilter). None outside a request.
current_request_id = contextvars.ContextVar("current_request_id", default=None)


def request_id_for(incoming):
    """A client's X-Request-Id if sane, else a new one."""
    return incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives each request an id (a client's X-Request-Id if sane), echoed back and logged."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_for(request.headers.get("X-Request-Id", ""))
        current_request_id.set(request.request_id)
        response = self.get_response(request)
        response["X-Request-Id"] = request.request_id
        return response


def _forget_request_id(**kwargs):
    # Cleared when the response is closed, not when the middleware returns: Django logs a
    # 4xx/5xx ("Not Found: ...") after the middleware chain, and that line belongs to the request.
    current_request_id.set(None)


request_finished.connect(_forget_request_id, dispatch_uid="accounts.middleware.forget_request_id")
