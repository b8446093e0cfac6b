"""Custom stages on the pages and in the admin, in a real browser: the version page's menus
and badges offer them like the built-ins, the models list shows which versions are in them,
and a registry admin defines and deletes them in the admin (one activity each)."""

import pytest

from accounts.models import User
from audit import events
from audit.ctx import Ctx
from registry import actions as registry_actions
from registry.models import ModelVersion, Stage
from tests.conftest import events_since, last_seq
from tests.ui.conftest import NARROW

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def person(username, **extra):
    return User.objects.create_user(username=username, password=f"{username}-pw-123", **extra)


def stage_of(number):
    return ModelVersion.objects.get(model__name="fraud", version=number).current_stage


@pytest.fixture
def fraud(owner, grant, admin_user):
    """Canary (active, production level) and Shadow (staging level); `fraud` v1 in Canary, v2
    in None; marygrace may manage staging versions only."""
    admin = Ctx(user=admin_user)
    registry_actions.stage_create(admin, name="Shadow", required_level="CAN_MANAGE_STAGING_VERSIONS", position=150)
    registry_actions.stage_create(admin, name="Canary", required_level="CAN_MANAGE_PRODUCTION_VERSIONS", active=True)
    ctx = Ctx(user=owner)
    model = registry_actions.model_create(ctx, name="fraud")
    registry_actions.version_create(ctx, name="fraud", source="s3://models/fraud/1")
    registry_actions.version_create(ctx, name="fraud", source="s3://models/fraud/2")
    registry_actions.version_transition(ctx, name="fraud", version="1", stage="Canary")
    grant(model, person("marygrace"), level="CAN_MANAGE_STAGING_VERSIONS")
    return model


def test_the_version_page_offers_custom_stages_where_the_level_allows_and_shows_their_badge(
    live_server, sign_in, fraud, screenshot
):
    page = sign_in("marygrace", "marygrace-pw-123")
    page.goto(f"{live_server.url}/models/fraud/versions/2/")
    assert page.locator("#id_request_stage option").all_inner_texts() == [
        "Staging", "Shadow", "Production", "Canary", "Archived",
    ]
    assert page.locator("#id_transition_stage option").all_inner_texts() == ["Staging", "Shadow", "Archived"]
    assert "Canary: needs CAN_MANAGE_PRODUCTION_VERSIONS" in page.inner_text("section:has(#h-transition)")
    assert "(Staging, Production, Canary)" in page.inner_text("section:has(#h-transition)")

    page.select_option("#id_transition_stage", "Shadow")
    with page.expect_navigation():
        page.get_by_role("button", name="Move now").click()
    assert "Version 2 is now in Shadow." in page.inner_text(".messages")
    assert page.locator("h1 .badge.stage-custom").inner_text() == "Shadow"
    assert stage_of(2) == "Shadow"
    screenshot(page, "custom-stage-version-desktop")

    page.select_option("#id_request_stage", "Canary")
    with page.expect_navigation():
        page.get_by_role("button", name="Request transition").click()
    card = page.locator("article.request").first
    assert card.locator(".badge.stage-custom").first.inner_text() == "Canary"
    # Canary is active: the approver may archive what is in it.
    assert card.locator("text=Archive the versions now in Canary").count() == 0  # marygrace cannot approve

    # The owner may approve it, on a phone.
    phone = sign_in("owner", "owner-pw-123", viewport=NARROW)
    phone.goto(f"{live_server.url}/models/fraud/versions/2/")
    assert phone.locator("article.request .badge.stage-custom").first.inner_text() == "Canary"
    assert phone.locator("text=Archive the versions now in Canary").count() == 1
    screenshot(phone, "custom-stage-version-phone")


def test_the_models_list_shows_the_versions_in_active_custom_stages(live_server, sign_in, fraud, screenshot):
    page = sign_in("marygrace", "marygrace-pw-123")
    page.goto(f"{live_server.url}/models/")
    cell = page.locator("td[data-label='Other stages']").first
    assert cell.inner_text().split() == ["Canary", "Version", "1"]
    screenshot(page, "custom-stage-models-desktop")
    phone = sign_in("marygrace", "marygrace-pw-123", viewport=NARROW)
    phone.goto(f"{live_server.url}/models/")
    assert phone.locator("td[data-label='Other stages']").first.is_visible()
    screenshot(phone, "custom-stage-models-phone")


def test_a_registry_admin_defines_and_deletes_a_stage_in_the_admin_and_other_staff_only_look(
    live_server, sign_in, fraud, screenshot
):
    person("sam", is_staff=True)
    seq = last_seq()

    page = sign_in("admin", "admin-pw-123")
    page.goto(f"{live_server.url}/admin/registry/stage/add/")
    page.fill("#id_name", "Quarantine")
    page.select_option("#id_required_level", "CAN_MANAGE_PRODUCTION_VERSIONS")
    with page.expect_navigation():
        page.click("input[name=_save]")
    assert Stage.objects.filter(name="Quarantine", position=202, active=False).exists()
    screenshot(page, "custom-stage-admin-list")

    # A name already taken, in another case, is the action's refusal, not a second stage.
    page.goto(f"{live_server.url}/admin/registry/stage/add/")
    page.fill("#id_name", "quarantine")
    page.select_option("#id_required_level", "CAN_MANAGE_STAGING_VERSIONS")
    with page.expect_navigation():
        page.click("input[name=_save]")
    assert Stage.objects.filter(name__iexact="quarantine").count() == 1

    # Canary holds version 1: deleting it is refused with the reason; Quarantine goes.
    def delete(name):
        page.goto(f"{live_server.url}/admin/registry/stage/{Stage.objects.get(name=name).pk}/delete/")
        with page.expect_navigation():
            page.click("input[type=submit]")
        return page.inner_text(".messagelist")

    assert delete("Canary") == "Stage 'Canary' cannot be deleted: 1 model version(s) are in it. Move them to another stage first."
    assert delete("Quarantine") == "The stage “Quarantine” was deleted."
    assert sorted(Stage.objects.values_list("name", flat=True)) == ["Canary", "Shadow"]
    assert events_since(seq) == [events.STAGE_CREATED, events.STAGE_DELETED]

    staff = sign_in("sam", "sam-pw-123")
    staff.goto(f"{live_server.url}/admin/registry/stage/")
    assert "Canary" in staff.inner_text("#result_list")
    assert staff.locator("a.addlink").count() == 0
    assert page.goto(f"{live_server.url}/admin/registry/stage/").ok
    assert "delete_selected" not in page.inner_html("#changelist-form")
    assert staff.goto(f"{live_server.url}/admin/registry/stage/add/").status == 403
