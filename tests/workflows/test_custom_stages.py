"""Governance of custom stages: transition requests into them under a stage policy of their own
(quorum, checks, requests required), driven by databricks-sdk against a live Modelgate, and
a stage that requests or policies name cannot be deleted."""

import pytest
from databricks.sdk.errors import PermissionDenied
from databricks.sdk.service import ml

from audit import events
from audit.ctx import Ctx
from audit.errors import InvalidParameterValue
from registry import actions as registry_actions
from registry.models import Stage
from tests.conftest import events_since, last_seq
from workflows import actions
from workflows.models import TransitionRequest

from .conftest import stage_of

pytestmark = pytest.mark.e2e


@pytest.fixture
def canary(ctx_for, admin_user, build, grant, make_user, reviewer):
    """Canary: active, at the production level. `fraud` v1 already in Canary, v2 in None;
    `reviewer` and `approver2` may manage Production versions."""
    registry_actions.stage_create(
        ctx_for(admin_user), name="Canary", required_level="CAN_MANAGE_PRODUCTION_VERSIONS", active=True,
    )
    model = build("fraud", stages=("Canary", "None"))
    second = make_user("approver2")
    grant(model, reviewer, second, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    return second


def test_an_approval_workflow_with_quorum_and_a_check_moves_a_version_into_a_custom_stage(
    canary, workspace_as, owner, reviewer, outsider, owner_ctx
):
    actions.stage_policy_set(
        owner_ctx, name="fraud", stage="canary", required_approvals=2, require_request=True,
        required_checks=["jenkins/validation"], archive_existing_on_approval=True,
    )
    # The policy asks for a request: the owner's direct move is refused.
    with pytest.raises(PermissionDenied, match="the Canary policy for 'fraud' requires an approved transition request"):
        workspace_as(owner).model_registry.transition_stage("fraud", "2", "Canary", archive_existing_versions=False)

    created = workspace_as(outsider).model_registry.create_transition_request("fraud", "2", "canary", comment="shadow ok")
    assert (created.request.to_stage, created.request.user_id) == ("Canary", "outsider")
    [listed] = workspace_as(reviewer).model_registry.list_transition_requests("fraud", "2")
    assert (listed.from_stage, listed.to_stage) == ("None", "Canary")

    seq = last_seq()
    workspace_as(reviewer).model_registry.approve_transition_request("fraud", "2", "Canary", archive_existing_versions=False)
    assert stage_of(2) == "None"  # one approval of two
    final = workspace_as(canary).model_registry
    with pytest.raises(Exception, match="jenkins/validation is missing"):
        final.approve_transition_request("fraud", "2", "Canary", archive_existing_versions=False)
    actions.check_report(Ctx.system(), name="fraud", version=2, check="jenkins/validation", status="success")
    approved = final.approve_transition_request("fraud", "2", "Canary", archive_existing_versions=False)

    assert approved.activity.activity_type == ml.ActivityType.APPROVED_REQUEST
    assert (approved.activity.from_stage, approved.activity.to_stage) == ("None", "Canary")
    # Canary is active and the policy archives on approval: v1 left it.
    assert (stage_of(1), stage_of(2)) == ("Archived", "Canary")
    assert workspace_as(reviewer).model_registry.get_model_version("fraud", "2").model_version.current_stage == "Canary"
    assert events_since(seq) == [
        events.TRANSITION_REQUEST_REVIEWED, events.CHECK_REPORTED, events.TRANSITION_REQUEST_APPROVED,
    ]


def test_a_production_level_custom_stage_keeps_the_requester_from_approving_by_default(canary, owner_ctx, ctx_for, reviewer):
    actions.transition_request_create(ctx_for(reviewer), name="fraud", version=2, stage="Canary")
    with pytest.raises(Exception, match="separation of duties|requested"):
        actions.transition_approve(ctx_for(reviewer), name="fraud", version=2, stage="Canary")
    assert stage_of(2) == "None"


def test_databricks_sdk_moves_a_version_into_a_custom_stage_and_the_wire_carries_its_name(
    canary, workspace_as, owner
):
    registry = workspace_as(owner).model_registry
    moved = registry.transition_stage("fraud", "2", "canary", archive_existing_versions=True)
    assert moved.model_version_databricks.current_stage == "Canary"
    assert stage_of(1) == "Archived"

    # Raw HTTP, as an SDK whose typed Stage enum has no member for it (<= 0.57) would send it:
    # both response keys carry the stage's defined spelling as a plain string.
    raw = workspace_as(owner).api_client.do(
        "POST", "/api/2.0/mlflow/databricks/model-versions/transition-stage",
        body={"name": "fraud", "version": "1", "stage": "CANARY", "archive_existing_versions": False},
    )
    assert raw["model_version_databricks"]["current_stage"] == "Canary"
    assert raw["model_version"]["current_stage"] == "Canary"
    latest = registry.get_latest_versions("fraud", stages=["Canary"])
    assert [(v.version, v.current_stage) for v in latest] == [("2", "Canary")]


def test_a_custom_stage_that_a_pending_request_or_a_policy_names_cannot_be_deleted(canary, ctx_for, admin_user, outsider, owner_ctx):
    admin = ctx_for(admin_user)
    registry_actions.stage_create(admin, name="Shadow", required_level="CAN_MANAGE_STAGING_VERSIONS")
    actions.transition_request_create(ctx_for(outsider), name="fraud", version=2, stage="Shadow")
    with pytest.raises(InvalidParameterValue, match="1 pending transition request"):
        registry_actions.stage_delete(admin, name="Shadow")

    actions.transition_request_cancel(ctx_for(outsider), name="fraud", version=2, stage="Shadow", creator="outsider")
    actions.stage_policy_set(ctx_for(admin_user), stage="Shadow", required_approvals=2)
    with pytest.raises(InvalidParameterValue, match="polic"):
        registry_actions.stage_delete(admin, name="Shadow")

    actions.stage_policy_delete(ctx_for(admin_user), stage="Shadow")
    registry_actions.stage_delete(admin, name="Shadow")
    assert list(Stage.objects.values_list("name", flat=True)) == ["Canary"]
    assert TransitionRequest.objects.filter(to_stage="Shadow").count() == 1  # the cancelled one stays


def test_stage_policies_govern_custom_stages_but_not_none_or_archived(canary, owner_ctx):
    assert actions.stage_policy_set(owner_ctx, name="fraud", stage="CANARY", required_approvals=3).stage == "Canary"
    for stage in ("None", "Archived"):
        with pytest.raises(InvalidParameterValue, match="Stage policies apply to Staging, Production, Canary."):
            actions.stage_policy_set(owner_ctx, name="fraud", stage=stage)
