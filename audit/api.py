"""The activity log's signed checkpoints, for anyone signed in to copy and verify elsewhere:
each names a row and its hash, signed with the server's Ed25519 key, whose public half is
in the answer (checkpoints reveal no more than the log's length)."""

import base64

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from . import signing
from .models import Checkpoint


class CheckpointList(serializers.Serializer):
    since_seq = serializers.IntegerField(required=False, default=0, min_value=0, max_value=2**62)
    max_results = serializers.IntegerField(required=False, default=1000, min_value=1, max_value=10_000)


@extend_schema(tags=["Modelgate activity"], parameters=[CheckpointList], responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
def list_checkpoints(request):
    """Checkpoints after `since_seq`, oldest first; page on with the last one's seq."""
    query = CheckpointList(data=request.query_params)
    query.is_valid(raise_exception=True)
    rows = Checkpoint.objects.filter(seq__gt=query.validated_data["since_seq"]).order_by("seq")
    rows = list(rows[: query.validated_data["max_results"]])
    return Response({
        "key_id": signing.key_id(),
        "public_key": base64.b64encode(signing.public_key_bytes()).decode(),
        "checkpoints": [row.as_json() for row in rows],
    })
