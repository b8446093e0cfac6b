"""Request messages of the MLflow registry API, as DRF serializers: they validate input and
document it in the OpenAPI schema. Field names and required-ness follow model_registry.proto."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from audit.errors import InvalidParameterValue


def doc(request_cls, tags, *, method="POST"):
    """The OpenAPI description of an endpoint: its request message (query parameters for GET
    and DELETE, a JSON body otherwise) and a JSON object response."""
    if method in {"GET", "DELETE"}:
        parameters = [request_cls] if request_cls else None
        return extend_schema(tags=tags, parameters=parameters, responses={200: OpenApiTypes.OBJECT})
    return extend_schema(tags=tags, request=request_cls, responses={200: OpenApiTypes.OBJECT})


class TagIn(serializers.Serializer):
    key = serializers.CharField(allow_blank=True, trim_whitespace=False)
    value = serializers.CharField(allow_blank=True, required=False, default="", trim_whitespace=False)


def _str(required=True, **kw):
    return serializers.CharField(required=required, trim_whitespace=False, **kw)


def _opt_text():
    return serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)


class CreateRegisteredModel(serializers.Serializer):
    name = _str()
    tags = TagIn(many=True, required=False)
    description = _opt_text()
    deployment_job_id = serializers.CharField(required=False, allow_blank=True)


class RenameRegisteredModel(serializers.Serializer):
    name = _str()
    new_name = _str()


class UpdateRegisteredModel(serializers.Serializer):
    name = _str()
    description = _opt_text()
    deployment_job_id = serializers.CharField(required=False, allow_blank=True)


class ModelName(serializers.Serializer):
    name = _str()


class SearchRequest(serializers.Serializer):
    filter = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    max_results = serializers.IntegerField(required=False)
    order_by = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    page_token = serializers.CharField(required=False, allow_blank=True, default="")


class GetLatestVersions(serializers.Serializer):
    name = _str()
    stages = serializers.ListField(child=serializers.CharField(), required=False, default=list)


class CreateModelVersion(serializers.Serializer):
    name = _str()
    source = _str()
    run_id = _opt_text()
    tags = TagIn(many=True, required=False)
    run_link = _opt_text()
    description = _opt_text()
    model_id = _opt_text()


class ModelVersionRef(serializers.Serializer):
    name = _str()
    version = _str()


class UpdateModelVersion(ModelVersionRef):
    description = _opt_text()


class TransitionStage(ModelVersionRef):
    stage = _str()
    archive_existing_versions = serializers.BooleanField(required=False, default=False)
    comment = _opt_text()


class SetRegisteredModelTag(serializers.Serializer):
    name = _str()
    key = _str()
    value = serializers.CharField(allow_blank=True, trim_whitespace=False)


class DeleteRegisteredModelTag(serializers.Serializer):
    name = _str()
    key = _str()


class SetModelVersionTag(ModelVersionRef):
    key = _str()
    value = serializers.CharField(allow_blank=True, trim_whitespace=False)


class DeleteModelVersionTag(ModelVersionRef):
    key = _str()


class SetAlias(serializers.Serializer):
    name = _str()
    alias = _str()
    version = _str()


class AliasRef(serializers.Serializer):
    name = _str()
    alias = _str()


def _message(errors):
    field, problems = next(iter(errors.items()))
    if isinstance(problems, dict):  # nested
        return _message(problems)
    if isinstance(problems, list) and problems and isinstance(problems[0], dict):
        return _message(next(p for p in problems if p))
    problem = problems[0] if isinstance(problems, list) else problems
    code = getattr(problem, "code", "")
    if code in {"required", "blank", "null"}:
        return (
            f"Missing value for required parameter '{field}'. See the API docs for more "
            "information about request parameters."
        )
    return f"Invalid value for parameter '{field}': {problem}"


def parse(request, serializer_class):
    """Validate a request message: the JSON body for POST/PATCH/PUT; for GET and DELETE the
    query string, or a JSON body when one was sent (Databricks' curl examples do that)."""
    if request.method in {"POST", "PATCH", "PUT"}:
        data = request.data
    else:
        data = request.data or request.query_params
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise InvalidParameterValue(_message(serializer.errors))
    return serializer.validated_data
