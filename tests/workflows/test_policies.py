"""Stage policies decide what an approval needs: a quorum of distinct reviewers, separation of
duties, passing required checks, an approver team, and whether direct transitions are allowed
at all; on approval they may archive the previous version and move an alias. A model's own
policy overrides the registry-wide one; managing policies needs CAN_MANAGE (a model's) or a
registry admin (registry-wide), and every change is in the activity log."""

import pytest
from django.contrib.auth.models import Group
from mlflow.exceptions import MlflowException

from audit.ctx import Ctx
from audit.errors import PermissionDenied
from audit.models import Activity
from registry import actions as registry_actions
from registry.models import RegisteredModel, RegisteredModelAlias
from tests.conftest import events_since, last_seq
from workflows import actions, policies
from workflows.models import AliasPolicy, Review, StagePolicy, TransitionRequest

from .conftest import stage_of


def the_request(number=1, name="fraud"):
    return TransitionRequest.objects.get(model__name=name, version__version=number)


@pytest.fixture
def approvers(make_user, build, grant):
    """Three users holding CAN_MANAGE_PRODUCTION_VERSIONS on `fraud` (v1 and v2 in None)."""
    model = build("fraud", stages=("None", "None"))
    users = [make_user(f"approver{i}") for i in (1, 2, 3)]
    grant(model, *users, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    return users


@pytest.fixture
def request_production(ctx_for, outsider):
    """request_production(version) -> a request by `outsider` (CAN_READ) to move it to Production."""

    def make(version=1, name="fraud", stage="Production", by=None):
        return actions.transition_request_create(ctx_for(by or outsider), name=name, version=version, stage=stage)

    return make


def approve(ctx, version=1, name="fraud", stage="Production", **kwargs):
    return actions.transition_approve(ctx, name=name, version=version, stage=stage, **kwargs)


# Quorum ----------------------------------------------------------------------------------------


def test_with_a_quorum_of_two_one_approval_is_recorded_but_does_not_apply(
    approvers, owner_ctx, ctx_for, request_production
):
    actions.stage_policy_set(owner_ctx, name="fraud", stage="Production", required_approvals=2)
    request_production()

    first = approve(ctx_for(approvers[0]), comment="looks fine")
    assert (first.applied, first.request.status) == (False, TransitionRequest.PENDING)
    assert stage_of(1) == "None"
    assert first.activity.event == "transition_request.reviewed"
    assert (first.activity.after["approvals"], first.activity.after["required"]) == (1, 2)

    second = approve(ctx_for(approvers[1]))
    assert (second.applied, second.request.status) == (True, TransitionRequest.APPROVED)
    assert stage_of(1) == "Production"
    assert second.activity.after["approvals"] == 2
    assert sorted(Review.objects.values_list("reviewer__username", flat=True)) == ["approver1", "approver2"]


def test_the_same_reviewer_approving_twice_counts_once_and_gets_a_conflict(
    approvers, owner_ctx, request_production, api_as
):
    actions.stage_policy_set(owner_ctx, name="fraud", stage="Production", required_approvals=2)
    request_production()
    api = api_as(approvers[0])
    body = {"name": "fraud", "version": "1", "stage": "Production", "archive_existing_versions": False}
    assert api.post("transition-requests/approve", **body).status_code == 200
    seq = last_seq()

    again = api.post("transition-requests/approve", **body)

    assert again.status_code == 409
    assert again.json_body["error_code"] == "RESOURCE_CONFLICT"
    assert "already reviewed" in again.json_body["message"]
    assert Review.objects.count() == 1
    assert (the_request().status, stage_of(1)) == (TransitionRequest.PENDING, "None")
    assert events_since(seq) == []


# Separation of duties --------------------------------------------------------------------------


def test_a_requester_may_not_approve_their_own_production_request_by_default(build, owner_ctx, owner):
    build("fraud")
    actions.transition_request_create(owner_ctx, name="fraud", version=1, stage="Production")
    seq = last_seq()

    with pytest.raises(PermissionDenied, match="separation of duties"):
        approve(owner_ctx)

    assert (the_request().status, stage_of(1)) == (TransitionRequest.PENDING, "None")
    assert not Review.objects.exists()
    assert events_since(seq) == []


def test_a_requester_may_approve_their_own_staging_request_by_default(build, owner_ctx):
    build("fraud")
    actions.transition_request_create(owner_ctx, name="fraud", version=1, stage="Staging")

    outcome = approve(owner_ctx, stage="Staging")

    assert outcome.applied and stage_of(1) == "Staging"


# Required checks -------------------------------------------------------------------------------


def test_a_missing_or_failed_required_check_blocks_the_final_approval_until_a_success_is_reported(
    approvers, owner_ctx, ctx_for, request_production, api_as
):
    actions.stage_policy_set(
        owner_ctx, name="fraud", stage="Production", required_approvals=2,
        required_checks=["jenkins/validation"],
    )
    jenkins = Ctx.system()  # jenkins/* checks come from the Jenkins integration only
    request_production()
    approve(ctx_for(approvers[0]))  # short of quorum: recorded whatever the checks say
    final = api_as(approvers[1])
    body = {"name": "fraud", "version": "1", "stage": "Production", "archive_existing_versions": "true"}

    missing = final.post("transition-requests/approve", **body)
    assert missing.status_code == 409
    assert missing.json_body["error_code"] == "RESOURCE_CONFLICT"
    assert "jenkins/validation is missing" in missing.json_body["message"]

    actions.check_report(jenkins, name="fraud", version=1, check="jenkins/validation", status="failure")
    failed = final.post("transition-requests/approve", **body)
    assert failed.status_code == 409
    assert "jenkins/validation is failure" in failed.json_body["message"]
    # Refused approvals are not counted; the earlier one still is.
    assert list(Review.objects.values_list("reviewer__username", flat=True)) == ["approver1"]
    assert (the_request().status, stage_of(1)) == (TransitionRequest.PENDING, "None")

    actions.check_report(jenkins, name="fraud", version=1, check="jenkins/validation", status="success")
    passed = final.post("transition-requests/approve", **body)
    assert passed.status_code == 200, passed.json_body
    assert passed.json_body["activity"]["activity_type"] == "APPROVED_REQUEST"
    assert (the_request().status, stage_of(1)) == (TransitionRequest.APPROVED, "Production")


# Requests required -----------------------------------------------------------------------------


def test_a_direct_transition_is_refused_where_the_policy_requires_a_request(
    build, owner_ctx, api, request_production, ctx_for, reviewer, grant
):
    model = build("fraud", stages=("None", "None"))
    grant(model, reviewer, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    actions.stage_policy_set(owner_ctx, name="fraud", stage="Production", require_request=True)
    seq = last_seq()

    # Even the owner (CAN_MANAGE) must go through a request, on every path.
    with pytest.raises(PermissionDenied, match="requires an approved transition request"):
        registry_actions.version_transition(owner_ctx, name="fraud", version=1, stage="Production")
    for path in ("model-versions/transition-stage", "databricks/model-versions/transition-stage"):
        refused = api.post(path, name="fraud", version="1", stage="Production", archive_existing_versions=False)
        assert refused.status_code == 403
        assert refused.json_body["error_code"] == "PERMISSION_DENIED"
        assert "transition-requests/create" in refused.json_body["message"]
    assert stage_of(1) == "None"
    assert events_since(seq) == []

    # Other stages are not governed by it, and the request route works.
    registry_actions.version_transition(owner_ctx, name="fraud", version=2, stage="Staging")
    request_production()
    assert approve(ctx_for(reviewer)).applied
    assert stage_of(1) == "Production"


@pytest.mark.e2e
@pytest.mark.filterwarnings("ignore:.*[Ss]tage.*:FutureWarning")
def test_the_real_mlflow_client_is_refused_a_direct_transition_with_a_message_saying_a_request_is_needed(
    build, owner_ctx, owner, mlflow_as
):
    build("fraud")
    actions.stage_policy_set(owner_ctx, name="fraud", stage="Production", require_request=True)
    client = mlflow_as(owner)

    with pytest.raises(MlflowException) as refused:
        client.transition_model_version_stage("fraud", "1", "Production")

    assert refused.value.error_code == "PERMISSION_DENIED"
    assert "requires an approved transition request" in refused.value.message
    assert client.get_model_version("fraud", "1").current_stage == "None"
    # The unrestricted stage still moves directly.
    assert client.transition_model_version_stage("fraud", "1", "Staging").current_stage == "Staging"


# What an approval applies ----------------------------------------------------------------------


def test_an_approval_archives_the_previous_production_version_and_moves_the_champion_alias(
    build, owner_ctx, ctx_for, reviewer, grant, request_production
):
    model = build("fraud", stages=("Production", "None"), aliases={"champion": 1})
    grant(model, reviewer, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    actions.stage_policy_set(
        owner_ctx, name="fraud", stage="Production", archive_existing_on_approval=True,
        move_alias_on_approval="champion",
    )
    request_production(version=2)

    # The caller did not ask to archive; the policy does.
    outcome = approve(ctx_for(reviewer), version=2, archive_existing_versions=False)

    assert (stage_of(1), stage_of(2)) == ("Archived", "Production")
    assert RegisteredModelAlias.objects.get(model=model, alias="champion").version.version == 2
    assert outcome.activity.after["archived_versions"] == [1]
    assert outcome.activity.after["alias_moved"] == {"alias": "champion", "from_version": 1, "to_version": 2}


def test_without_archiving_the_previous_production_version_stays(
    build, ctx_for, reviewer, grant, request_production
):
    model = build("fraud", stages=("Production", "None"))
    grant(model, reviewer, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    request_production(version=2)

    approve(ctx_for(reviewer), version=2, archive_existing_versions=False)

    assert (stage_of(1), stage_of(2)) == ("Production", "Production")
    assert not RegisteredModelAlias.objects.exists()


# Who may approve -------------------------------------------------------------------------------


def test_approver_team_members_may_approve_without_the_level(
    build, admin_user, ctx_for, make_user, request_production
):
    build("fraud")
    team = Group.objects.create(name="release-managers")
    member, stranger = make_user("release-manager"), make_user("stranger")
    member.groups.add(team)
    actions.stage_policy_set(ctx_for(admin_user), stage="Production", approver_team=team)
    request_production()

    with pytest.raises(PermissionDenied, match="CAN_MANAGE_PRODUCTION_VERSIONS or membership of team 'release-managers'"):
        approve(ctx_for(stranger))
    assert stage_of(1) == "None"

    assert approve(ctx_for(member)).applied  # member holds only CAN_READ
    assert stage_of(1) == "Production"


def test_a_reviewer_below_the_stage_moves_level_may_not_approve_it(
    build, grant, ctx_for, make_user, request_production
):
    model = build("fraud")
    staging_manager = make_user("staging-manager")
    grant(model, staging_manager, level="CAN_MANAGE_STAGING_VERSIONS")
    request_production()
    request_production(stage="Staging")

    with pytest.raises(PermissionDenied, match="requires CAN_MANAGE_PRODUCTION_VERSIONS"):
        approve(ctx_for(staging_manager))
    assert approve(ctx_for(staging_manager), stage="Staging").applied


def test_a_registry_admin_may_give_one_model_a_policy_below_the_registry_wide_one(
    build, admin_user, owner_ctx, ctx_for, reviewer, grant, request_production
):
    for name in ("fraud", "churn"):
        grant(build(name), reviewer, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    actions.stage_policy_set(ctx_for(admin_user), stage="Production", required_approvals=2)
    actions.stage_policy_set(ctx_for(admin_user), name="fraud", stage="Production", required_approvals=1)
    request_production(name="fraud")
    request_production(name="churn")

    assert approve(ctx_for(reviewer), name="fraud").applied
    assert not approve(ctx_for(reviewer), name="churn").applied  # the registry-wide quorum of 2
    assert (stage_of(1, "fraud"), stage_of(1, "churn")) == ("Production", "None")

    # Deleting the model's policy (a registry admin's, so an admin deletes it) puts it back
    # under the registry-wide one.
    with pytest.raises(PermissionDenied, match="a registry admin set"):
        actions.stage_policy_delete(owner_ctx, name="fraud", stage="Production")
    actions.stage_policy_delete(ctx_for(admin_user), name="fraud", stage="Production")
    fraud = RegisteredModel.objects.get(name="fraud")
    assert policies.stage_policy(fraud, "Production").required_approvals == 2


# The registry-wide policy is a floor -------------------------------------------------------------


def test_a_models_owner_cannot_set_a_production_policy_weaker_than_the_registry_wide_one(
    build, admin_user, ctx_for, owner, modelgate_as, api
):
    build("fraud")
    Group.objects.create(name="friends-of-owner")
    actions.stage_policy_set(
        ctx_for(admin_user), stage="Production", required_approvals=2, separation_of_duties=True,
        require_request=True, required_checks=["ci/validate"],
    )
    seq = last_seq()

    weak = modelgate_as(owner).post(
        "policies/stage/set", name="fraud", stage="Production", required_approvals=1,
        separation_of_duties=False, require_request=False, required_checks=[], approver_team="friends-of-owner",
    )

    assert weak.status_code == 403 and weak.json_body["error_code"] == "PERMISSION_DENIED"
    message = weak.json_body["message"]
    for weakened in ("required_approvals 1 < 2", "separation_of_duties off", "require_request off",
                     "required_checks without ci/validate", "approver_team 'friends-of-owner'",
                     "registry-wide Production policy", "needs a registry admin"):
        assert weakened in message, message
    assert not StagePolicy.objects.filter(model__name="fraud").exists()
    assert events_since(seq) == []
    # ... so she cannot move straight to Production either.
    moved = api.post("model-versions/transition-stage", name="fraud", version="1", stage="Production",
                     archive_existing_versions=False)
    assert moved.status_code == 403 and stage_of(1) == "None"


def test_a_models_own_policy_adds_to_the_registry_wide_one_and_review_uses_both(
    approvers, admin_user, ctx_for, owner, modelgate_as, request_production, api_as
):
    admin = ctx_for(admin_user)
    actions.stage_policy_set(admin, stage="Production", required_approvals=2, required_checks=["ci/validate"])
    added = modelgate_as(owner).post(
        "policies/stage/set", name="fraud", stage="Production", required_approvals=2,
        required_checks=["ci/validate", "ci/fairness"],
    )
    assert added.status_code == 200, added.json_body
    # Later the registry raises its floor above the model's own policy: the stricter holds.
    actions.stage_policy_set(admin, stage="Production", required_approvals=3, required_checks=["ci/validate"])
    request_production()
    body = {"name": "fraud", "version": "1", "stage": "Production", "archive_existing_versions": False}

    for approver in approvers[:2]:
        reviewed = api_as(approver).post("transition-requests/approve", **body)
        assert reviewed.status_code == 200, reviewed.json_body
        assert reviewed.json_body["activity"]["event"] == "transition_request.reviewed"
    final = api_as(approvers[2]).post("transition-requests/approve", **body)

    assert final.status_code == 409
    assert "ci/fairness is missing" in final.json_body["message"]
    assert "ci/validate is missing" in final.json_body["message"]
    assert (the_request().status, stage_of(1)) == (TransitionRequest.PENDING, "None")


def test_a_models_owner_cannot_lower_the_champion_alias_policys_level(
    build, admin_user, ctx_for, owner, modelgate_as
):
    build("fraud")
    build("churn")
    actions.alias_policy_set(ctx_for(admin_user), pattern="champion", required_level="CAN_MANAGE")
    actions.alias_policy_set(ctx_for(admin_user), name="churn", pattern="champion", required_level="CAN_MANAGE")
    api = modelgate_as(owner)
    seq = last_seq()

    # Below the registry-wide champion policy, on her own model.
    lowered = api.post("policies/alias/set", name="fraud", pattern="champion", required_level="CAN_EDIT")
    assert lowered.status_code == 403
    assert "required_level CAN_EDIT < CAN_MANAGE" in lowered.json_body["message"]
    # Below the model policy a registry admin set, and deleting that one.
    lowered = api.post("policies/alias/set", name="churn", pattern="champion", required_level="CAN_EDIT")
    assert lowered.status_code == 403
    assert "the policy a registry admin set for 'churn'" in lowered.json_body["message"]
    deleted = api.delete("policies/alias/delete", name="churn", pattern="champion")
    assert deleted.status_code == 403 and "requires a registry admin" in deleted.json_body["message"]
    assert events_since(seq) == []
    assert AliasPolicy.objects.get(model__name="churn").required_level == "CAN_MANAGE"

    # Adding to it is hers to do; taking the addition back again is not.
    assert api.post("policies/alias/set", name="churn", pattern="champion", required_approvals=2).status_code == 200
    assert api.post("policies/alias/set", name="churn", pattern="champion", required_approvals=1).status_code == 403
    added = api.post("policies/alias/set", name="fraud", pattern="champion", required_level="CAN_MANAGE",
                     required_approvals=2)
    assert added.status_code == 200, added.json_body
    assert events_since(seq) == ["alias_policy.changed", "alias_policy.changed"]


# Managing policies -----------------------------------------------------------------------------


def test_model_policies_need_can_manage_on_the_model_and_every_change_is_recorded(
    build, grant, reviewer, owner, api_as, modelgate_as
):
    grant(build("fraud"), reviewer, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    body = {"name": "fraud", "stage": "Production", "required_approvals": 2, "required_checks": ["jenkins/validation"]}
    seq = last_seq()

    denied = modelgate_as(reviewer).post("policies/stage/set", **body)
    assert denied.status_code == 403
    assert denied.json_body["error_code"] == "PERMISSION_DENIED"
    assert "requires CAN_MANAGE" in denied.json_body["message"]
    assert not StagePolicy.objects.exists() and events_since(seq) == []

    api = modelgate_as(owner)
    created = api.post("policies/stage/set", **body)
    assert created.status_code == 200, created.json_body
    assert created.json_body["stage_policy"]["required_approvals"] == 2
    changed = api.post("policies/stage/set", **{**body, "required_approvals": 3})
    assert changed.json_body["stage_policy"]["required_checks"] == ["jenkins/validation"]
    assert api.post("policies/alias/set", name="fraud", pattern="champion").status_code == 200
    assert api.delete("policies/stage/delete", name="fraud", stage="Production").status_code == 200

    rows = list(Activity.objects.filter(seq__gt=seq).exclude(event__startswith="api_token.").order_by("seq"))
    assert [(r.event, r.actor, r.target) for r in rows] == [
        ("stage_policy.changed", "owner", "Production"),
        ("stage_policy.changed", "owner", "Production"),
        ("alias_policy.changed", "owner", "champion"),
        ("stage_policy.changed", "owner", "Production"),
    ]
    assert (rows[0].before, rows[0].after["required_approvals"]) == (None, 2)
    assert (rows[1].before["required_approvals"], rows[1].after["required_approvals"]) == (2, 3)
    assert (rows[3].before["required_approvals"], rows[3].after) == (3, None)
    assert {r.model_name for r in rows} == {"fraud"}

    listed = modelgate_as(reviewer).get("policies/list", name="fraud").json_body
    assert listed["stage_policies"] == []
    assert [p["pattern"] for p in listed["alias_policies"]] == ["champion"]


def test_registry_wide_policies_need_a_registry_admin(build, owner, admin_user, modelgate_as):
    build("fraud")  # owner manages a model, which gives no say over the registry
    seq = last_seq()

    for path, body in (
        ("policies/stage/set", {"stage": "Production", "required_approvals": 2}),
        ("policies/alias/set", {"pattern": "champion"}),
    ):
        denied = modelgate_as(owner).post(path, **body)
        assert denied.status_code == 403
        assert "requires a registry admin" in denied.json_body["message"]
    assert events_since(seq) == []

    admin = modelgate_as(admin_user)
    assert admin.post("policies/stage/set", stage="production", required_approvals=2).status_code == 200
    assert admin.post("policies/alias/set", pattern="prod-*", required_level="can_manage").status_code == 200
    listed = modelgate_as(owner).get("policies/list").json_body
    assert [(p["model"], p["stage"], p["required_approvals"]) for p in listed["stage_policies"]] == [
        (None, "Production", 2)
    ]
    assert [(p["pattern"], p["required_level"]) for p in listed["alias_policies"]] == [("prod-*", "CAN_MANAGE")]
    rows = Activity.objects.filter(seq__gt=seq).exclude(event__startswith="api_token.").order_by("seq")
    assert [(r.event, r.actor, r.model_name) for r in rows] == [
        ("stage_policy.changed", "admin", ""), ("alias_policy.changed", "admin", ""),
    ]
