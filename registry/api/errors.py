"""The one place where errors become HTTP: MLflow's {"error_code", "message"} body with
MLflow's status map, for domain errors, DRF errors, unknown URLs and crashes alike."""

import logging

from django.http import JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

from audit.errors import HTTP_STATUS_BY_CODE, RegistryError

logger = logging.getLogger(__name__)


def error_body(error_code, message):
    return {"error_code": error_code, "message": message}


def _validation_message(detail):
    if isinstance(detail, dict):
        field, problems = next(iter(detail.items()))
        problem = problems[0] if isinstance(problems, list) and problems else problems
        return f"Invalid value for parameter '{field}': {problem}"
    if isinstance(detail, list) and detail:
        return str(detail[0])
    return str(detail)


def _from_drf(exc):
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        return "UNAUTHENTICATED", str(exc.detail)
    if isinstance(exc, exceptions.PermissionDenied):
        return "PERMISSION_DENIED", str(exc.detail)
    if isinstance(exc, exceptions.NotFound):
        return "RESOURCE_DOES_NOT_EXIST", str(exc.detail)
    if isinstance(exc, exceptions.ValidationError):
        return "INVALID_PARAMETER_VALUE", _validation_message(exc.detail)
    if isinstance(exc, exceptions.MethodNotAllowed):
        return "METHOD_NOT_ALLOWED", str(exc.detail)
    if isinstance(exc, exceptions.Throttled):
        return "REQUEST_LIMIT_EXCEEDED", str(exc.detail)
    if isinstance(exc, (exceptions.ParseError, exceptions.UnsupportedMediaType)):
        return "INVALID_PARAMETER_VALUE", str(exc.detail)
    return "BAD_REQUEST", str(exc.detail)


def api_exception_handler(exc, context):
    if isinstance(exc, RegistryError):
        return Response(exc.as_json(), status=exc.http_status)
    if isinstance(exc, exceptions.APIException):
        code, message = _from_drf(exc)
        status = exc.status_code if code not in HTTP_STATUS_BY_CODE else HTTP_STATUS_BY_CODE[code]
        response = Response(error_body(code, message), status=status)
        auth_header = getattr(exc, "auth_header", None)
        if code == "UNAUTHENTICATED":
            request = context.get("request")
            view = context.get("view")
            if view is not None and request is not None:
                auth_header = view.get_authenticate_header(request)
            if auth_header:
                response["WWW-Authenticate"] = auth_header
        if getattr(exc, "wait", None):
            response["Retry-After"] = str(int(exc.wait))
        return response
    # Anything else is a bug: log it, answer JSON (the client retries 500s, so say so plainly).
    logger.exception("Unhandled error in API view", exc_info=exc)
    return Response(error_body("INTERNAL_ERROR", "Internal server error."), status=500)


def wants_json(request):
    return request.path.startswith(("/api/", "/ajax-api/"))


def bad_request(request, exception=None):
    """Django's own 400s, raised before or outside a view (a Host not in ALLOWED_HOSTS, a body
    over DATA_UPLOAD_MAX_MEMORY_SIZE read by a middleware)."""
    if wants_json(request):
        kind = type(exception).__name__ if exception is not None else "BadRequest"
        return JsonResponse(error_body("BAD_REQUEST", f"Bad request ({kind})."), status=400)
    from django.views.defaults import bad_request as html_bad_request

    return html_bad_request(request, exception)


def not_found(request, exception=None):
    if wants_json(request):
        return JsonResponse(
            error_body("ENDPOINT_NOT_FOUND", f"No API endpoint at {request.method} {request.path}."),
            status=404,
        )
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error(request):
    if wants_json(request):
        return JsonResponse(error_body("INTERNAL_ERROR", "Internal server error."), status=500)
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request)
