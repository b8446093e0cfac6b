"""A model's "Access" page in the admin grants and revokes through the permissions action."""

from accounts import policies as access
from accounts.levels import Level
from audit.models import Activity
from registry import actions, permissions


def _grant_entries(model):
    return permissions.acl_snapshot(permissions.model_grants(model))


def test_a_manager_grants_and_revokes_a_level_on_the_access_page(client, owner, reviewer, ctx_for):
    model = actions.model_create(ctx_for(owner), name="fraud")
    owner.is_staff = True
    owner.save()
    client.force_login(owner)
    url = f"/admin/registry/registeredmodel/{model.pk}/access/"

    assert client.post(url, {"principal": "user:reviewer", "level": "CAN_EDIT"}).status_code == 302
    assert access.effective_level(reviewer, model) == Level.CAN_EDIT
    assert {"user_name": "reviewer", "permission_level": "CAN_EDIT"} in _grant_entries(model)

    assert client.post(url, {"principal": "user:reviewer", "level": "REVOKE"}).status_code == 302
    assert _grant_entries(model) == [{"user_name": "owner", "permission_level": "CAN_MANAGE"}]
    changes = Activity.objects.filter(event="registered_model_permissions.changed").order_by("seq")
    assert [(a.actor, a.via, a.target) for a in changes] == [("owner", "admin", "update"), ("owner", "admin", "replace")]


def test_a_staff_reader_cannot_grant_on_the_access_page(client, owner, reviewer, ctx_for):
    model = actions.model_create(ctx_for(owner), name="fraud")
    reviewer.is_staff = True
    reviewer.save()
    client.force_login(reviewer)

    response = client.post(f"/admin/registry/registeredmodel/{model.pk}/access/",
                           {"principal": "user:reviewer", "level": "CAN_MANAGE"})

    assert response.status_code == 200 and "requires CAN_MANAGE" in response.content.decode()
    assert access.effective_level(reviewer, model) == Level.CAN_READ
    assert not Activity.objects.filter(event="registered_model_permissions.changed").exists()
