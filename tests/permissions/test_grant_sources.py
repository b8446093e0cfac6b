"""Where a level comes from: a user's own grant, a team's (Django group) grant, a registry-wide
(root) grant, the default level, superuser. The highest of them wins; taking one away takes
effect on the next call."""

import pytest
from django.contrib.auth.models import Group

from accounts.levels import Level
from registry import actions
from registry.models import ModelVersion, RegisteredModel


@pytest.fixture
def team(reviewer):
    group = Group.objects.create(name="risk-team")
    reviewer.groups.add(group)
    return group


def error_of(response):
    return response.status_code, (response.json_body or {}).get("error_code")


def databricks_level(api, name):
    response = api.get("databricks/registered-models/get", name=name)
    assert response.status_code == 200, response.json_body
    return response.json_body["registered_model_databricks"]["permission_level"]


def test_a_team_grant_lets_its_members_add_versions(
    no_default_level, build, grant, team, reviewer, outsider, api_as
):
    model = build("fraud")
    grant(model, team, level="CAN_EDIT")

    member = api_as(reviewer)
    created = member.post("model-versions/create", name="fraud", source="s3://bucket/fraud/2")
    assert created.status_code == 200, created.json_body
    assert created.json_body["model_version"]["version"] == "2"
    assert databricks_level(member, "fraud") == "CAN_EDIT"
    # The team grant stops at CAN_EDIT...
    assert error_of(member.delete("model-versions/delete", name="fraud", version="1")) == (
        403, "PERMISSION_DENIED"
    )
    # ...and at the team: someone outside it cannot even see the model.
    assert error_of(api_as(outsider).post(
        "model-versions/create", name="fraud", source="s3://bucket/fraud/3"
    )) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert ModelVersion.objects.filter(model=model).count() == 2


def test_leaving_the_team_takes_its_grant_away(no_default_level, build, grant, team, reviewer, api_as):
    model = build("fraud")
    grant(model, team, level="CAN_EDIT")
    api = api_as(reviewer)
    assert api.get("registered-models/get", name="fraud").status_code == 200

    reviewer.groups.remove(team)

    assert error_of(api.get("registered-models/get", name="fraud")) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_a_registry_wide_grant_counts_on_every_model_even_new_ones(
    no_default_level, build, grant_root, reviewer, api_as
):
    grant_root(reviewer, "CAN_MANAGE_STAGING_VERSIONS")
    build("fraud")
    build("churn")  # created after the grant
    api = api_as(reviewer)

    for name in ("fraud", "churn"):
        moved = api.post("model-versions/transition-stage", name=name, version="1", stage="Staging")
        assert moved.status_code == 200, moved.json_body
        assert databricks_level(api, name) == "CAN_MANAGE_STAGING_VERSIONS"
        assert error_of(api.post(
            "model-versions/transition-stage", name=name, version="1", stage="Production"
        )) == (403, "PERMISSION_DENIED")


def test_a_registry_wide_team_grant_counts(no_default_level, build, grant_root, team, reviewer, api_as):
    grant_root(team, "CAN_EDIT")
    build("fraud")

    response = api_as(reviewer).post("registered-models/set-tag", name="fraud", key="k", value="v")

    assert response.status_code == 200, response.json_body


def test_the_highest_level_wins_own_read_and_team_manage_can_delete(
    no_default_level, build, grant, team, reviewer, api_as
):
    model = build("fraud")
    grant(model, reviewer, level="CAN_READ")
    grant(model, team, level="CAN_MANAGE")
    api = api_as(reviewer)
    assert databricks_level(api, "fraud") == "CAN_MANAGE"

    response = api.delete("registered-models/delete", name="fraud")

    assert response.status_code == 200, response.json_body
    assert not RegisteredModel.objects.filter(pk=model.pk).exists()


def test_the_highest_level_wins_root_read_and_own_manage_can_rename(
    no_default_level, build, grant, grant_root, reviewer, api_as
):
    model = build("fraud")
    grant_root(reviewer, "CAN_READ")
    grant(model, reviewer, level="CAN_MANAGE")

    response = api_as(reviewer).post("registered-models/rename", name="fraud", new_name="fraud-2")

    assert response.status_code == 200, response.json_body
    assert RegisteredModel.objects.get(pk=model.pk).name == "fraud-2"


def test_the_highest_level_wins_a_lower_own_grant_does_not_lower_a_root_grant(
    no_default_level, build, grant, grant_root, reviewer, api_as
):
    model = build("fraud")
    grant_root(reviewer, "CAN_MANAGE_PRODUCTION_VERSIONS")
    grant(model, reviewer, level="CAN_READ")
    api = api_as(reviewer)

    assert databricks_level(api, "fraud") == "CAN_MANAGE_PRODUCTION_VERSIONS"
    moved = api.post("model-versions/transition-stage", name="fraud", version="1", stage="Production")
    assert moved.status_code == 200, moved.json_body


def test_the_default_level_counts_and_a_grant_raises_it(settings, build, grant, reviewer, api_as):
    settings.MODELGATE_DEFAULT_LEVEL = "CAN_EDIT"
    model = build("fraud")
    api = api_as(reviewer)
    assert databricks_level(api, "fraud") == "CAN_EDIT"
    assert api.post("registered-models/set-tag", name="fraud", key="k", value="v").status_code == 200
    assert error_of(api.post("registered-models/rename", name="fraud", new_name="x")) == (
        403, "PERMISSION_DENIED"
    )

    grant(model, reviewer, level="CAN_MANAGE")

    assert api.post("registered-models/rename", name="fraud", new_name="x").status_code == 200


def test_a_service_principal_grant_lets_the_ci_bot_transition(
    no_default_level, build, grant, ci_bot, api_as
):
    model = build("fraud")
    grant(model, ci_bot, level="CAN_MANAGE_PRODUCTION_VERSIONS")

    response = api_as(ci_bot).post(
        "model-versions/transition-stage", name="fraud", version="1", stage="Production"
    )

    assert response.status_code == 200, response.json_body
    assert ModelVersion.objects.get(model=model, version=1).current_stage == "Production"


def test_superusers_manage_every_model_without_a_grant(no_default_level, build, admin_user, api_as):
    build("fraud")
    api = api_as(admin_user)

    assert databricks_level(api, "fraud") == Level.CAN_MANAGE.name
    assert api.delete("registered-models/delete", name="fraud").status_code == 200


def test_a_revoked_grant_takes_effect_on_the_next_call(
    no_default_level, build, grant, reviewer, owner, ctx_for, api_as
):
    model = build("fraud")
    grant(model, reviewer, level="CAN_EDIT")
    api = api_as(reviewer)
    assert api.post("registered-models/set-tag", name="fraud", key="k", value="1").status_code == 200

    actions.model_permissions_change(
        ctx_for(owner), uid=model.uid, replace=True,
        access_control_list=[{"user_name": "owner", "permission_level": "CAN_MANAGE"}],
    )

    assert error_of(api.post("registered-models/set-tag", name="fraud", key="k", value="2")) == (
        404, "RESOURCE_DOES_NOT_EXIST"
    )
