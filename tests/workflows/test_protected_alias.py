"""Protected aliases: an alias policy (e.g. on `champion`) means moving or deleting that alias
needs the policy's level; everyone else goes through an alias request that an eligible
reviewer approves. The real mlflow client is refused with a message naming the policy."""

import pytest
from mlflow.exceptions import MlflowException

from audit.errors import PermissionDenied
from registry.models import RegisteredModelAlias
from tests.conftest import events_since, last_seq
from workflows import actions
from workflows.models import TransitionRequest


def champion_version(name="fraud", alias="champion"):
    return RegisteredModelAlias.objects.get(model__name=name, alias=alias).version.version


@pytest.fixture
def editor(make_user):
    return make_user("editor")


@pytest.fixture
def fraud(build, grant, editor, reviewer, owner_ctx):
    """`fraud` v1, v2 with champion -> v1, protected by the model's alias policy on `champion`
    (default level CAN_MANAGE_PRODUCTION_VERSIONS). `editor` holds CAN_EDIT, `reviewer` the
    required level."""
    model = build("fraud", stages=("None", "None"), aliases={"champion": 1})
    grant(model, editor, level="CAN_EDIT")
    grant(model, reviewer, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    actions.alias_policy_set(owner_ctx, name="fraud", pattern="champion")
    return model


@pytest.mark.e2e
def test_a_can_edit_user_setting_a_protected_alias_with_the_mlflow_client_is_refused_naming_the_policy(
    fraud, editor, mlflow_as
):
    client = mlflow_as(editor)
    seq = last_seq()

    with pytest.raises(MlflowException) as refused:
        client.set_registered_model_alias("fraud", "champion", "2")

    assert refused.value.error_code == "PERMISSION_DENIED"
    message = refused.value.message
    assert "alias 'champion' on 'fraud' is protected by alias policy 'champion' (model)" in message
    assert "requires CAN_MANAGE_PRODUCTION_VERSIONS" in message
    assert "alias-requests/create" in message
    assert client.get_model_version_by_alias("fraud", "champion").version == "1"
    assert events_since(seq) == []
    # Aliases the policy does not match stay CAN_EDIT's to move.
    client.set_registered_model_alias("fraud", "challenger", "2")
    assert client.get_model_version_by_alias("fraud", "challenger").version == "2"


@pytest.mark.e2e
def test_a_can_edit_user_deleting_a_protected_alias_with_the_mlflow_client_is_refused(fraud, editor, mlflow_as):
    client = mlflow_as(editor)

    with pytest.raises(MlflowException) as refused:
        client.delete_registered_model_alias("fraud", "champion")

    assert refused.value.error_code == "PERMISSION_DENIED"
    assert "protected by alias policy 'champion'" in refused.value.message
    assert champion_version() == 1


@pytest.mark.e2e
def test_a_holder_of_the_required_level_moves_and_deletes_the_protected_alias(fraud, reviewer, mlflow_as):
    client = mlflow_as(reviewer)

    client.set_registered_model_alias("fraud", "champion", "2")
    assert client.get_model_version_by_alias("fraud", "champion").version == "2"
    client.delete_registered_model_alias("fraud", "champion")
    assert not RegisteredModelAlias.objects.filter(alias="champion").exists()


def test_an_alias_request_approved_by_an_eligible_reviewer_moves_the_alias_and_the_activity_shows_it(
    fraud, editor, reviewer, outsider, modelgate_as
):
    seq = last_seq()
    target = {"name": "fraud", "version": "2", "alias": "champion"}

    created = modelgate_as(editor).post("alias-requests/create", **target, comment="v2 wins the A/B test")
    assert created.status_code == 200, created.json_body
    request = created.json_body["request"]
    assert (request["alias"], request["user_id"], request["status"]) == ("champion", "editor", "PENDING")
    assert "to_stage" not in request
    listed = modelgate_as(outsider).get("alias-requests/list", name="fraud").json_body["requests"]
    assert [(r["alias"], r["user_id"]) for r in listed] == [("champion", "editor")]
    assert listed[0]["available_actions"] == []  # outsider: CAN_READ, not the requester

    # Reviewing needs the policy's level; CAN_READ and CAN_EDIT do not have it.
    for user in (outsider, editor):
        denied = modelgate_as(user).post("alias-requests/approve", **target)
        assert denied.status_code == 403
        assert "requires CAN_MANAGE_PRODUCTION_VERSIONS" in denied.json_body["message"]
    assert champion_version() == 1

    approved = modelgate_as(reviewer).post("alias-requests/approve", **target, comment="agreed")
    assert approved.status_code == 200, approved.json_body
    assert approved.json_body["activity"]["activity_type"] == "APPROVED_REQUEST"
    assert approved.json_body["activity"]["alias"] == "champion"
    assert champion_version() == 2
    assert TransitionRequest.objects.get().status == TransitionRequest.APPROVED
    assert modelgate_as(outsider).get("alias-requests/list", name="fraud").json_body["requests"] == []

    assert events_since(seq) == ["transition_request.created", "transition_request.approved"]
    feed = modelgate_as(outsider).get("activity/list", name="fraud", version="2").json_body["activities"]
    governance = [a for a in feed if a["event"].startswith("transition_request.")]
    assert [(a["activity_type"], a["user_id"], a.get("alias"), a["comment"]) for a in governance] == [
        ("REQUESTED_TRANSITION", "editor", "champion", "v2 wins the A/B test"),
        ("APPROVED_REQUEST", "reviewer", "champion", "agreed"),
    ]
    # An alias request moves no stage, so its activities name no target stage.
    assert all("to_stage" not in a for a in governance)


def test_the_requester_of_an_alias_request_may_not_approve_it_under_separation_of_duties(
    fraud, reviewer, ctx_for, grant, make_user
):
    actions.transition_request_create(ctx_for(reviewer), name="fraud", version=2, alias="champion")

    with pytest.raises(PermissionDenied, match="separation of duties"):
        actions.transition_approve(ctx_for(reviewer), name="fraud", version=2, alias="champion")

    second = make_user("second-approver")
    grant(fraud, second, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    assert actions.transition_approve(ctx_for(second), name="fraud", version=2, alias="champion").applied
    assert champion_version() == 2


def test_a_registry_wide_alias_policy_protects_matching_aliases_on_every_model(
    build, grant, reviewer, owner, admin_user, ctx_for, api_as
):
    grant(build("fraud", stages=("None",)), reviewer, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    actions.alias_policy_set(ctx_for(admin_user), pattern="prod-*", required_level="CAN_MANAGE")

    refused = api_as(reviewer).post("registered-models/alias", name="fraud", alias="prod-eu", version="1")
    assert refused.status_code == 403
    assert "protected by alias policy 'prod-*' (registry-wide)" in refused.json_body["message"]
    assert "requires CAN_MANAGE" in refused.json_body["message"]
    assert not RegisteredModelAlias.objects.exists()

    # Names the pattern does not match are CAN_EDIT's; the creator (CAN_MANAGE) holds the level.
    assert api_as(reviewer).post("registered-models/alias", name="fraud", alias="staging-eu", version="1").status_code == 200
    assert api_as(owner).post("registered-models/alias", name="fraud", alias="prod-eu", version="1").status_code == 200
    assert sorted(RegisteredModelAlias.objects.values_list("alias", flat=True)) == ["prod-eu", "staging-eu"]
