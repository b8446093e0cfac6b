"""The Databricks workspace-registry endpoints databricks-sdk calls that belong to the registry
itself: registered-models get/list with the model id and caller's level, and the permissions
API for one model (`/api/2.0/permissions/registered-models/{id}`) or the registry (`root`)."""

from django.contrib.auth.models import Group
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts import policies as access
from accounts.levels import CREATE_MODELS, DESCRIPTIONS, GRANTABLE
from accounts.models import User
from audit.ctx import Ctx
from registry import actions, permissions, policies, selectors
from registry.api import requests as msg
from registry.api.render import model_json, models_page_json

TAG = ["Databricks registry"]
ROOT = "root"


@extend_schema(tags=TAG, responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
@permission_classes([AllowAny])
def well_known_config(request):
    """databricks-sdk probes this, unauthenticated, when a client is built; {} keeps it quiet."""
    return Response({})


def model_databricks_json(viewer, model):
    body = model_json(model)
    body.pop("aliases", None)
    body["id"] = model.uid
    body["permission_level"] = access.effective_level(viewer, model).name
    return body


@extend_schema(tags=TAG, parameters=[msg.ModelName], responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
def get_registered_model_databricks(request):
    data = msg.parse(request, msg.ModelName)
    model = selectors.model_get(request.user, data["name"])
    return Response({"registered_model_databricks": model_databricks_json(request.user, model)})


class ListModels(serializers.Serializer):
    max_results = serializers.IntegerField(required=False)
    page_token = serializers.CharField(required=False, allow_blank=True, default="")


@extend_schema(tags=TAG, parameters=[ListModels], responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
def list_registered_models(request):
    data = msg.parse(request, ListModels)
    return Response(models_page_json(
        request.user,
        max_results=data.get("max_results") or selectors.DEFAULT_MODEL_RESULTS,
        page_token=data["page_token"],
    ))


# Permissions ---------------------------------------------------------------------------------

def _principal_json(principal):
    if isinstance(principal, Group):
        return {"group_name": principal.name}
    key = "service_principal_name" if principal.is_service_account else "user_name"
    return {key: principal.username, "display_name": principal.get_full_name() or principal.username}


def acl_json(model, shown=lambda principal: True):
    """RegisteredModelPermissions for a model, or the registry (model None), with the entries
    of the principals `shown` accepts."""
    entries = {}

    def add(principal, permission):
        if not shown(principal):
            return
        key = (type(principal).__name__, principal.pk)
        entry = entries.setdefault(key, {**_principal_json(principal), "all_permissions": []})
        entry["all_permissions"].append(permission)

    inherited = {"inherited": True, "inherited_from_object": [permissions.ROOT_OBJECT_ID]}
    if model is not None:
        for grant in permissions.model_grants(model):
            add(grant.principal, {"permission_level": grant.level, "inherited": False})
    for grant in permissions.root_grants():
        add(grant.principal, {"permission_level": grant.level,
                              **(inherited if model is not None else {"inherited": False})})
    for admin in User.objects.filter(is_superuser=True, is_active=True).order_by("username"):
        # Registry admins hold CAN_MANAGE on the root itself, and through it on every model.
        add(admin, {"permission_level": "CAN_MANAGE",
                    **(inherited if model is not None else {"inherited": False})})
    return {
        "object_id": permissions.ROOT_OBJECT_ID + (model.uid if model is not None else ""),
        "object_type": "registered-model",
        "access_control_list": list(entries.values()),
    }


def root_acl_json(viewer):
    """The registry-wide ACL: all of it for a registry admin; for anyone else only their own
    entry and their teams' (their own registry-wide level), not who else holds what."""
    if policies.is_registry_admin(viewer):
        return acl_json(None)
    teams = set(viewer.groups.values_list("pk", flat=True))
    return acl_json(None, shown=lambda principal: (
        principal.pk in teams if isinstance(principal, Group) else principal.pk == viewer.pk
    ))


class AccessControlRequest(serializers.Serializer):
    access_control_list = serializers.ListField(child=serializers.DictField(), required=False, default=list)


@extend_schema(methods=["GET"], tags=TAG, responses={200: OpenApiTypes.OBJECT})
@extend_schema(methods=["PUT", "PATCH"], tags=TAG, request=AccessControlRequest, responses={200: OpenApiTypes.OBJECT})
@api_view(["GET", "PUT", "PATCH"])
def model_permissions(request, registered_model_id):
    ctx = Ctx.from_request(request)
    if request.method != "GET":
        data = msg.parse(request, AccessControlRequest)
        with transaction.atomic():
            if registered_model_id == ROOT:
                actions.registry_permissions_change(
                    ctx, access_control_list=data["access_control_list"], replace=request.method == "PUT"
                )
            else:
                actions.model_permissions_change(
                    ctx, uid=registered_model_id, access_control_list=data["access_control_list"],
                    replace=request.method == "PUT",
                )
    if registered_model_id == ROOT:
        return Response(root_acl_json(request.user))
    return Response(acl_json(selectors.model_by_uid(request.user, registered_model_id)))


@extend_schema(tags=TAG, responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
def model_permission_levels(request, registered_model_id):
    levels = [level.name for level in GRANTABLE]
    if registered_model_id == ROOT:
        levels.append(CREATE_MODELS)
    else:
        selectors.model_by_uid(request.user, registered_model_id)
    return Response({
        "permission_levels": [{"permission_level": name, "description": DESCRIPTIONS[name]} for name in levels]
    })
