"""The action contract (ARCHITECTURE.md) for workflows/actions.py: a successful call writes
exactly one activity with its event and hands it to the outbox; a refused call, or one whose
activity cannot be recorded, leaves no domain, activity or delivery row behind. A public
action without a case fails test_every_public_workflow_action_has_a_contract_case."""

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
from webhooks.actions import webhook_create
from webhooks.models import Delivery
from workflows import actions
from workflows.models import AliasPolicy, Check, Comment, Review, StagePolicy, TransitionRequest

WORKFLOW_TABLES = (TransitionRequest, Review, StagePolicy, AliasPolicy, Check, Comment)


def snapshot():
    state = registry_snapshot()
    for table in WORKFLOW_TABLES:
        state[table._meta.db_table] = list(table.objects.order_by("pk").values())
    return state


@dataclass(frozen=True)
class Case:
    action: str
    event: str
    call: Callable  # (ctx) -> succeeds on the `world` fixture
    refused: Callable  # (ctx) -> refused with a RegistryError
    actor: str = "owner"

    def __str__(self):
        return f"{self.action}:{self.event}"


CASES = [
    Case("transition_request_create", events.TRANSITION_REQUEST_CREATED,
         lambda ctx: actions.transition_request_create(ctx, name="fraud", version="2", stage="Staging"),
         lambda ctx: actions.transition_request_create(ctx, name="fraud", version="2", stage="Production")),
    Case("transition_approve", events.TRANSITION_REQUEST_APPROVED,
         lambda ctx: actions.transition_approve(ctx, name="fraud", version="2", stage="Production"),
         lambda ctx: actions.transition_approve(ctx, name="fraud", version="2", stage="Staging"),
         actor="reviewer"),
    Case("transition_reject", events.TRANSITION_REQUEST_REJECTED,
         lambda ctx: actions.transition_reject(ctx, name="fraud", version="2", stage="Production"),
         lambda ctx: actions.transition_reject(ctx, name="fraud", version="9", stage="Production"),
         actor="reviewer"),
    Case("transition_request_cancel", events.TRANSITION_REQUEST_CANCELLED,
         lambda ctx: actions.transition_request_cancel(ctx, name="fraud", version="2", stage="Production", creator="owner"),
         lambda ctx: actions.transition_request_cancel(ctx, name="fraud", version="2", stage="Production", creator="nobody")),
    Case("transition_request_close_stale", events.TRANSITION_REQUEST_CLOSED,
         lambda ctx: actions.transition_request_close_stale(
             ctx, request_id=TransitionRequest.objects.get(to_stage="Archived").pk),
         lambda ctx: actions.transition_request_close_stale(ctx, request_id=999999)),
    Case("comment_create", events.COMMENT_CREATED,
         lambda ctx: actions.comment_create(ctx, name="fraud", version="1", comment="looks fine"),
         lambda ctx: actions.comment_create(ctx, name="fraud", version="1", comment="")),
    Case("comment_update", events.COMMENT_UPDATED,
         lambda ctx: actions.comment_update(ctx, comment_id=Comment.objects.get().pk, comment="edited"),
         lambda ctx: actions.comment_update(ctx, comment_id="abc", comment="edited")),
    Case("comment_delete", events.COMMENT_DELETED,
         lambda ctx: actions.comment_delete(ctx, comment_id=Comment.objects.get().pk),
         lambda ctx: actions.comment_delete(ctx, comment_id=999999)),
    Case("check_report", events.CHECK_REPORTED,
         lambda ctx: actions.check_report(ctx, name="fraud", version="2", check="ci/unit", status="success"),
         lambda ctx: actions.check_report(ctx, name="fraud", version="2", check="ci/unit", status="great")),
    Case("stage_policy_set", events.STAGE_POLICY_CHANGED,
         lambda ctx: actions.stage_policy_set(ctx, name="fraud", stage="Staging", required_approvals=2),
         lambda ctx: actions.stage_policy_set(ctx, name="fraud", stage="Archived", required_approvals=2)),
    Case("stage_policy_delete", events.STAGE_POLICY_CHANGED,
         lambda ctx: actions.stage_policy_delete(ctx, name="fraud", stage="Production"),
         lambda ctx: actions.stage_policy_delete(ctx, name="nope", stage="Production")),
    Case("alias_policy_set", events.ALIAS_POLICY_CHANGED,
         lambda ctx: actions.alias_policy_set(ctx, name="fraud", pattern="prod-*"),
         lambda ctx: actions.alias_policy_set(ctx, name="fraud", pattern="prod-*", required_level="GOD")),
    Case("alias_policy_delete", events.ALIAS_POLICY_CHANGED,
         lambda ctx: actions.alias_policy_delete(ctx, name="fraud", pattern="champion"),
         lambda ctx: actions.alias_policy_delete(ctx, name="nope", pattern="champion")),
]


@pytest.fixture
def world(ctx_for, owner, reviewer, admin_user):
    """fraud v1 (moved Production -> Staging, leaving a stale Archived request), v2 with a
    pending Production request by owner, a comment by owner, a Production policy and a
    champion alias policy; reviewer may approve; and a
    registry-wide webhook on every event, so each activity makes one delivery."""
    ctx = ctx_for(owner)
    model = registry_actions.model_create(ctx, name="fraud")
    registry_actions.version_create(ctx, name="fraud", source="s3://b/1")
    registry_actions.version_create(ctx, name="fraud", source="s3://b/2")
    registry_actions.version_transition(ctx, name="fraud", version="1", stage="Production")
    registry_actions.model_permissions_change(
        ctx, uid=model.uid, replace=False,
        access_control_list=[{"user_name": "reviewer", "permission_level": "CAN_MANAGE_PRODUCTION_VERSIONS"}],
    )
    actions.stage_policy_set(ctx, name="fraud", stage="Production", required_approvals=1)
    actions.alias_policy_set(ctx, name="fraud", pattern="champion")
    actions.transition_request_create(ctx, name="fraud", version="2", stage="Production")
    actions.comment_create(ctx, name="fraud", version="1", comment="first")
    # A request made stale: v1 was asked to go Production -> Archived, then moved to Staging.
    actions.transition_request_create(ctx, name="fraud", version="1", stage="Archived")
    registry_actions.version_transition(ctx, name="fraud", version="1", stage="Staging")
    webhook_create(
        ctx_for(admin_user), flavor="modelgate", events=sorted(events.ALL),
        url="https://hooks.example.com/modelgate",
    )
    return model


@pytest.fixture
def ctx_of(ctx_for, owner, reviewer):
    users = {"owner": owner, "reviewer": reviewer}
    return lambda case: ctx_for(users[case.actor])




def test_every_public_workflow_action_has_a_contract_case():
    public = {
        name for name, fn in inspect.getmembers(actions, inspect.isfunction)
        if fn.__module__ == actions.__name__ and not name.startswith("_")
        # renderers and a query, not writes
        and name not in {"stage_policy_json", "alias_policy_json", "stale_request_ids"}
    }
    assert public == {case.action for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_successful_workflow_action_writes_exactly_one_activity(case, world, ctx_of):
    ctx = ctx_of(case)
    seq = last_seq()
    case.call(ctx)
    (activity,) = Activity.objects.filter(seq__gt=seq)
    assert activity.event == case.event
    assert activity.actor == ctx.username
    assert verify_chain().ok
    assert Delivery.objects.filter(activity_seq=activity.seq).count() == 1


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_failed_workflow_action_changes_nothing(case, world, ctx_of, failing_subscriber):
    ctx = ctx_of(case)
    before = snapshot()
    with pytest.raises(RegistryError):
        case.refused(ctx)
    assert snapshot() == before
    with pytest.raises(SubscriberDown):
        case.call(ctx)
    assert failing_subscriber == [case.event]
    assert snapshot() == before
