"""The action contract (tests/contract.py) for workflows/actions.py: a successful call writes
exactly one activity with its event and hands it to the outbox; a refused call, or one whose
activity cannot be recorded, leaves no domain, activity or delivery row behind. A public
action without a case fails test_every_public_workflow_action_has_a_contract_case."""

import pytest

from audit import events
from registry import actions as registry_actions
from tests.contract import (
    Case,
    assert_every_public_function_has_a_case,
    assert_failure_changes_nothing,
    assert_writes_exactly_one_activity,
)
from tests.registry.state import snapshot as registry_snapshot
from webhooks.actions import webhook_create
from workflows import actions
from workflows.models import AliasPolicy, Check, Comment, Review, StagePolicy, TransitionRequest

WORKFLOW_TABLES = (TransitionRequest, Review, StagePolicy, AliasPolicy, Check, Comment)


def snapshot():
    state = registry_snapshot()
    for table in WORKFLOW_TABLES:
        state[table._meta.db_table] = list(table.objects.order_by("pk").values())
    return state


CASES = [
    Case("transition_request_create", events.TRANSITION_REQUEST_CREATED,
         lambda ctx, w: actions.transition_request_create(ctx, name="fraud", version="2", stage="Staging"),
         lambda ctx, w: actions.transition_request_create(ctx, name="fraud", version="2", stage="Production")),
    Case("transition_approve", events.TRANSITION_REQUEST_APPROVED,
         lambda ctx, w: actions.transition_approve(ctx, name="fraud", version="2", stage="Production"),
         lambda ctx, w: actions.transition_approve(ctx, name="fraud", version="2", stage="Staging"),
         actor="reviewer"),
    Case("transition_reject", events.TRANSITION_REQUEST_REJECTED,
         lambda ctx, w: actions.transition_reject(ctx, name="fraud", version="2", stage="Production"),
         lambda ctx, w: actions.transition_reject(ctx, name="fraud", version="9", stage="Production"),
         actor="reviewer"),
    Case("transition_request_cancel", events.TRANSITION_REQUEST_CANCELLED,
         lambda ctx, w: actions.transition_request_cancel(ctx, name="fraud", version="2", stage="Production", creator="owner"),
         lambda ctx, w: actions.transition_request_cancel(ctx, name="fraud", version="2", stage="Production", creator="nobody")),
    Case("transition_request_close_stale", events.TRANSITION_REQUEST_CLOSED,
         lambda ctx, w: actions.transition_request_close_stale(
             ctx, request_id=TransitionRequest.objects.get(to_stage="Archived").pk),
         lambda ctx, w: actions.transition_request_close_stale(ctx, request_id=999999)),
    Case("comment_create", events.COMMENT_CREATED,
         lambda ctx, w: actions.comment_create(ctx, name="fraud", version="1", comment="looks fine"),
         lambda ctx, w: actions.comment_create(ctx, name="fraud", version="1", comment="")),
    Case("comment_update", events.COMMENT_UPDATED,
         lambda ctx, w: actions.comment_update(ctx, comment_id=Comment.objects.get().pk, comment="edited"),
         lambda ctx, w: actions.comment_update(ctx, comment_id="abc", comment="edited")),
    Case("comment_delete", events.COMMENT_DELETED,
         lambda ctx, w: actions.comment_delete(ctx, comment_id=Comment.objects.get().pk),
         lambda ctx, w: actions.comment_delete(ctx, comment_id=999999)),
    Case("check_report", events.CHECK_REPORTED,
         lambda ctx, w: actions.check_report(ctx, name="fraud", version="2", check="ci/unit", status="success"),
         lambda ctx, w: actions.check_report(ctx, name="fraud", version="2", check="ci/unit", status="great"),
         actor="ci-bot"),
    Case("stage_policy_set", events.STAGE_POLICY_CHANGED,
         lambda ctx, w: actions.stage_policy_set(ctx, name="fraud", stage="Staging", required_approvals=2),
         lambda ctx, w: actions.stage_policy_set(ctx, name="fraud", stage="Archived", required_approvals=2)),
    Case("stage_policy_delete", events.STAGE_POLICY_CHANGED,
         lambda ctx, w: actions.stage_policy_delete(ctx, name="fraud", stage="Production"),
         lambda ctx, w: actions.stage_policy_delete(ctx, name="nope", stage="Production")),
    Case("alias_policy_set", events.ALIAS_POLICY_CHANGED,
         lambda ctx, w: actions.alias_policy_set(ctx, name="fraud", pattern="prod-*"),
         lambda ctx, w: actions.alias_policy_set(ctx, name="fraud", pattern="prod-*", required_level="GOD")),
    Case("alias_policy_delete", events.ALIAS_POLICY_CHANGED,
         lambda ctx, w: actions.alias_policy_delete(ctx, name="fraud", pattern="champion"),
         lambda ctx, w: actions.alias_policy_delete(ctx, name="nope", pattern="champion")),
]


@pytest.fixture
def world(ctx_for, owner, reviewer, ci_bot, admin_user):
    """fraud v1 (moved Production -> Staging, leaving a stale Archived request), v2 with a
    pending Production request by owner, a comment by owner, a Production policy and a
    champion alias policy; reviewer may approve, ci-bot (a service account) report checks;
    and a registry-wide webhook on every event, so each activity makes one delivery."""
    ctx = ctx_for(owner)
    model = registry_actions.model_create(ctx, name="fraud")
    registry_actions.version_create(ctx, name="fraud", source="s3://b/1")
    registry_actions.version_create(ctx, name="fraud", source="s3://b/2")
    registry_actions.version_transition(ctx, name="fraud", version="1", stage="Production")
    registry_actions.model_permissions_change(
        ctx, uid=model.uid, replace=False,
        access_control_list=[{"user_name": "reviewer", "permission_level": "CAN_MANAGE_PRODUCTION_VERSIONS"},
                             {"service_principal_name": "ci-bot", "permission_level": "CAN_EDIT"}],
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
def ctx_of(ctx_for, owner, reviewer, ci_bot):
    users = {"owner": owner, "reviewer": reviewer, "ci-bot": ci_bot}
    return lambda case: ctx_for(users[case.actor])




def test_every_public_workflow_action_has_a_contract_case():
    assert_every_public_function_has_a_case(actions, CASES)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_successful_workflow_action_writes_exactly_one_activity(case, world, ctx_of):
    assert_writes_exactly_one_activity(case, ctx_of(case), world)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_failed_workflow_action_changes_nothing(case, world, ctx_of, failing_subscriber):
    assert_failure_changes_nothing(case, ctx_of(case), world, failing_subscriber, snapshot)
