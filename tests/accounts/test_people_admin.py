"""Who is a superuser, staff, active, in which team, and with which password decides who may
approve production: the admin's people pages change those only through the accounts actions,
so every change is on the activity log (before and after, never a password). The headless
browser tests (test_people_admin_in_browser.py) drive the same pages as a person does."""

import base64

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from accounts import actions
from accounts.models import User
from audit import events
from audit.ctx import Ctx
from audit.models import Activity
from tests.conftest import events_since, last_seq

USERS = "/admin/accounts/user/"
TEAMS = "/admin/auth/group/"


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def risk(db):
    return actions.team_create(Ctx.cli(), name="risk")


def page_form_data(response):
    """What the change page's form would post unchanged (its fields and their values)."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if field.disabled or value is None or value is False:
            continue
        if value is True:
            data[name] = "on"
        else:
            data[name] = [str(v) for v in value] if isinstance(value, list) else str(value)
    return data


def only_activity(seq, event):
    (row,) = Activity.objects.filter(seq__gt=seq).exclude(event__startswith="api_token.")
    assert row.event == event
    return row


def basic_status(username, password):
    pair = base64.b64encode(f"{username}:{password}".encode()).decode()
    response = APIClient().get("/api/2.0/mlflow/registered-models/search", HTTP_AUTHORIZATION=f"Basic {pair}")
    return response.status_code


def test_creating_a_user_in_the_admin_is_recorded_without_the_password(admin_client):
    seq = last_seq()

    response = admin_client.post(f"{USERS}add/", {
        "username": "carol", "usable_password": "true",
        "password1": "carol-pw-98765", "password2": "carol-pw-98765",
    })

    assert response.status_code == 302
    row = only_activity(seq, events.USER_CREATED)
    assert (row.actor, row.via, row.target) == ("admin", "admin", "carol")
    assert (row.after["is_superuser"], row.after["has_password"], row.after["teams"]) == (False, True, [])
    assert "carol-pw-98765" not in str(row.after) + row.comment
    assert basic_status("carol", "carol-pw-98765") == 200


def test_changing_a_users_flags_and_teams_on_their_page_is_recorded(admin_client, owner, risk):
    page = admin_client.get(f"{USERS}{owner.pk}/change/")
    data = {**page_form_data(page), "is_staff": "on", "groups": [str(risk.pk)]}
    data.pop("is_active")
    seq = last_seq()

    response = admin_client.post(f"{USERS}{owner.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    row = only_activity(seq, events.USER_UPDATED)
    assert (row.actor, row.via, row.target) == ("admin", "admin", "owner")
    assert row.before == {"is_active": True, "is_staff": False, "teams": []}
    assert row.after == {"is_active": False, "is_staff": True, "teams": ["risk"]}
    owner.refresh_from_db()
    assert (owner.is_active, owner.is_staff, list(owner.groups.all())) == (False, True, [risk])


def test_saving_a_users_page_unchanged_records_nothing(admin_client, owner):
    page = admin_client.get(f"{USERS}{owner.pk}/change/")
    seq = last_seq()

    assert admin_client.post(f"{USERS}{owner.pk}/change/", page_form_data(page)).status_code == 302

    assert events_since(seq) == []


def test_the_users_page_does_not_edit_login_dates_or_permissions(admin_client, owner):
    page = admin_client.get(f"{USERS}{owner.pk}/change/").content.decode()

    for field in ("last_login_0", "date_joined_0", "user_permissions"):
        assert f'name="{field}"' not in page


def test_setting_a_users_password_in_the_admin_is_recorded_without_the_secret(admin_client, owner):
    seq = last_seq()

    response = admin_client.post(f"{USERS}{owner.pk}/password/", {
        "usable_password": "true", "password1": "owner-new-pw-42", "password2": "owner-new-pw-42",
        "set-password": "Change password",
    })

    assert response.status_code == 302
    row = only_activity(seq, events.USER_PASSWORD_CHANGED)
    assert (row.actor, row.via, row.target) == ("admin", "admin", "owner")
    assert (row.before, row.after) == ({"has_password": True}, {"has_password": True})
    assert "owner-new-pw-42" not in str(row.after) + str(row.before) + row.comment
    assert (basic_status("owner", "owner-pw-123"), basic_status("owner", "owner-new-pw-42")) == (401, 200)


def test_disabling_password_sign_in_in_the_admin_is_recorded(admin_client, owner):
    seq = last_seq()

    response = admin_client.post(f"{USERS}{owner.pk}/password/", {
        "usable_password": "false", "unset-password": "Disable password-based authentication",
    })

    assert response.status_code == 302
    row = only_activity(seq, events.USER_PASSWORD_CHANGED)
    assert row.after == {"has_password": False}
    assert basic_status("owner", "owner-pw-123") == 401


def test_a_password_the_action_refuses_changes_nothing_and_says_why(admin_client, ci_bot):
    seq = last_seq()

    response = admin_client.post(f"{USERS}{ci_bot.pk}/password/", {
        "password1": "bot-pw-98765", "password2": "bot-pw-98765", "set-password": "Enable",
    }, follow=True)

    assert "Service accounts have no password" in response.content.decode()
    ci_bot.refresh_from_db()
    assert not ci_bot.has_usable_password()
    assert events_since(seq) == []


def test_changing_ones_own_password_in_the_admin_is_recorded(client, admin_user):
    client.force_login(admin_user)
    seq = last_seq()

    response = client.post("/admin/password_change/", {
        "old_password": "admin-pw-123", "new_password1": "admin-new-pw-7", "new_password2": "admin-new-pw-7",
    })

    assert response.status_code == 302
    row = only_activity(seq, events.USER_PASSWORD_CHANGED)
    assert (row.actor, row.via, row.target) == ("admin", "admin", "admin")
    assert client.get("/admin/").status_code == 200  # still signed in
    assert basic_status("admin", "admin-new-pw-7") == 200


def test_deleting_a_user_in_the_admin_is_recorded_with_what_they_held(admin_client, outsider, risk):
    actions.team_update(Ctx.cli(), team=risk, members=[outsider])
    seq = last_seq()

    response = admin_client.post(f"{USERS}{outsider.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    row = only_activity(seq, events.USER_DELETED)
    assert (row.target, row.before["teams"], row.before["grants"]) == ("outsider", ["risk"], [])
    assert not User.objects.filter(username="outsider").exists()


def test_deleting_users_in_bulk_records_each(admin_client, outsider, reviewer):
    seq = last_seq()

    response = admin_client.post(USERS, {
        "action": "delete_selected", "_selected_action": [outsider.pk, reviewer.pk], "post": "yes",
    })

    assert response.status_code == 302
    assert events_since(seq) == [events.USER_DELETED, events.USER_DELETED]


def test_a_team_is_created_renamed_given_members_and_deleted_on_the_record(admin_client, owner, reviewer):
    seq = last_seq()

    assert admin_client.post(f"{TEAMS}add/", {"name": "risk", "members": [owner.pk]}).status_code == 302
    team = Group.objects.get(name="risk")
    assert admin_client.post(f"{TEAMS}{team.pk}/change/", {
        "name": "risk-ops", "members": [owner.pk, reviewer.pk],
    }).status_code == 302
    assert admin_client.post(f"{TEAMS}{team.pk}/delete/", {"post": "yes"}).status_code == 302

    created, updated, deleted = Activity.objects.filter(seq__gt=seq).order_by("seq")
    assert (created.event, created.after) == (events.TEAM_CREATED, {"name": "risk", "members": ["owner"]})
    assert (updated.event, updated.before, updated.after) == (
        events.TEAM_UPDATED,
        {"name": "risk", "members": ["owner"]},
        {"name": "risk-ops", "members": ["owner", "reviewer"]},
    )
    assert (deleted.event, deleted.before["members"]) == (events.TEAM_DELETED, ["owner", "reviewer"])
    assert not Group.objects.exists()


def test_people_and_team_pages_are_for_registry_admins_only(client, risk):
    staffer = User.objects.create_user("staffer", password="staffer-pw-1", is_staff=True)
    django_perms = ["view_user", "change_user", "change_group"]
    staffer.user_permissions.set(Permission.objects.filter(codename__in=django_perms))
    client.force_login(staffer)

    for url in (USERS, f"{USERS}{staffer.pk}/change/", TEAMS, f"{TEAMS}{risk.pk}/change/"):
        assert client.get(url).status_code == 403, url
    response = client.post(f"{USERS}{staffer.pk}/change/", {"username": "staffer", "is_superuser": "on"})
    assert response.status_code == 403
    staffer.refresh_from_db()
    assert not staffer.is_superuser
