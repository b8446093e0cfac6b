"""The MLflow model registry REST API (model_registry.proto). Views are thin: parse, call one
action or selector, render. Writes run view-and-render in one transaction, so a failure before
the response is built leaves nothing behind and the client's retry of a POST is safe."""

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response

from audit.ctx import Ctx
from registry import actions, selectors
from registry.api import requests as msg
from registry.api.render import model_json, models_page_json, page_json, version_json

TAG = ["MLflow model registry"]


def _doc(request_cls, *, method="POST"):
    return msg.doc(request_cls, TAG, method=method)


# Registered models ---------------------------------------------------------------------------

@_doc(msg.CreateRegisteredModel)
@api_view(["POST"])
@transaction.atomic
def create_registered_model(request):
    data = msg.parse(request, msg.CreateRegisteredModel)
    model = actions.model_create(
        Ctx.from_request(request), name=data["name"], description=data["description"],
        tags=data.get("tags"),
    )
    # Rendered as written (the action returns it loaded), not read back: everything from
    # record() to commit holds the activity log's head lock.
    return Response({"registered_model": model_json(model)})


@_doc(msg.RenameRegisteredModel)
@api_view(["POST"])
@transaction.atomic
def rename_registered_model(request):
    data = msg.parse(request, msg.RenameRegisteredModel)
    model = actions.model_rename(Ctx.from_request(request), name=data["name"], new_name=data["new_name"])
    return Response({"registered_model": model_json(selectors.model_get(request.user, model.name))})


@_doc(msg.UpdateRegisteredModel, method="PATCH")
@api_view(["PATCH"])
@transaction.atomic
def update_registered_model(request):
    data = msg.parse(request, msg.UpdateRegisteredModel)
    model = actions.model_update(Ctx.from_request(request), name=data["name"], description=data["description"])
    return Response({"registered_model": model_json(selectors.model_get(request.user, model.name))})


@_doc(msg.ModelName, method="DELETE")
@api_view(["DELETE"])
@transaction.atomic
def delete_registered_model(request):
    data = msg.parse(request, msg.ModelName)
    actions.model_delete(Ctx.from_request(request), name=data["name"])
    return Response({})


@_doc(msg.ModelName, method="GET")
@api_view(["GET"])
def get_registered_model(request):
    data = msg.parse(request, msg.ModelName)
    return Response({"registered_model": model_json(selectors.model_get(request.user, data["name"]))})


@_doc(msg.SearchRequest, method="GET")
@api_view(["GET"])
def search_registered_models(request):
    data = msg.parse(request, msg.SearchRequest)
    return Response(models_page_json(
        request.user,
        filter_string=data["filter"],
        max_results=data.get("max_results") or selectors.DEFAULT_MODEL_RESULTS,
        order_by=data["order_by"],
        page_token=data["page_token"],
    ))


@_doc(msg.GetLatestVersions)
@api_view(["POST", "GET"])
def get_latest_versions(request):
    data = msg.parse(request, msg.GetLatestVersions)
    versions = selectors.latest_versions(request.user, data["name"], data["stages"])
    return Response({"model_versions": [version_json(v) for v in versions]} if versions else {})


@_doc(msg.SetRegisteredModelTag)
@api_view(["POST"])
@transaction.atomic
def set_registered_model_tag(request):
    data = msg.parse(request, msg.SetRegisteredModelTag)
    actions.model_tag_set(Ctx.from_request(request), name=data["name"], key=data["key"], value=data["value"])
    return Response({})


@_doc(msg.DeleteRegisteredModelTag, method="DELETE")
@api_view(["DELETE"])
@transaction.atomic
def delete_registered_model_tag(request):
    data = msg.parse(request, msg.DeleteRegisteredModelTag)
    actions.model_tag_delete(Ctx.from_request(request), name=data["name"], key=data["key"])
    return Response({})


@extend_schema(methods=["POST"], tags=TAG, request=msg.SetAlias, responses={200: OpenApiTypes.OBJECT})
@extend_schema(methods=["GET", "DELETE"], tags=TAG, parameters=[msg.AliasRef], responses={200: OpenApiTypes.OBJECT})
@api_view(["POST", "GET", "DELETE"])
def registered_model_alias(request):
    if request.method == "GET":
        data = msg.parse(request, msg.AliasRef)
        return Response({"model_version": version_json(selectors.version_by_alias(request.user, data["name"], data["alias"]))})
    with transaction.atomic():
        if request.method == "POST":
            data = msg.parse(request, msg.SetAlias)
            actions.alias_set(
                Ctx.from_request(request), name=data["name"], alias=data["alias"], version=data["version"]
            )
        else:
            data = msg.parse(request, msg.AliasRef)
            actions.alias_delete(Ctx.from_request(request), name=data["name"], alias=data["alias"])
    return Response({})


# Model versions ------------------------------------------------------------------------------

@_doc(msg.CreateModelVersion)
@api_view(["POST"])
@transaction.atomic
def create_model_version(request):
    data = msg.parse(request, msg.CreateModelVersion)
    mv = actions.version_create(
        Ctx.from_request(request),
        name=data["name"], source=data["source"], run_id=data["run_id"], run_link=data["run_link"],
        description=data["description"], tags=data.get("tags"), model_id=data["model_id"],
    )
    # Rendered as written (the action returns it loaded), not read back: this runs under the
    # model's row lock and the activity log's head lock.
    return Response({"model_version": version_json(mv)})


@_doc(msg.UpdateModelVersion, method="PATCH")
@api_view(["PATCH"])
@transaction.atomic
def update_model_version(request):
    data = msg.parse(request, msg.UpdateModelVersion)
    actions.version_update(
        Ctx.from_request(request), name=data["name"], version=data["version"], description=data["description"]
    )
    return Response({"model_version": version_json(selectors.version_get(request.user, data["name"], data["version"]))})


@_doc(msg.TransitionStage)
@api_view(["POST"])
@transaction.atomic
def transition_model_version_stage(request):
    data = msg.parse(request, msg.TransitionStage)
    actions.version_transition(
        Ctx.from_request(request), name=data["name"], version=data["version"], stage=data["stage"],
        archive_existing_versions=data["archive_existing_versions"], comment=data["comment"],
    )
    return Response({"model_version": version_json(selectors.version_get(request.user, data["name"], data["version"]))})


@_doc(msg.ModelVersionRef, method="DELETE")
@api_view(["DELETE"])
@transaction.atomic
def delete_model_version(request):
    data = msg.parse(request, msg.ModelVersionRef)
    actions.version_delete(Ctx.from_request(request), name=data["name"], version=data["version"])
    return Response({})


@_doc(msg.ModelVersionRef, method="GET")
@api_view(["GET"])
def get_model_version(request):
    data = msg.parse(request, msg.ModelVersionRef)
    return Response({"model_version": version_json(selectors.version_get(request.user, data["name"], data["version"]))})


@_doc(msg.SearchRequest, method="GET")
@api_view(["GET"])
def search_model_versions(request):
    data = msg.parse(request, msg.SearchRequest)
    versions, next_token = selectors.versions_search(
        request.user,
        filter_string=data["filter"],
        max_results=data.get("max_results") or selectors.DEFAULT_VERSION_RESULTS,
        order_by=data["order_by"],
        page_token=data["page_token"],
    )
    return Response(page_json("model_versions", versions, next_token, version_json, omit_empty=True))


@_doc(msg.ModelVersionRef, method="GET")
@api_view(["GET"])
def get_model_version_download_uri(request):
    data = msg.parse(request, msg.ModelVersionRef)
    return Response({"artifact_uri": selectors.download_uri(request.user, data["name"], data["version"])})


@_doc(msg.SetModelVersionTag)
@api_view(["POST"])
@transaction.atomic
def set_model_version_tag(request):
    data = msg.parse(request, msg.SetModelVersionTag)
    actions.version_tag_set(
        Ctx.from_request(request), name=data["name"], version=data["version"], key=data["key"], value=data["value"]
    )
    return Response({})


@_doc(msg.DeleteModelVersionTag, method="DELETE")
@api_view(["DELETE"])
@transaction.atomic
def delete_model_version_tag(request):
    data = msg.parse(request, msg.DeleteModelVersionTag)
    actions.version_tag_delete(
        Ctx.from_request(request), name=data["name"], version=data["version"], key=data["key"]
    )
    return Response({})
