"""Modelgate's lineage read: GET /api/2.0/modelgate/lineage/get?name=&version= (registry/lineage.py
says what it holds). Readers of the model may read it; an unreadable model is missing."""

from rest_framework.decorators import api_view
from rest_framework.response import Response

from registry import selectors
from registry.api import requests as msg


@msg.doc(msg.ModelVersionRef, ["Modelgate lineage"], method="GET")
@api_view(["GET"])
def get_lineage(request):
    """The run that built the version, its experiment, latest metrics, params, logged model and
    dataset inputs; `status` is none, resolving, resolved or unavailable (`reason` says why)."""
    data = msg.parse(request, msg.ModelVersionRef)
    lineage = selectors.version_lineage(request.user, data["name"], data["version"])
    return Response({"name": data["name"], "version": str(data["version"]), "lineage": lineage})
