"""End to end: what the activity log records reaches a real receiver through a real Celery
worker on Redis, signed, once, in the subscriber's vocabulary (databricks-governance-api.md 3,
mlflow-registry-api.md 3, webhooks-jenkins-audit.md 3)."""

import time
from datetime import datetime

import pytest
from mlflow.entities.webhook import WebhookEvent

from registry import actions as registry_actions
from webhooks.models import Attempt, Delivery

from .conftest import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SWEEP_AND_MARGIN = 1.5  # one sweep of the beat (1 s in the worker) and some margin


def delivered(webhook):
    return wait_until(
        lambda: list(Delivery.objects.filter(webhook=webhook, status=Delivery.DELIVERED)),
        what=f"a delivered delivery of {webhook}",
    )


def test_an_approval_through_the_databricks_api_is_posted_once_signed_with_both_schemes(
    worker, receiver, secret, make_model, webhook_for, workspace_as, owner, reviewer
):
    make_model("fraud")
    hook = webhook_for(receiver.url, ["MODEL_VERSION_TRANSITIONED_TO_PRODUCTION"], model="fraud", secret=secret)

    workspace_as(owner).model_registry.create_transition_request("fraud", "1", "Production")
    workspace_as(reviewer).model_registry.approve_transition_request(
        "fraud", "1", "Production", False, comment="metrics hold"
    )

    [post] = receiver.wait_for(1)
    assert post.method == "POST"
    assert post.headers["content-type"] == "application/json"
    assert post.verified == {"standard": True, "databricks": True}
    assert post.answered == 200
    [delivery] = delivered(hook)
    body = post.json()
    assert post.body == bytes(delivery.payload)  # the frozen bytes are what was signed and sent
    assert post.event_id == delivery.event_id == body["event_id"]
    assert isinstance(body.pop("event_timestamp"), int)
    request_id = body.pop("request_id")
    assert request_id.isdigit()
    assert body == {
        "event": "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION",
        "event_id": delivery.event_id,
        "webhook_id": hook.id,
        "model_name": "fraud",
        "version": "1",
        "from_stage": "None",
        "to_stage": "Production",
        "user_id": "reviewer",
        "comment": "metrics hold",
        "text": "Registered model 'fraud' version 1 transitioned from None to Production.",
    }
    assert delivery.event == "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION"
    assert delivery.attempts == 1
    assert [(a.number, a.status_code, a.error) for a in Attempt.objects.filter(delivery=delivery)] == [(1, 200, "")]
    # The request itself (TRANSITION_REQUEST_CREATED) was not subscribed; nothing else follows.
    time.sleep(SWEEP_AND_MARGIN)
    assert len(receiver.received()) == 1
    assert Delivery.objects.filter(webhook=hook).count() == 1


def test_an_mlflow_webhook_from_the_mlflow_client_posts_model_version_created_with_a_valid_mlflow_signature(
    worker, receiver, secret, mlflow_as, admin_user, owner
):
    created = mlflow_as(admin_user).create_webhook(
        name="registry-ci", url=receiver.url, events=["model_version.created"], secret=secret,
        description="CI on every new version",
    )
    assert created.events == [WebhookEvent("model_version", "created")]

    client = mlflow_as(owner)
    client.create_registered_model("churn")
    client.create_model_version("churn", "s3://bucket/churn/1")

    [post] = receiver.wait_for(1)
    assert post.verified == {"standard": True, "mlflow": True}
    assert post.headers["x-mlflow-delivery-id"] == post.event_id
    assert post.headers["x-mlflow-timestamp"] == post.headers["webhook-timestamp"]
    body = post.json()
    assert datetime.fromisoformat(body.pop("timestamp")).tzinfo is not None
    assert body == {
        "entity": "model_version",
        "action": "created",
        "data": {
            "name": "churn", "version": "1", "source": "s3://bucket/churn/1", "run_id": None,
            "tags": {}, "description": None,
        },
    }
    [delivery] = delivered(created.webhook_id)
    assert delivery.event == "model_version.created"
    # registered_model.created happened too, but this webhook did not subscribe to it.
    time.sleep(SWEEP_AND_MARGIN)
    assert len(receiver.received()) == 1


def test_test_mode_webhooks_fire_only_through_test_and_disabled_ones_never(
    worker, receiver, secret, make_model, webhook_for, api_as, ctx_for, owner, admin_user
):
    make_model("fraud")
    events = ["MODEL_VERSION_CREATED"]
    active = webhook_for(receiver.url_for("/active"), events, model="fraud", secret=secret)
    testing = webhook_for(receiver.url_for("/test-mode"), events, model="fraud", secret=secret, status="TEST_MODE")
    disabled = webhook_for(receiver.url_for("/disabled"), events, model="fraud", secret=secret, status="DISABLED")

    registry_actions.version_create(ctx_for(owner), name="fraud", source="s3://bucket/fraud/2")

    [post] = receiver.wait_for(1, path="/active")
    assert post.json()["event"] == "MODEL_VERSION_CREATED" and post.json()["version"] == "2"
    assert not Delivery.objects.filter(webhook__in=[testing, disabled]).exists()
    time.sleep(SWEEP_AND_MARGIN)
    assert receiver.received("/test-mode") == [] and receiver.received("/disabled") == []

    # A registry admin's test: the receiver is internal, and only admins see an internal answer.
    response = api_as(admin_user).post("registry-webhooks/test", id=testing.id, event="MODEL_VERSION_CREATED")
    assert response.status_code == 200, response.json_body
    assert (response.json_body["status_code"], response.json_body["body"]) == (200, "ok")
    [tested] = receiver.received("/test-mode")
    assert tested.verified == {"standard": True, "databricks": True}
    assert tested.json()["event"] == "MODEL_VERSION_CREATED"
    assert Delivery.objects.get(webhook=testing).is_test
    assert receiver.received("/disabled") == []
    assert len(receiver.received("/active")) == 1
    assert Delivery.objects.filter(webhook=active).count() == 1


def test_a_model_webhook_fires_only_for_its_model_while_a_registry_wide_one_fires_for_all(
    worker, receiver, secret, make_model, webhook_for, ctx_for, owner
):
    fraud, churn = make_model("fraud"), make_model("churn")
    fraud_hook = webhook_for(receiver.url_for("/fraud"), ["MODEL_VERSION_TAG_SET"], model="fraud", secret=secret)
    everywhere = webhook_for(receiver.url_for("/all"), ["MODEL_VERSION_TAG_SET"], secret=secret)

    ctx = ctx_for(owner)
    registry_actions.version_tag_set(ctx, name="churn", version=1, key="validated", value="yes")
    registry_actions.version_tag_set(ctx, name="fraud", version=1, key="validated", value="yes")

    wide = receiver.wait_for(2, path="/all")
    assert sorted(p.json()["model_name"] for p in wide) == ["churn", "fraud"]
    [scoped] = receiver.wait_for(1, path="/fraud")
    assert scoped.json()["model_name"] == "fraud"
    assert scoped.json()["tags"] == [{"key": "validated", "value": "yes"}]
    assert scoped.verified == {"standard": True, "databricks": True}
    assert list(Delivery.objects.filter(webhook=fraud_hook).values_list("model_uid", flat=True)) == [fraud.uid]
    assert sorted(Delivery.objects.filter(webhook=everywhere).values_list("model_uid", flat=True)) == sorted(
        [fraud.uid, churn.uid]
    )
    time.sleep(SWEEP_AND_MARGIN)
    assert len(receiver.received("/fraud")) == 1 and len(receiver.received("/all")) == 2


def test_subscribing_to_a_stage_and_its_production_variant_gives_one_delivery_named_to_production(
    worker, receiver, secret, make_model, webhook_for, promote
):
    make_model("fraud", versions=2)
    hook = webhook_for(
        receiver.url, ["MODEL_VERSION_TRANSITIONED_STAGE", "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION"],
        model="fraud", secret=secret,
    )

    promote("fraud", 1, stage="Production")
    [post] = receiver.wait_for(1)
    assert post.json()["event"] == "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION"
    time.sleep(SWEEP_AND_MARGIN)
    assert len(receiver.received()) == 1
    assert list(Delivery.objects.filter(webhook=hook).values_list("event", flat=True)) == [
        "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION"
    ]

    # A move to another stage has only the general event to match.
    promote("fraud", 2, stage="Staging")
    _, staging = receiver.wait_for(2)
    assert (staging.json()["event"], staging.json()["to_stage"]) == ("MODEL_VERSION_TRANSITIONED_STAGE", "Staging")


def test_a_model_webhook_gets_its_models_deletion_then_retires_keeping_its_log_and_never_fires_again(
    worker, receiver, secret, make_model, webhook_for, api_as, ctx_for, owner, admin_user
):
    fraud, _ = make_model("fraud"), make_model("churn")
    events = ["registered_model.deleted", "model_version_tag.set", "model_version.created"]
    modelgate = webhook_for(receiver.url_for("/modelgate"), events, model="fraud", flavor="modelgate", secret=secret)
    databricks = webhook_for(receiver.url_for("/databricks"), ["registered_model.deleted", "MODEL_VERSION_TAG_SET"],
                             model="fraud", secret=secret)
    ctx = ctx_for(owner)
    registry_actions.version_tag_set(ctx, name="fraud", version=1, key="validated", value="yes")
    receiver.wait_for(1, path="/modelgate")

    response = api_as(owner).delete("registered-models/delete", name="fraud")
    assert response.status_code == 200, response.json_body

    _, deleted = receiver.wait_for(2, path="/modelgate")
    assert (deleted.json()["type"], deleted.json()["data"]["model_id"]) == ("registered_model.deleted", fraud.uid)
    assert deleted.verified == {"standard": True}
    _, deleted_databricks = receiver.wait_for(2, path="/databricks")
    assert (deleted_databricks.json()["event"], deleted_databricks.json()["model_name"]) == (
        "registered_model.deleted", "fraud",
    )
    # Both webhooks outlive the model, retired, with their delivery log.
    for hook in (modelgate, databricks):
        hook.refresh_from_db()
        assert (hook.status, hook.model_id) == ("RETIRED", None)
    logged = [("model_version_tag.set", "DELIVERED"), ("registered_model.deleted", "DELIVERED")]
    wait_until(
        lambda: list(Delivery.objects.filter(webhook=modelgate).order_by("activity_seq")
                     .values_list("event", "status")) == logged,
        what="both deliveries of the retired webhook to be logged as delivered",
    )

    # A new model of the same name, and every other model, are nothing to them.
    assert api_as(owner).post("registered-models/create", name="fraud").status_code == 200
    registry_actions.version_create(ctx, name="fraud", source="s3://bucket/fraud/1")
    registry_actions.version_tag_set(ctx, name="fraud", version=1, key="validated", value="again")
    registry_actions.version_tag_set(ctx, name="churn", version=1, key="validated", value="yes")
    time.sleep(SWEEP_AND_MARGIN)
    assert len(receiver.received("/modelgate")) == 2 and len(receiver.received("/databricks")) == 2
    assert Delivery.objects.filter(webhook__in=[modelgate, databricks]).count() == 4

    # They are gone from the webhook APIs (not registry-wide ones now), and cannot come back.
    admin = api_as(admin_user)
    assert admin.get("registry-webhooks/list").json_body["webhooks"] == []
    assert api_as(admin_user, prefix="/api/2.0/modelgate/").get("webhooks/list").json_body["webhooks"] == []
    response = admin.patch("registry-webhooks/update", id=databricks.id, status="ACTIVE")
    assert response.status_code == 404 and response.json_body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    # Their delivery log stays readable to registry admins.
    logged = api_as(admin_user, prefix="/api/2.0/modelgate/").get("deliveries/list", webhook_id=modelgate.id)
    assert [d["event"] for d in logged.json_body["deliveries"]] == ["registered_model.deleted", "model_version_tag.set"]
