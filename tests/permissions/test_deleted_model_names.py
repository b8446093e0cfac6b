"""A deleted model's name stays claimed (issue 11, finding 8a). Consumers keep loading
`models:/prodm@champion` after prodm is deleted; if anyone could re-create prodm, register
their own artifact and set champion, those consumers would load it. So re-creating (or
renaming a model onto) a deleted name needs CAN_MANAGE on the deleted model as it was when it
was deleted (the users and teams that held it then) or a registry admin."""

import pytest
from django.contrib.auth.models import Group

from audit import events
from audit.models import Activity
from registry.models import RegisteredModel
from tests.conftest import assert_error, events_since, last_seq
from tests.registry.state import snapshot

SOURCE = "s3://bucket/prodm/1"


@pytest.fixture
def deleted_prodm(build, owner, ctx_for):
    """prodm, with v1 as champion, deleted by its owner. Returns the deleted model's id."""
    from registry import actions

    model = build("prodm", aliases={"champion": 1})
    actions.model_delete(ctx_for(owner), name="prodm")
    return model.uid


def test_someone_else_cannot_recreate_a_deleted_models_name(deleted_prodm, outsider, api_as):
    api = api_as(outsider)
    before = snapshot()

    response = api.post("registered-models/create", name="prodm")

    assert_error(response, 403, "PERMISSION_DENIED", "was deleted")
    assert "CAN_MANAGE" in response.json_body["message"]
    assert snapshot() == before


def test_so_nobody_else_can_take_over_the_champion_alias_of_a_deleted_name(deleted_prodm, outsider, api_as):
    api = api_as(outsider)

    api.post("registered-models/create", name="prodm")
    created = api.post("model-versions/create", name="prodm", source="s3://evil/backdoor")
    aliased = api.post("registered-models/alias", name="prodm", alias="champion", version="1")

    assert (created.status_code, aliased.status_code) == (404, 404)
    assert not RegisteredModel.objects.filter(name="prodm").exists()


def test_a_user_who_could_only_edit_the_deleted_model_cannot_recreate_it(
    no_default_level, build, grant, owner, reviewer, ctx_for, api_as
):
    from registry import actions

    model = build("prodm")
    grant(model, reviewer, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    actions.model_delete(ctx_for(owner), name="prodm")

    response = api_as(reviewer).post("registered-models/create", name="prodm")

    assert_error(response, 403, "PERMISSION_DENIED", "was deleted")


def test_its_manager_recreates_it_and_the_activity_records_the_cleared_tombstone(deleted_prodm, owner, api_as):
    api = api_as(owner)
    seq = last_seq()

    response = api.post("registered-models/create", name="prodm")

    assert response.status_code == 200, response.json_body
    assert events_since(seq) == [events.MODEL_CREATED]
    activity = Activity.objects.get(seq__gt=seq)
    assert activity.before["tombstone"]["uid"] == deleted_prodm
    assert isinstance(activity.before["tombstone"]["deleted_at"], int)


def test_once_recreated_and_deleted_again_the_name_is_claimed_by_the_new_managers(
    deleted_prodm, owner, reviewer, outsider, api_as, ctx_for
):
    from registry import actions

    actions.model_create(ctx_for(owner), name="prodm")
    actions.model_permissions_change(
        ctx_for(owner), uid=RegisteredModel.objects.get(name="prodm").uid,
        access_control_list=[{"user_name": "reviewer", "permission_level": "CAN_MANAGE"}], replace=False,
    )
    actions.model_delete(ctx_for(owner), name="prodm")

    assert api_as(outsider).post("registered-models/create", name="prodm").status_code == 403
    assert api_as(reviewer).post("registered-models/create", name="prodm").status_code == 200


def test_a_member_of_a_team_that_managed_the_deleted_model_can_recreate_it(
    no_default_level, build, grant, owner, reviewer, ctx_for, api_as
):
    from registry import actions

    team = Group.objects.create(name="ml-platform")
    reviewer.groups.add(team)
    model = build("prodm")
    grant(model, team, level="CAN_MANAGE")
    actions.model_delete(ctx_for(owner), name="prodm")

    response = api_as(reviewer).post("registered-models/create", name="prodm")

    assert response.status_code == 200, response.json_body


def test_a_registry_wide_manager_at_deletion_time_can_recreate_it(
    no_default_level, build, grant_root, owner, reviewer, ctx_for, api_as
):
    from registry import actions

    grant_root(reviewer, "CAN_MANAGE")
    build("prodm")
    actions.model_delete(ctx_for(owner), name="prodm")

    assert api_as(reviewer).post("registered-models/create", name="prodm").status_code == 200


def test_a_manage_grant_given_after_the_deletion_does_not_count(
    no_default_level, build, grant_root, owner, reviewer, ctx_for, api_as
):
    from registry import actions

    build("prodm")
    actions.model_delete(ctx_for(owner), name="prodm")
    grant_root(reviewer, "CAN_MANAGE")

    assert_error(api_as(reviewer).post("registered-models/create", name="prodm"), 403, "PERMISSION_DENIED")


def test_a_registry_admin_can_recreate_a_deleted_name(deleted_prodm, admin_user, api_as):
    assert api_as(admin_user).post("registered-models/create", name="prodm").status_code == 200


def test_renaming_a_model_onto_a_deleted_name_needs_the_same_right(deleted_prodm, outsider, api_as):
    api = api_as(outsider)
    api.post("registered-models/create", name="mine")
    before = snapshot()

    response = api.post("registered-models/rename", name="mine", new_name="prodm")

    assert_error(response, 403, "PERMISSION_DENIED", "was deleted")
    assert snapshot() == before


def test_the_deleted_models_manager_may_rename_onto_its_name_and_that_clears_the_tombstone(
    deleted_prodm, owner, api_as
):
    api = api_as(owner)
    api.post("registered-models/create", name="prodm-next")
    seq = last_seq()

    response = api.post("registered-models/rename", name="prodm-next", new_name="prodm")

    assert response.status_code == 200, response.json_body
    assert Activity.objects.get(seq__gt=seq).before["tombstone"]["uid"] == deleted_prodm


def test_other_names_are_free_as_before(deleted_prodm, outsider, api_as):
    assert api_as(outsider).post("registered-models/create", name="prodm2").status_code == 200


def test_a_name_renamed_away_stays_claimed_like_a_deleted_one(build, owner, outsider, ctx_for, api_as):
    # Consumers of models:/prodm@champion keep asking for prodm after it became prodm-v2.
    build("prodm", aliases={"champion": 1})
    owners = api_as(owner)
    assert owners.post("registered-models/rename", name="prodm", new_name="prodm-v2").status_code == 200
    others = api_as(outsider)
    before = snapshot()

    assert_error(others.post("registered-models/create", name="prodm"), 403, "PERMISSION_DENIED", "was deleted")
    assert snapshot() == before

    # Its manager may take it back, e.g. by renaming back.
    assert owners.post("registered-models/rename", name="prodm-v2", new_name="prodm").status_code == 200
    assert RegisteredModel.objects.filter(name="prodm").exists()
