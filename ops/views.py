"""The probes and the metrics endpoint (ops/urls.py)."""

from django.http import HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.permissions import AllowAny

from . import policies, readiness
from .metrics import exposition


def health(request):
    """Liveness: the process answers. No database, no credentials."""
    return JsonResponse({"status": "ok"})


def ready(request):
    """Readiness: 200 if this node can serve, else 503; each check's result either way."""
    is_ready, checks = readiness.report()
    return JsonResponse({"ready": is_ready, "checks": checks}, status=200 if is_ready else 503)


@api_view(["GET"])
@permission_classes([AllowAny])  # decided below: an allowed address needs no credentials
def metrics(request):
    if not policies.address_may_read_metrics(request.META.get("REMOTE_ADDR")):
        if request.user is None:
            raise NotAuthenticated("Metrics need a registry admin's token, or a client in an allowed network.")
        if not policies.user_may_read_metrics(request.user):
            raise PermissionDenied("Only registry admins may read the metrics.")
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
