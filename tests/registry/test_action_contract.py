"""The action contract (tests/contract.py) for registry/actions.py: a successful call writes
exactly one activity, with its event, and hands it to the webhook outbox; a call that fails,
be it refused or unable to record its activity, leaves no domain, activity or delivery row
behind.

Every public action needs a case below: a new action without one fails
test_every_public_action_has_a_contract_case.
"""

import pytest

from audit import events
from audit.ctx import Ctx
from registry import actions
from tests.contract import (
    Case,
    assert_every_public_function_has_a_case,
    assert_failure_changes_nothing,
    assert_writes_exactly_one_activity,
)
from tests.registry.state import snapshot
from webhooks.actions import webhook_create

MV = "s3://bucket/fraud/3"
EDIT_FOR_REVIEWER = [{"user_name": "reviewer", "permission_level": "CAN_EDIT"}]

CASES = [
    Case(
        "model_create", events.MODEL_CREATED,
        lambda ctx, world: actions.model_create(
            ctx, name="churn", description="d", tags=[{"key": "team", "value": "growth"}]
        ),
        lambda ctx, world: actions.model_create(ctx, name="fraud"),
    ),
    Case(
        # `legacy` was deleted by its owner: re-creating it removes its tombstone.
        "model_create", events.MODEL_CREATED,
        lambda ctx, world: actions.model_create(ctx, name="legacy"),
        lambda ctx, world: actions.model_create(ctx, name="legacy", tags=[{"key": " padded"}]),
    ),
    Case(
        "model_update", events.MODEL_UPDATED,
        lambda ctx, world: actions.model_update(ctx, name="fraud", description="new"),
        lambda ctx, world: actions.model_update(ctx, name="nope", description="new"),
    ),
    Case(
        "model_rename", events.MODEL_RENAMED,
        lambda ctx, world: actions.model_rename(ctx, name="fraud", new_name="fraud-v2"),
        lambda ctx, world: actions.model_rename(ctx, name="fraud", new_name="fraud:v2"),
    ),
    Case(
        "model_delete", events.MODEL_DELETED,
        lambda ctx, world: actions.model_delete(ctx, name="fraud"),
        lambda ctx, world: actions.model_delete(ctx, name="nope"),
    ),
    Case(
        "model_tag_set", events.MODEL_TAG_SET,
        lambda ctx, world: actions.model_tag_set(ctx, name="fraud", key="team", value="fraud-ops"),
        lambda ctx, world: actions.model_tag_set(ctx, name="fraud", key="", value="x"),
    ),
    Case(
        "model_tag_delete", events.MODEL_TAG_DELETED,
        lambda ctx, world: actions.model_tag_delete(ctx, name="fraud", key="team"),
        lambda ctx, world: actions.model_tag_delete(ctx, name="nope", key="team"),
    ),
    Case(
        "version_create", events.VERSION_CREATED,
        lambda ctx, world: actions.version_create(
            ctx, name="fraud", source=MV, tags=[{"key": "k", "value": "v"}]
        ),
        lambda ctx, world: actions.version_create(ctx, name="fraud", source="/local/path"),
    ),
    Case(
        # Version 3 (a runs:/ source, a tracking server configured) is resolving.
        "version_lineage_record", events.VERSION_LINEAGE_RESOLVED,
        lambda ctx, world: actions.version_lineage_record(
            ctx, version_id=world.versions.get(version=3).pk, run_id="0a1b2c", experiment_id="7",
            run_link="https://tracking.example.com/#/experiments/7/runs/0a1b2c",
        ),
        lambda ctx, world: actions.version_lineage_record(ctx, version_id=0, run_id="0a1b2c"),
        actor="system",
    ),
    Case(
        "version_lineage_record", events.VERSION_LINEAGE_UNAVAILABLE,
        lambda ctx, world: actions.version_lineage_record(
            ctx, version_id=world.versions.get(version=3).pk, reason="run 0a1b2c is not on the tracking server",
        ),
        lambda ctx, world: actions.version_lineage_record(ctx, version_id=0, reason="gone"),
        actor="system",
    ),
    Case(
        "version_update", events.VERSION_UPDATED,
        lambda ctx, world: actions.version_update(ctx, name="fraud", version="1", description="new"),
        lambda ctx, world: actions.version_update(ctx, name="fraud", version="9", description="new"),
    ),
    Case(
        # Version 1 carries the alias `champion`: the delete removes it too.
        "version_delete", events.VERSION_DELETED,
        lambda ctx, world: actions.version_delete(ctx, name="fraud", version="1"),
        lambda ctx, world: actions.version_delete(ctx, name="fraud", version="abc"),
    ),
    Case(
        "version_tag_set", events.VERSION_TAG_SET,
        lambda ctx, world: actions.version_tag_set(ctx, name="fraud", version="2", key="k", value="v"),
        lambda ctx, world: actions.version_tag_set(ctx, name="fraud", version="9", key="k", value="v"),
    ),
    Case(
        "version_tag_delete", events.VERSION_TAG_DELETED,
        lambda ctx, world: actions.version_tag_delete(ctx, name="fraud", version="1", key="validated"),
        lambda ctx, world: actions.version_tag_delete(ctx, name="fraud", version="9", key="validated"),
    ),
    Case(
        # Version 1 is in Production: archiving it is part of the same change.
        "version_transition", events.VERSION_STAGE_TRANSITIONED,
        lambda ctx, world: actions.version_transition(
            ctx, name="fraud", version="2", stage="Production", archive_existing_versions=True
        ),
        lambda ctx, world: actions.version_transition(
            ctx, name="fraud", version="2", stage="Archived", archive_existing_versions=True
        ),
    ),
    Case(
        "alias_set", events.ALIAS_CREATED,
        lambda ctx, world: actions.alias_set(ctx, name="fraud", alias="canary", version="2"),
        lambda ctx, world: actions.alias_set(ctx, name="fraud", alias="latest", version="2"),
    ),
    Case(
        "alias_set", events.ALIAS_MOVED,
        lambda ctx, world: actions.alias_set(ctx, name="fraud", alias="champion", version="2"),
        lambda ctx, world: actions.alias_set(ctx, name="fraud", alias="champion", version="9"),
    ),
    Case(
        "alias_delete", events.ALIAS_DELETED,
        lambda ctx, world: actions.alias_delete(ctx, name="fraud", alias="champion"),
        lambda ctx, world: actions.alias_delete(ctx, name="nope", alias="champion"),
    ),
    Case(
        "model_permissions_change", events.MODEL_PERMISSIONS_CHANGED,
        lambda ctx, world: actions.model_permissions_change(
            ctx, uid=world.uid, access_control_list=EDIT_FOR_REVIEWER, replace=False
        ),
        lambda ctx, world: actions.model_permissions_change(
            ctx, uid=world.uid,
            access_control_list=[{"user_name": "nobody", "permission_level": "CAN_EDIT"}],
            replace=True,
        ),
    ),
    Case(
        "registry_permissions_change", events.REGISTRY_PERMISSIONS_CHANGED,
        lambda ctx, world: actions.registry_permissions_change(
            ctx, access_control_list=EDIT_FOR_REVIEWER, replace=False
        ),
        lambda ctx, world: actions.registry_permissions_change(
            ctx, access_control_list=[{"user_name": "reviewer", "permission_level": "CAN_FLY"}],
            replace=True,
        ),
        actor="admin",
    ),
    Case(
        "stage_create", events.STAGE_CREATED,
        lambda ctx, world: actions.stage_create(
            ctx, name="Shadow", required_level="CAN_MANAGE_STAGING_VERSIONS", active=True
        ),
        lambda ctx, world: actions.stage_create(ctx, name="latest", required_level="CAN_MANAGE_STAGING_VERSIONS"),
        actor="admin",
    ),
    Case(
        "stage_delete", events.STAGE_DELETED,
        lambda ctx, world: actions.stage_delete(ctx, name="canary"),
        lambda ctx, world: actions.stage_delete(ctx, name="Staging"),
        actor="admin",
    ),
]


@pytest.fixture
def world(owner_ctx, ctx_for, admin_user, reviewer, settings):
    """fraud (tag team), v1 in Production with tag `validated` and alias `champion`, v2, v3
    from a run whose lineage is resolving; the deleted model `legacy`; the custom stage
    Canary, unused; and a
    registry-wide webhook subscribed to every event of the cases, so each activity makes a
    delivery."""
    model = actions.model_create(owner_ctx, name="fraud", tags=[{"key": "team", "value": "risk"}])
    actions.version_create(
        owner_ctx, name="fraud", source="s3://bucket/fraud/1",
        tags=[{"key": "validated", "value": "yes"}],
    )
    actions.version_create(owner_ctx, name="fraud", source="s3://bucket/fraud/2")
    actions.version_transition(owner_ctx, name="fraud", version="1", stage="Production")
    actions.alias_set(owner_ctx, name="fraud", alias="champion", version="1")
    settings.MODELGATE_TRACKING_URI = "https://tracking.example.com"
    actions.version_create(owner_ctx, name="fraud", source="runs:/0a1b2c/model")
    actions.model_create(owner_ctx, name="legacy")
    actions.model_delete(owner_ctx, name="legacy")
    actions.stage_create(ctx_for(admin_user), name="Canary", required_level="CAN_MANAGE_PRODUCTION_VERSIONS")
    webhook_create(
        ctx_for(admin_user), flavor="modelgate", events=sorted({case.event for case in CASES}),
        url="https://hooks.example.com/modelgate",
    )
    return model


@pytest.fixture
def ctx_of(ctx_for, owner, admin_user):
    users = {"owner": owner, "admin": admin_user}
    return lambda case: Ctx.system() if case.actor == "system" else ctx_for(users[case.actor])


def test_every_public_action_has_a_contract_case():
    assert_every_public_function_has_a_case(actions, CASES)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_successful_action_writes_exactly_one_activity_with_its_event(case, world, ctx_of):
    assert_writes_exactly_one_activity(case, ctx_of(case), world)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_failed_action_refused_or_unable_to_record_its_activity_changes_nothing(
    case, world, ctx_of, failing_subscriber
):
    assert_failure_changes_nothing(case, ctx_of(case), world, failing_subscriber, snapshot)
