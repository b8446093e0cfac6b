"""Webhook endpoints: Databricks registry webhooks (/api/2.0/mlflow/registry-webhooks/*, and
the preview aliases), MLflow 3 webhooks (/api/2.0/mlflow/webhooks), and Modelgate's own
(/api/2.0/modelgate/webhooks/* for Jenkins targets and Modelgate events, deliveries/*)."""


from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from audit.ctx import Ctx
from audit.errors import InvalidParameterValue
from audit.timestamps import to_millis
from registry.api import requests as msg
from registry.api.render import page_json
from registry.selectors import page

from . import actions, selectors
from .models import Webhook

DATABRICKS = ["Databricks registry webhooks"]
MLFLOW = ["MLflow webhooks"]
MODELGATE = ["Modelgate webhooks"]


# Databricks registry webhooks -----------------------------------------------------------------

class HttpUrlSpec(serializers.Serializer):
    url = serializers.CharField(max_length=2000)
    secret = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    authorization = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    enable_ssl_verification = serializers.BooleanField(required=False, default=True)


class RegistryWebhookCreate(serializers.Serializer):
    events = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    model_name = serializers.CharField(required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    status = serializers.CharField(required=False, default=Webhook.ACTIVE)
    http_url_spec = HttpUrlSpec(required=False)
    job_spec = serializers.DictField(required=False)


class RegistryWebhookUpdate(serializers.Serializer):
    id = serializers.CharField()
    description = serializers.CharField(required=False, allow_blank=True)
    events = serializers.ListField(child=serializers.CharField(), required=False, allow_empty=False)
    status = serializers.CharField(required=False)
    http_url_spec = HttpUrlSpec(required=False)
    job_spec = serializers.DictField(required=False)


class RegistryWebhookList(serializers.Serializer):
    events = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    model_name = serializers.CharField(required=False, allow_blank=True, default="")
    max_results = serializers.IntegerField(required=False, default=1000)
    page_token = serializers.CharField(required=False, allow_blank=True, default="")


class WebhookRef(serializers.Serializer):
    id = serializers.CharField()


class RegistryWebhookTest(WebhookRef):
    event = serializers.CharField(required=False, allow_blank=True, default="")


def _no_job_spec(data):
    if data.get("job_spec"):
        raise InvalidParameterValue(
            "job_spec (Databricks jobs) is not available here; use http_url_spec, or a Jenkins "
            "job through /api/2.0/modelgate/webhooks/create."
        )


def registry_webhook_json(webhook):
    body = {
        "id": webhook.id,
        "events": list(webhook.events),
        "status": webhook.status,
        "description": webhook.description,
        "creation_timestamp": to_millis(webhook.created_at),
        "last_updated_timestamp": to_millis(webhook.updated_at),
    }
    if webhook.model_id:
        body["model_name"] = webhook.model.name
    if webhook.target == Webhook.HTTP:
        body["http_url_spec"] = {"url": webhook.url, "enable_ssl_verification": webhook.enable_ssl_verification}
    else:
        body["jenkins_spec"] = jenkins_spec_json(webhook)
    return body


@msg.doc(RegistryWebhookCreate, DATABRICKS)
@api_view(["POST"])
@transaction.atomic
def create_registry_webhook(request):
    data = msg.parse(request, RegistryWebhookCreate)
    _no_job_spec(data)
    spec = data.get("http_url_spec")
    if not spec:
        raise InvalidParameterValue("Missing value for required parameter 'http_url_spec'.")
    webhook = actions.webhook_create(
        Ctx.from_request(request), flavor=Webhook.DATABRICKS, events=data["events"], url=spec["url"],
        model_name=data["model_name"], description=data["description"], status=data["status"],
        secret=spec.get("secret", ""), authorization=spec.get("authorization", ""),
        enable_ssl_verification=spec.get("enable_ssl_verification", True),
    )
    return Response({"webhook": registry_webhook_json(webhook)})


@msg.doc(RegistryWebhookList, DATABRICKS, method="GET")
@api_view(["GET"])
def list_registry_webhooks(request):
    data = msg.parse(request, RegistryWebhookList)
    qs = selectors.manageable_webhooks(request.user).filter(flavor=Webhook.DATABRICKS).order_by("created_at", "id")
    if data["model_name"]:
        qs = qs.filter(model__name=data["model_name"])
    webhooks = list(qs)
    if data["events"]:
        wanted = set(data["events"])
        webhooks = [w for w in webhooks if wanted & set(w.events)]
    rows, token = page(webhooks, data["max_results"], data["page_token"], limit=1000)
    return Response(page_json("webhooks", rows, token, registry_webhook_json))


@msg.doc(RegistryWebhookUpdate, DATABRICKS, method="PATCH")
@api_view(["PATCH"])
@transaction.atomic
def update_registry_webhook(request):
    data = msg.parse(request, RegistryWebhookUpdate)
    _no_job_spec(data)
    spec = data.get("http_url_spec") or {}
    webhook = actions.webhook_update(
        Ctx.from_request(request), webhook_id=data["id"], flavor=Webhook.DATABRICKS,
        description=data.get("description"), events=data.get("events"), status=data.get("status"),
        url=spec.get("url"), secret=spec.get("secret"), authorization=spec.get("authorization"),
        enable_ssl_verification=spec.get("enable_ssl_verification") if spec else None,
    )
    return Response({"webhook": registry_webhook_json(webhook)})


@msg.doc(WebhookRef, DATABRICKS, method="DELETE")
@api_view(["DELETE"])
@transaction.atomic
def delete_registry_webhook(request):
    data = msg.parse(request, WebhookRef)
    actions.webhook_delete(Ctx.from_request(request), webhook_id=data["id"], flavor=Webhook.DATABRICKS)
    return Response({})


def _test_outcome(request, result):
    """The test's answer as the caller may see it (selectors.outcome_for): (body, error)."""
    body, error, _ = selectors.outcome_for(request.user, internal=result.internal, body=result.body, error=result.error)
    return body, error


@msg.doc(RegistryWebhookTest, DATABRICKS)
@api_view(["POST"])
def test_registry_webhook(request):
    data = msg.parse(request, RegistryWebhookTest)
    delivery, result = actions.webhook_test(
        Ctx.from_request(request), webhook_id=data["id"], event=data["event"], flavor=Webhook.DATABRICKS
    )
    body, error = _test_outcome(request, result)
    outcome = {"status_code": result.status_code or 0, "body": body or error}
    # SDK >= 0.58 reads the top level, older ones `webhook`: serve both.
    return Response({**outcome, "webhook": dict(outcome), "delivery_id": delivery.pk})


# MLflow 3 webhooks ------------------------------------------------------------------------------

class MlflowEvent(serializers.Serializer):
    entity = serializers.CharField()
    action = serializers.CharField()


class MlflowWebhookIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    url = serializers.CharField(max_length=2000, trim_whitespace=False)  # "   " gets MLflow's answer
    events = MlflowEvent(many=True)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    secret = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    status = serializers.CharField(required=False, default=Webhook.ACTIVE)


class MlflowWebhookPatch(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    url = serializers.CharField(required=False, allow_blank=True, max_length=2000, trim_whitespace=False)
    events = MlflowEvent(many=True, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    secret = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    status = serializers.CharField(required=False)


class MlflowList(serializers.Serializer):
    max_results = serializers.IntegerField(required=False, default=100)
    page_token = serializers.CharField(required=False, allow_blank=True, default="")


class MlflowTest(serializers.Serializer):
    event = MlflowEvent(required=False)


def _mlflow_event_names(events):
    if not events:
        raise InvalidParameterValue("Webhook events must be a non-empty list of WebhookEvent objects: [].")
    return [f"{e['entity'].lower()}.{e['action'].lower()}" for e in events]


def mlflow_webhook_json(webhook):
    return {
        "webhook_id": webhook.id,
        "name": webhook.name,
        "description": webhook.description,
        "url": webhook.url,
        "events": [
            {"entity": name.split(".")[0].upper(), "action": name.split(".")[1].upper()} for name in webhook.events
        ],
        "status": webhook.status,
        "creation_timestamp": to_millis(webhook.created_at),
        "last_updated_timestamp": to_millis(webhook.updated_at),
    }


@extend_schema(methods=["POST"], tags=MLFLOW, request=MlflowWebhookIn, responses={200: OpenApiTypes.OBJECT})
@extend_schema(methods=["GET"], tags=MLFLOW, parameters=[MlflowList], responses={200: OpenApiTypes.OBJECT})
@api_view(["POST", "GET"])
def mlflow_webhooks(request):
    if request.method == "GET":
        data = msg.parse(request, MlflowList)
        if not 1 <= data["max_results"] <= 1000:
            raise InvalidParameterValue("max_results must be between 1 and 1000.")
        qs = selectors.manageable_webhooks(request.user).filter(flavor=Webhook.MLFLOW).order_by("created_at", "id")
        rows, token = page(qs, data["max_results"], data["page_token"], limit=1000)
        return Response(page_json("webhooks", rows, token, mlflow_webhook_json))
    data = msg.parse(request, MlflowWebhookIn)
    with transaction.atomic():
        webhook = actions.webhook_create(
            Ctx.from_request(request), flavor=Webhook.MLFLOW, name=data["name"], url=data["url"],
            events=_mlflow_event_names(data["events"]), description=data["description"],
            secret=data["secret"], status=data["status"],
        )
    return Response({"webhook": mlflow_webhook_json(webhook)})


@extend_schema(methods=["GET", "DELETE"], tags=MLFLOW, responses={200: OpenApiTypes.OBJECT})
@extend_schema(methods=["PATCH"], tags=MLFLOW, request=MlflowWebhookPatch, responses={200: OpenApiTypes.OBJECT})
@api_view(["GET", "PATCH", "DELETE"])
def mlflow_webhook(request, webhook_id):
    ctx = Ctx.from_request(request)
    if request.method == "GET":
        return Response({"webhook": mlflow_webhook_json(selectors.webhook_get(request.user, webhook_id, Webhook.MLFLOW))})
    with transaction.atomic():
        if request.method == "DELETE":
            actions.webhook_delete(ctx, webhook_id=webhook_id, flavor=Webhook.MLFLOW)
            return Response({})
        data = msg.parse(request, MlflowWebhookPatch)
        webhook = actions.webhook_update(
            # As MLflow: an empty name or url leaves it as it is.
            ctx, webhook_id=webhook_id, flavor=Webhook.MLFLOW, name=data.get("name") or None, url=data.get("url") or None,
            events=_mlflow_event_names(data["events"]) if data.get("events") else None,
            description=data.get("description"), secret=data.get("secret"), status=data.get("status"),
        )
    return Response({"webhook": mlflow_webhook_json(webhook)})


@msg.doc(MlflowTest, MLFLOW)
@api_view(["POST"])
def test_mlflow_webhook(request, webhook_id):
    data = msg.parse(request, MlflowTest)
    event = _mlflow_event_names([data["event"]])[0] if data.get("event") else ""
    _, result = actions.webhook_test(
        Ctx.from_request(request), webhook_id=webhook_id, event=event, flavor=Webhook.MLFLOW
    )
    body, error = _test_outcome(request, result)
    return Response({"result": {
        "success": result.ok,
        "response_status": result.status_code,
        "response_body": body,
        "error_message": error or None,
    }})


# Modelgate webhooks (Jenkins targets, Modelgate events) and the delivery log ------------------------

class JenkinsSpec(serializers.Serializer):
    base_url = serializers.CharField(max_length=2000)
    job = serializers.CharField(max_length=500)
    user = serializers.CharField(max_length=200)
    api_token = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    password = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    enable_ssl_verification = serializers.BooleanField(required=False, default=True)


class ModelgateWebhookCreate(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    events = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    model_name = serializers.CharField(required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    status = serializers.CharField(required=False, default=Webhook.ACTIVE)
    http_url_spec = HttpUrlSpec(required=False)
    jenkins_spec = JenkinsSpec(required=False)
    secret = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)


def jenkins_spec_json(webhook):
    return {
        "base_url": webhook.url, "job": webhook.jenkins_job, "user": webhook.jenkins_user,
        "uses_password": webhook.jenkins_uses_password, "enable_ssl_verification": webhook.enable_ssl_verification,
    }


def modelgate_webhook_json(webhook):
    body = registry_webhook_json(webhook)
    body.update(name=webhook.name, flavor=webhook.flavor, target=webhook.target,
                consecutive_failures=webhook.consecutive_failures)
    return body


@msg.doc(ModelgateWebhookCreate, MODELGATE)
@api_view(["POST"])
@transaction.atomic
def create_modelgate_webhook(request):
    data = msg.parse(request, ModelgateWebhookCreate)
    common = dict(
        flavor=Webhook.MODELGATE, events=data["events"], model_name=data["model_name"], name=data["name"],
        description=data["description"], status=data["status"],
    )
    if bool(data.get("http_url_spec")) == bool(data.get("jenkins_spec")):
        raise InvalidParameterValue("Give exactly one of http_url_spec or jenkins_spec.")
    if data.get("jenkins_spec"):
        spec = data["jenkins_spec"]
        webhook = actions.webhook_create(
            Ctx.from_request(request), target=Webhook.JENKINS, url=spec["base_url"], jenkins_job=spec["job"],
            jenkins_user=spec["user"], jenkins_token=spec["api_token"], jenkins_password=spec["password"],
            enable_ssl_verification=spec["enable_ssl_verification"], secret=data["secret"], **common,
        )
    else:
        spec = data["http_url_spec"]
        webhook = actions.webhook_create(
            Ctx.from_request(request), url=spec["url"], secret=spec.get("secret") or data["secret"],
            authorization=spec.get("authorization", ""),
            enable_ssl_verification=spec.get("enable_ssl_verification", True), **common,
        )
    return Response({"webhook": modelgate_webhook_json(webhook)})


@msg.doc(None, MODELGATE, method="GET")
@api_view(["GET"])
def list_modelgate_webhooks(request):
    webhooks = selectors.manageable_webhooks(request.user).order_by("created_at", "id")
    return Response({"webhooks": [modelgate_webhook_json(w) for w in webhooks]})


class DeliveryList(serializers.Serializer):
    webhook_id = serializers.CharField(required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(required=False, allow_blank=True, default="",
                                     choices=["", "PENDING", "IN_FLIGHT", "DELIVERED", "FAILED", "DEAD"])
    event = serializers.CharField(required=False, allow_blank=True, default="")
    max_results = serializers.IntegerField(required=False, default=100)
    page_token = serializers.CharField(required=False, allow_blank=True, default="")


class DeliveryRef(serializers.Serializer):
    id = serializers.CharField()


class Redeliver(serializers.Serializer):
    webhook_id = serializers.CharField()
    delivery_id = serializers.CharField(required=False, allow_blank=True, default="")


def delivery_json(delivery, viewer, *, attempts=None):
    """A delivery from selectors.deliveries as `viewer` may see it: errors and answers of an
    internal destination only for registry admins (selectors.outcome_for)."""
    _, last_error, _ = selectors.outcome_for(
        viewer, internal=delivery.internal_destination, body="", error=delivery.last_error
    )
    body = {
        "id": delivery.id, "webhook_id": delivery.webhook_id, "event": delivery.event,
        "event_id": delivery.event_id, "activity_seq": delivery.activity_seq, "status": delivery.status,
        "is_test": delivery.is_test, "attempts": delivery.attempts,
        "next_attempt_time": to_millis(delivery.next_attempt_at) if delivery.status == "PENDING" else None,
        "creation_time": to_millis(delivery.created_at), "finish_time": to_millis(delivery.finished_at),
        "last_error": last_error,
        # Why it waited for the sweeper instead of going at once (the broker was down).
        "handoff_error": delivery.handoff_error,
    }
    if delivery.jenkins_queue_url:
        body["jenkins"] = {"queue_url": delivery.jenkins_queue_url, "build_url": delivery.jenkins_build_url,
                           "build_number": delivery.jenkins_build_number, "result": delivery.jenkins_result}
    if attempts is not None:
        body["payload"] = bytes(delivery.payload).decode()
        body["attempt_log"] = [attempt_json(a, viewer) for a in attempts]
    return body


def attempt_json(attempt, viewer):
    excerpt, error, latency = selectors.outcome_for(
        viewer, internal=attempt.internal_destination, body=attempt.response_excerpt, error=attempt.error,
        latency_ms=attempt.latency_ms,
    )
    return {"number": attempt.number, "time": to_millis(attempt.started_at), "status_code": attempt.status_code,
            "latency_ms": latency, "response_excerpt": excerpt, "error": error}


@msg.doc(DeliveryList, MODELGATE, method="GET")
@api_view(["GET"])
def list_deliveries(request):
    data = msg.parse(request, DeliveryList)
    qs = selectors.deliveries(request.user, webhook_id=data["webhook_id"], status=data["status"], event=data["event"])
    rows, token = page(qs, data["max_results"], data["page_token"], limit=1000)
    return Response(page_json("deliveries", rows, token, lambda d: delivery_json(d, request.user)))


@msg.doc(DeliveryRef, MODELGATE, method="GET")
@api_view(["GET"])
def get_delivery(request):
    data = msg.parse(request, DeliveryRef)
    delivery = selectors.delivery_get(request.user, data["id"])
    return Response({"delivery": delivery_json(delivery, request.user, attempts=list(delivery.attempt_log.all()))})


@msg.doc(Redeliver, MODELGATE)
@api_view(["POST"])
def redeliver(request):
    data = msg.parse(request, Redeliver)
    ids = actions.deliveries_redeliver(
        Ctx.from_request(request), webhook_id=data["webhook_id"], delivery_id=data["delivery_id"] or None
    )
    return Response({"delivery_ids": ids})
