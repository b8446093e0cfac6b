"""Modelgate's lifecycle API: the stages a version can be in, built-in and custom
(registry/stages.py). Listing is open to anyone signed in; defining and deleting a stage is a
registry admin's, one activity each."""

from django.db import transaction
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from audit.ctx import Ctx
from registry import actions, selectors
from registry.api import requests as msg

TAG = ["Modelgate stages"]


class StageCreate(serializers.Serializer):
    name = serializers.CharField(trim_whitespace=False)
    required_level = serializers.CharField()
    active = serializers.BooleanField(required=False, default=False)
    position = serializers.IntegerField(required=False, allow_null=True, default=None)


class StageRef(serializers.Serializer):
    name = serializers.CharField(trim_whitespace=False)


@msg.doc(StageCreate, TAG)
@api_view(["POST"])
@transaction.atomic
def create_stage(request):
    data = msg.parse(request, StageCreate)
    stage = actions.stage_create(
        Ctx.from_request(request), name=data["name"], required_level=data["required_level"],
        active=data["active"], position=data["position"],
    )
    return Response({"stage": stage.as_json()})


@msg.doc(None, TAG, method="GET")
@api_view(["GET"])
def list_stages(request):
    return Response({"stages": [s.as_json() for s in selectors.stage_list(request.user)]})


@msg.doc(StageRef, TAG, method="DELETE")
@api_view(["DELETE"])
@transaction.atomic
def delete_stage(request):
    data = msg.parse(request, StageRef)
    actions.stage_delete(Ctx.from_request(request), name=data["name"])
    return Response({})
