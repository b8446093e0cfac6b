"""Who may read the registry-wide ACL (`/api/2.0/permissions/registered-models/root`, issue
11 finding 9b): registry admins see every registry-wide grant and every admin; anyone else
sees only their own entry and their teams' (what makes up their own registry-wide level)."""

from django.contrib.auth.models import Group

ROOT = "permissions/registered-models/root"


def principals(body):
    return {e.get("user_name") or e.get("group_name") or e.get("service_principal_name"): sorted(
        p["permission_level"] for p in e["all_permissions"]) for e in body["access_control_list"]}


def test_a_registry_admin_reads_every_registry_wide_grant_and_admin(
    no_default_level, grant_root, admin_user, reviewer, ci_bot, api_as
):
    grant_root(reviewer, "CAN_MANAGE")
    grant_root(ci_bot, "CAN_READ")

    response = api_as(admin_user, prefix="/api/2.0/").get(ROOT)

    assert response.status_code == 200
    assert principals(response.json_body) == {
        "admin": ["CAN_MANAGE"], "reviewer": ["CAN_MANAGE"], "ci-bot": ["CAN_READ"],
    }


def test_anyone_else_reads_only_their_own_entry_and_their_teams(
    no_default_level, grant_root, admin_user, reviewer, outsider, ci_bot, api_as
):
    team = Group.objects.create(name="risk-team")
    reviewer.groups.add(team)
    grant_root(reviewer, "CAN_MANAGE")
    grant_root(team, "CAN_EDIT")
    grant_root(ci_bot, "CAN_READ")
    grant_root(outsider, "CAN_CREATE_REGISTERED_MODEL")

    as_reviewer = api_as(reviewer, prefix="/api/2.0/").get(ROOT)
    as_outsider = api_as(outsider, prefix="/api/2.0/").get(ROOT)

    assert as_reviewer.status_code == 200
    assert principals(as_reviewer.json_body) == {"reviewer": ["CAN_MANAGE"], "risk-team": ["CAN_EDIT"]}
    assert principals(as_outsider.json_body) == {"outsider": ["CAN_CREATE_REGISTERED_MODEL"]}
    assert "admin" not in as_outsider.content.decode()


def test_a_caller_without_registry_wide_grants_sees_an_empty_list(db, admin_user, outsider, api_as):
    response = api_as(outsider, prefix="/api/2.0/").get(ROOT)

    assert response.status_code == 200
    assert response.json_body["object_id"] == "/registered-models/"
    assert response.json_body["access_control_list"] == []
