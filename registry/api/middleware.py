from django.http import HttpResponseBadRequest, JsonResponse

from registry.api.errors import error_body, wants_json
from registry.validators import unstorable_reason


class RefuseUnstorableTextMiddleware:
    """A NUL in a URL path or query string (`/permissions/registered-models/%00`, `?name=%00`)
    would reach PostgreSQL as a lookup value and fail there (a DataError, so a 500). Refuse it
    up front as bad input, for every path; JSON bodies get the same check in the API's parser
    (registry/api/parsers.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = self._problem(request)
        if problem is None:
            return self.get_response(request)
        if wants_json(request):
            return JsonResponse(error_body("INVALID_PARAMETER_VALUE", problem), status=400)
        return HttpResponseBadRequest(problem, content_type="text/plain")

    @staticmethod
    def _problem(request):
        reason = unstorable_reason(request.path_info)
        if reason:
            return f"Invalid request path: {reason}."
        for key, values in request.GET.lists():
            for text in (key, *values):
                reason = unstorable_reason(text)
                if reason:
                    return f"Invalid value for parameter {key!r}: {reason}."
        return None
