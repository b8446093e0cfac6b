"""A registry admin changes who may approve in the admin, in a real headless Chromium against a
live server: making someone a superuser and changing a team's members land on the activity
log, before and after."""

import pytest

from accounts import actions
from accounts.models import User
from audit import events
from audit.ctx import Ctx
from audit.models import Activity
from tests.ui.conftest import browser  # noqa: F401  (the shared headless Chromium)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin_page(browser, live_server, admin_user):  # noqa: F811
    page = browser.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "admin-pw-123")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return page


def save(page):
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    assert "successfully" in page.inner_text(".messagelist")


def test_making_a_user_a_superuser_in_the_admin_is_on_the_record(admin_page, live_server, owner):
    admin_page.goto(f"{live_server.url}/admin/accounts/user/{owner.pk}/change/")
    admin_page.check("#id_is_superuser")
    save(admin_page)

    owner.refresh_from_db()
    assert owner.is_superuser
    row = Activity.objects.get(event=events.USER_UPDATED)
    assert (row.actor, row.via, row.target) == ("admin", "admin", "owner")
    assert (row.before, row.after) == ({"is_superuser": False}, {"is_superuser": True})


def test_adding_a_member_on_a_team_page_is_on_the_record(admin_page, live_server, owner):
    team = actions.team_create(Ctx.cli(), name="release-managers")

    admin_page.goto(f"{live_server.url}/admin/auth/group/{team.pk}/change/")
    admin_page.select_option("#id_members_from", label="owner")
    admin_page.click("#id_members_add")
    save(admin_page)

    assert list(team.user_set.values_list("username", flat=True)) == ["owner"]
    row = Activity.objects.get(event=events.TEAM_UPDATED)
    assert (row.actor, row.via, row.target) == ("admin", "admin", "release-managers")
    assert (row.before, row.after) == ({"members": []}, {"members": ["owner"]})


def test_putting_a_user_in_a_team_on_their_page_is_on_the_record(admin_page, live_server, owner):
    actions.team_create(Ctx.cli(), name="release-managers")

    admin_page.goto(f"{live_server.url}/admin/accounts/user/{owner.pk}/change/")
    admin_page.select_option("#id_groups_from", label="release-managers")
    admin_page.click("#id_groups_add")
    save(admin_page)

    assert list(User.objects.get(pk=owner.pk).groups.values_list("name", flat=True)) == ["release-managers"]
    row = Activity.objects.get(event=events.USER_UPDATED)
    assert (row.before, row.after) == ({"teams": []}, {"teams": ["release-managers"]})
