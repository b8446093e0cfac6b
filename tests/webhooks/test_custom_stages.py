"""Webhooks for custom stages, through a real Celery worker to a real receiver: Databricks'
MODEL_VERSION_TRANSITIONED_STAGE and TRANSITION_REQUEST_CREATED carry the custom stage (it
has no stage-specific event), and Modelgate webhooks get the moves and the stage definitions."""

import pytest

from audit import events
from registry import actions as registry_actions
from webhooks.models import Delivery

from .conftest import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STAGE_EVENTS = [
    "MODEL_VERSION_TRANSITIONED_STAGE", "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION",
    "TRANSITION_REQUEST_CREATED", "TRANSITION_REQUEST_TO_PRODUCTION_CREATED",
]


def test_webhooks_fire_for_a_request_an_approval_and_a_direct_move_into_a_custom_stage(
    worker, make_receiver, secret, make_model, webhook_for, promote, ctx_for, admin_user, owner
):
    databricks, modelgate = make_receiver(secret), make_receiver(secret)
    make_model("fraud", versions=2)
    webhook_for(databricks.url, STAGE_EVENTS, model="fraud", secret=secret)
    webhook_for(modelgate.url, [events.STAGE_CREATED, events.VERSION_STAGE_TRANSITIONED],
                flavor="modelgate", secret=secret)

    registry_actions.stage_create(ctx_for(admin_user), name="Canary", required_level="CAN_MANAGE_PRODUCTION_VERSIONS",
                                  active=True)
    promote("fraud", 1, stage="canary", comment="canary ok")
    registry_actions.version_transition(ctx_for(owner), name="fraud", version=2, stage="CANARY",
                                        archive_existing_versions=True)

    posts = databricks.wait_for(3)
    bodies = sorted((p.json() for p in posts), key=lambda b: b["event_timestamp"])
    assert [(b["event"], b["version"], b["from_stage"], b["to_stage"]) for b in bodies] == [
        ("TRANSITION_REQUEST_CREATED", "1", "None", "Canary"),
        ("MODEL_VERSION_TRANSITIONED_STAGE", "1", "None", "Canary"),
        ("MODEL_VERSION_TRANSITIONED_STAGE", "2", "None", "Canary"),
    ]
    assert bodies[1]["text"] == "Registered model 'fraud' version 1 transitioned from None to Canary."
    assert all(p.verified == {"standard": True, "databricks": True} for p in posts)

    [created, approved, moved] = sorted((p.json() for p in modelgate.wait_for(3)),
                                        key=lambda b: b["data"]["activity_seq"])
    assert (created["type"], created["data"]["after"]["name"], created["data"]["model_name"]) == (
        events.STAGE_CREATED, "Canary", None,
    )
    assert (approved["type"], approved["data"]["event"]) == (events.VERSION_STAGE_TRANSITIONED, events.TRANSITION_REQUEST_APPROVED)
    assert approved["data"]["after"]["to_stage"] == "Canary"
    assert (moved["type"], moved["data"]["after"]) == (
        events.VERSION_STAGE_TRANSITIONED, {"stage": "Canary", "archived_versions": [1]},
    )
    wait_until(lambda: Delivery.objects.filter(status=Delivery.DELIVERED).count() == 6, what="six deliveries")
