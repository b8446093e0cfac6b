"""The action contract (tests/contract.py) for webhooks/actions.py: a successful call writes
exactly one activity with its event; a refused call, or one whose activity cannot be
recorded, leaves no webhook, delivery or activity row changed. A public action without a case
fails test_every_public_webhook_action_has_a_contract_case."""

import pytest

from audit import events
from audit.ctx import Ctx
from registry import actions as registry_actions
from tests.contract import (
    Case,
    assert_every_public_function_has_a_case,
    assert_failure_changes_nothing,
    assert_writes_exactly_one_activity,
)
from tests.registry.state import snapshot as registry_snapshot
from webhooks import actions
from webhooks.models import Attempt, Delivery, Webhook

# Port 9 (discard) on loopback is closed here: a send fails at once, without any network.
CLOSED = "http://127.0.0.1:9/hook"
PUBLIC = "https://hooks.example.com/fraud"  # never sent to: webhook_create only stores it


def snapshot():
    state = registry_snapshot()
    for table in (Webhook, Attempt):
        state[table._meta.db_table] = list(table.objects.order_by("pk").values())
    state["deliveries"] = list(Delivery.objects.order_by("pk").values())
    return state


CASES = [
    Case("webhook_create", events.WEBHOOK_CREATED,
         lambda ctx, w: actions.webhook_create(ctx, flavor="databricks", model_name="fraud",
                                               events=["MODEL_VERSION_CREATED"], url=PUBLIC),
         lambda ctx, w: actions.webhook_create(ctx, flavor="databricks", model_name="fraud",
                                               events=["*"], url=PUBLIC)),
    Case("webhook_update", events.WEBHOOK_UPDATED,
         lambda ctx, w: actions.webhook_update(ctx, webhook_id=w.pk, description="new"),
         lambda ctx, w: actions.webhook_update(ctx, webhook_id=w.pk, status="SOMETIMES")),
    Case("webhook_delete", events.WEBHOOK_DELETED,
         lambda ctx, w: actions.webhook_delete(ctx, webhook_id=w.pk),
         lambda ctx, w: actions.webhook_delete(ctx, webhook_id="nope")),
    Case("webhook_test", events.WEBHOOK_TESTED,
         lambda ctx, w: actions.webhook_test(ctx, webhook_id=w.pk, event="MODEL_VERSION_TAG_SET"),
         lambda ctx, w: actions.webhook_test(ctx, webhook_id=w.pk, event="COMMENT_CREATED"),
         sends_before_recording=True),
    Case("webhook_disable", events.WEBHOOK_DISABLED,
         lambda ctx, w: actions.webhook_disable(ctx, webhook=w, reason="a test"),
         None, actor="system"),
    Case("deliveries_redeliver", events.DELIVERIES_REDELIVERED,
         lambda ctx, w: actions.deliveries_redeliver(ctx, webhook_id=w.pk),
         lambda ctx, w: actions.deliveries_redeliver(ctx, webhook_id=w.pk, delivery_id="nope")),
]


@pytest.fixture
def world(ctx_for, owner, admin_user, settings):
    """fraud with a model webhook (on version tags) that has one dead delivery; a registry
    admin pointed it at loopback, an internal network (the owner could not)."""
    settings.MODELGATE_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    ctx = ctx_for(owner)
    registry_actions.model_create(ctx, name="fraud")
    registry_actions.version_create(ctx, name="fraud", source="s3://b/1")
    webhook = actions.webhook_create(
        ctx_for(admin_user), flavor="databricks", model_name="fraud", events=["MODEL_VERSION_TAG_SET"], url=CLOSED,
    )
    registry_actions.version_tag_set(ctx, name="fraud", version="1", key="k", value="v")
    Delivery.objects.filter(webhook=webhook).update(status=Delivery.DEAD)
    webhook.refresh_from_db()
    # A registry-wide webhook on every event, so each case's activity makes one delivery.
    actions.webhook_create(
        ctx_for(admin_user), flavor="modelgate", events=sorted(events.ALL),
        url="https://hooks.example.com/modelgate",
    )
    return webhook


@pytest.fixture
def ctx_of(ctx_for, owner):
    return lambda case: Ctx.system() if case.actor == "system" else ctx_for(owner)




def test_every_public_webhook_action_has_a_contract_case():
    assert_every_public_function_has_a_case(actions, CASES)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_successful_webhook_action_writes_exactly_one_activity(case, world, ctx_of):
    assert_writes_exactly_one_activity(case, ctx_of(case), world)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_failed_webhook_action_changes_nothing(case, world, ctx_of, failing_subscriber):
    assert_failure_changes_nothing(case, ctx_of(case), world, failing_subscriber, snapshot)
