"""Token changes are on the record: who created or revoked which token (by prefix), never
the secret."""

from accounts import actions
from audit import events
from audit.ctx import Ctx
from audit.models import Activity


def test_creating_a_token_records_its_prefix_but_never_the_secret(owner):
    token, raw = actions.token_create(Ctx(user=owner), user=owner, name="laptop")

    row = Activity.objects.get(event=events.TOKEN_CREATED)
    assert (row.actor, row.target, row.after["name"], row.after["user"]) == ("owner", token.prefix, "laptop", "owner")
    assert raw not in str(row.after) and raw not in row.hash


def test_revoking_a_token_is_recorded_once(owner, admin_user):
    token, _ = actions.token_create(Ctx(user=owner), user=owner, name="ci")

    assert actions.token_revoke(Ctx(user=admin_user), token=token) is True
    assert actions.token_revoke(Ctx(user=admin_user), token=token) is False

    (row,) = Activity.objects.filter(event=events.TOKEN_REVOKED)
    assert (row.actor, row.target, row.before["token_id"]) == ("admin", token.prefix, token.pk)


def test_a_token_whose_activity_cannot_be_recorded_is_not_created(owner):
    import pytest

    from accounts.models import ApiToken
    from audit.activity import activity_recorded

    def refuse(activity, **kwargs):
        raise RuntimeError("log down")

    activity_recorded.connect(refuse, dispatch_uid="token_activity.refuse")
    try:
        with pytest.raises(RuntimeError):
            actions.token_create(Ctx(user=owner), user=owner, name="x")
    finally:
        activity_recorded.disconnect(dispatch_uid="token_activity.refuse")
    assert not ApiToken.objects.exists()
    assert not Activity.objects.filter(event=events.TOKEN_CREATED).exists()


def test_the_admin_revokes_tokens_through_the_action_and_cannot_edit_them(client, admin_user, owner):
    token, _ = actions.token_create(Ctx(user=owner), user=owner, name="laptop")
    client.force_login(admin_user)

    page = client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()
    assert 'name="expires_at"' not in page and 'name="name"' not in page
    response = client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    row = Activity.objects.get(event=events.TOKEN_REVOKED)
    assert (row.actor, row.via) == ("admin", "admin")


def test_the_admin_offers_no_way_around_the_permissions_action(client, admin_user):
    client.force_login(admin_user)
    user_page = client.get(f"/admin/accounts/user/{admin_user.pk}/change/").content.decode()
    team_page = client.get("/admin/auth/group/add/").content.decode()
    assert 'name="user_permissions"' not in user_page
    assert 'name="permissions"' not in team_page and 'name="name"' in team_page
