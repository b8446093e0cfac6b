"""The action contract (ARCHITECTURE.md) for webhooks/actions.py: a successful call writes
exactly one activity with its event; a refused call, or one whose activity cannot be
recorded, leaves no webhook, delivery or activity row changed. A public action without a case
fails test_every_public_webhook_action_has_a_contract_case."""

import inspect
from dataclasses import dataclass
from typing import Callable

import pytest

from audit import events
from audit.activity import verify_chain
from audit.errors import RegistryError
from audit.models import Activity
from registry import actions as registry_actions
from tests.conftest import SubscriberDown, last_seq
from tests.registry.state import snapshot as registry_snapshot
from webhooks import actions
from webhooks.models import Attempt, Delivery, Webhook

# Port 9 (discard) on loopback is closed here: a send fails at once, without any network.
CLOSED = "http://127.0.0.1:9/hook"


def snapshot():
    state = registry_snapshot()
    for table in (Webhook, Attempt):
        state[table._meta.db_table] = list(table.objects.order_by("pk").values())
    state["deliveries"] = list(Delivery.objects.order_by("pk").values())
    return state


@dataclass(frozen=True)
class Case:
    action: str
    event: str
    call: Callable  # (ctx, world) -> succeeds
    refused: Callable  # (ctx, world) -> refused with a RegistryError

    def __str__(self):
        return self.action


CASES = [
    Case("webhook_create", events.WEBHOOK_CREATED,
         lambda ctx, w: actions.webhook_create(ctx, flavor="databricks", model_name="fraud",
                                               events=["MODEL_VERSION_CREATED"], url=CLOSED),
         lambda ctx, w: actions.webhook_create(ctx, flavor="databricks", model_name="fraud",
                                               events=["*"], url=CLOSED)),
    Case("webhook_update", events.WEBHOOK_UPDATED,
         lambda ctx, w: actions.webhook_update(ctx, webhook_id=w.pk, description="new"),
         lambda ctx, w: actions.webhook_update(ctx, webhook_id=w.pk, status="SOMETIMES")),
    Case("webhook_delete", events.WEBHOOK_DELETED,
         lambda ctx, w: actions.webhook_delete(ctx, webhook_id=w.pk),
         lambda ctx, w: actions.webhook_delete(ctx, webhook_id="nope")),
    Case("webhook_test", events.WEBHOOK_TESTED,
         lambda ctx, w: actions.webhook_test(ctx, webhook_id=w.pk, event="MODEL_VERSION_TAG_SET"),
         lambda ctx, w: actions.webhook_test(ctx, webhook_id=w.pk, event="COMMENT_CREATED")),
    Case("webhook_disable", events.WEBHOOK_DISABLED,
         lambda ctx, w: actions.webhook_disable(ctx, webhook=w, reason="a test"),
         None),
    Case("deliveries_redeliver", events.DELIVERIES_REDELIVERED,
         lambda ctx, w: actions.deliveries_redeliver(ctx, webhook_id=w.pk),
         lambda ctx, w: actions.deliveries_redeliver(ctx, webhook_id=w.pk, delivery_id="nope")),
]


@pytest.fixture
def world(ctx_for, owner, settings):
    """fraud with a model webhook (on version tags) that has one dead delivery."""
    settings.MODELGATE_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    ctx = ctx_for(owner)
    registry_actions.model_create(ctx, name="fraud")
    registry_actions.version_create(ctx, name="fraud", source="s3://b/1")
    webhook = actions.webhook_create(
        ctx, flavor="databricks", model_name="fraud", events=["MODEL_VERSION_TAG_SET"], url=CLOSED,
    )
    registry_actions.version_tag_set(ctx, name="fraud", version="1", key="k", value="v")
    Delivery.objects.filter(webhook=webhook).update(status=Delivery.DEAD)
    webhook.refresh_from_db()
    return webhook




def test_every_public_webhook_action_has_a_contract_case():
    public = {
        name for name, fn in inspect.getmembers(actions, inspect.isfunction)
        if fn.__module__ == actions.__name__ and not name.startswith("_")
        and name != "snapshot"  # renders a webhook for the log; writes nothing
    }
    assert public == {case.action for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_successful_webhook_action_writes_exactly_one_activity(case, world, ctx_for, owner):
    seq = last_seq()
    case.call(ctx_for(owner), world)
    (activity,) = Activity.objects.filter(seq__gt=seq)
    assert activity.event == case.event
    assert verify_chain().ok


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_failed_webhook_action_changes_nothing(case, world, ctx_for, owner, failing_subscriber):
    ctx = ctx_for(owner)
    before = snapshot()
    if case.refused is not None:
        with pytest.raises(RegistryError):
            case.refused(ctx, world)
        assert snapshot() == before
    if case.action == "webhook_test":
        # The test event is sent before its activity is recorded (no lock is held while a
        # receiver answers); what must not survive is the record of it.
        with pytest.raises(SubscriberDown):
            case.call(ctx, world)
        assert Activity.objects.count() == len(before["registry_activity"])
        return
    with pytest.raises(SubscriberDown):
        case.call(ctx, world)
    assert failing_subscriber == [case.event]
    assert snapshot() == before
