"""Modelgate's token API: create tokens for yourself, list them (never the secret), revoke."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from audit.ctx import Ctx
from audit.timestamps import to_millis

from .actions import token_create, token_revoke
from .models import ApiToken

TAG = ["Modelgate tokens"]
MAX_LIFETIME_SECONDS = 10 * 365 * 24 * 3600


def token_json(token):
    return {
        "token_id": str(token.pk),
        "name": token.name,
        "prefix": token.prefix,
        "creation_time": to_millis(token.created_at),
        "expiry_time": to_millis(token.expires_at),
        "last_used_time": to_millis(token.last_used_at),
        "revoked": token.revoked_at is not None,
    }


class CreateToken(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, default="api")
    lifetime_seconds = serializers.IntegerField(
        required=False, min_value=60, max_value=MAX_LIFETIME_SECONDS
    )


class TokenRef(serializers.Serializer):
    token_id = serializers.IntegerField()


@extend_schema(tags=TAG, request=CreateToken, responses={200: OpenApiTypes.OBJECT})
@api_view(["POST"])
def create_token(request):
    serializer = CreateToken(data=request.data)
    serializer.is_valid(raise_exception=True)
    lifetime = serializer.validated_data.get("lifetime_seconds")
    expires_at = timezone.now() + timedelta(seconds=lifetime) if lifetime else None
    token, raw = token_create(
        Ctx.from_request(request), user=request.user,
        name=serializer.validated_data["name"], expires_at=expires_at,
    )
    # The only time the secret leaves the server.
    return Response({"token_value": raw, "token_info": token_json(token)})


@extend_schema(tags=TAG, responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
def list_tokens(request):
    tokens = ApiToken.objects.filter(user=request.user)
    return Response({"token_infos": [token_json(t) for t in tokens]})


@extend_schema(tags=TAG, request=TokenRef, responses={200: OpenApiTypes.OBJECT})
@api_view(["POST"])
def revoke_token(request):
    serializer = TokenRef(data=request.data)
    serializer.is_valid(raise_exception=True)
    token = ApiToken.objects.filter(
        pk=serializer.validated_data["token_id"], user=request.user
    ).first()
    if token is None:
        raise exceptions.NotFound("Token not found.")
    token_revoke(Ctx.from_request(request), token=token)
    return Response({})
