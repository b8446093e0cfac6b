"""The action contract (tests/contract.py) for notifications/actions.py: each choice a person
makes is one activity handed to the outbox; a refused one, or one whose activity cannot be
handed on, leaves nothing behind."""

import pytest

from audit import events
from notifications import actions
from notifications.models import Email, Notice, Preference, Subscription
from registry import actions as registry_actions
from tests.contract import (
    Case,
    assert_every_public_function_has_a_case,
    assert_failure_changes_nothing,
    assert_writes_exactly_one_activity,
)
from tests.registry.state import snapshot as registry_snapshot
from webhooks.actions import webhook_create

TABLES = (Preference, Subscription, Notice, Email)


def snapshot():
    state = registry_snapshot()
    for table in TABLES:
        state[table._meta.db_table] = list(table.objects.order_by("pk").values())
    return state


CASES = [
    Case("notification_settings_set", events.NOTIFICATION_SETTINGS_CHANGED,
         lambda ctx, w: actions.notification_settings_set(ctx, delivery="digest"),
         lambda ctx, w: actions.notification_settings_set(ctx, delivery="hourly")),
    Case("model_subscription_set", events.MODEL_SUBSCRIPTION_CHANGED,
         lambda ctx, w: actions.model_subscription_set(ctx, name="fraud", state="mute"),
         lambda ctx, w: actions.model_subscription_set(ctx, name="secret", state="follow")),
]


@pytest.fixture
def world(ctx_for, owner, reviewer, admin_user, grant, settings):
    """fraud, which reviewer may read and follows; `secret`, which reviewer may not read (no
    default level); and a registry-wide webhook on every event, so each activity makes one
    delivery."""
    settings.MODELGATE_DEFAULT_LEVEL = "NONE"
    fraud = registry_actions.model_create(ctx_for(owner), name="fraud")
    registry_actions.model_create(ctx_for(owner), name="secret")
    grant(fraud, reviewer, level="CAN_READ")
    actions.model_subscription_set(ctx_for(reviewer), name="fraud", state="follow")
    webhook_create(ctx_for(admin_user), flavor="modelgate", events=sorted(events.ALL),
                   url="https://hooks.example.com/modelgate")


@pytest.fixture
def ctx_of(ctx_for, reviewer):
    return lambda case: ctx_for(reviewer)


def test_every_public_notification_action_has_a_contract_case():
    assert_every_public_function_has_a_case(actions, CASES)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_successful_notification_action_writes_exactly_one_activity(case, world, ctx_of):
    assert_writes_exactly_one_activity(case, ctx_of(case), world)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_failed_notification_action_changes_nothing(case, world, ctx_of, failing_subscriber):
    assert_failure_changes_nothing(case, ctx_of(case), world, failing_subscriber, snapshot)


def test_choosing_what_is_already_chosen_records_nothing(ctx_for, reviewer, world):
    from tests.conftest import last_seq

    seq = last_seq()
    actions.notification_settings_set(ctx_for(reviewer), delivery="immediate")
    actions.model_subscription_set(ctx_for(reviewer), name="fraud", state="follow")
    assert last_seq() == seq


def test_a_service_account_has_no_notification_choices(ctx_for, ci_bot, world):
    from audit.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        actions.notification_settings_set(ctx_for(ci_bot), delivery="off")
    assert not Preference.objects.filter(user=ci_bot).exists()
