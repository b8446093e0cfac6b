"""The action contract (tests/contract.py) for audit/actions.py: a checkpoint writes exactly one
activity (its own row, which it signs) and hands it to the outbox; one that cannot hand its
activity on leaves neither the row nor the checkpoint."""

import pytest

from audit import actions, events
from audit.ctx import Ctx
from audit.models import Checkpoint
from registry import actions as registry_actions
from tests.contract import (
    Case,
    assert_every_public_function_has_a_case,
    assert_failure_changes_nothing,
    assert_writes_exactly_one_activity,
)
from tests.registry.state import snapshot as registry_snapshot
from webhooks.actions import webhook_create

CASES = [
    # Nothing a caller supplies can refuse a checkpoint: the system takes it.
    Case("checkpoint_create", events.ACTIVITY_CHECKPOINTED,
         lambda ctx, w: actions.checkpoint_create(ctx), None, actor="system"),
]


def snapshot():
    state = registry_snapshot()
    state["audit_checkpoint"] = list(Checkpoint.objects.order_by("pk").values())
    return state


@pytest.fixture
def world(ctx_for, owner, admin_user, settings, tmp_path):
    settings.MODELGATE_ACTIVITY_CHECKPOINT_FILE = str(tmp_path / "checkpoints.jsonl")
    registry_actions.model_create(ctx_for(owner), name="fraud")
    webhook_create(ctx_for(admin_user), flavor="modelgate", events=sorted(events.ALL),
                   url="https://hooks.example.com/modelgate")


@pytest.fixture
def ctx_of():
    return lambda case: Ctx.system()


def test_every_public_audit_action_has_a_contract_case():
    assert_every_public_function_has_a_case(actions, CASES)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_successful_audit_action_writes_exactly_one_activity(case, world, ctx_of):
    assert_writes_exactly_one_activity(case, ctx_of(case), world)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_failed_audit_action_changes_nothing(case, world, ctx_of, failing_subscriber):
    assert_failure_changes_nothing(case, ctx_of(case), world, failing_subscriber, snapshot)
