"""Release managers approve in the admin: a real headless Chromium against a live server."""

import os

import pytest

from accounts.models import User
from audit.ctx import Ctx
from registry import actions as registry_actions
from registry.models import ModelVersion
from workflows import actions as workflow_actions

pytestmark = pytest.mark.e2e


def _staff(username, password):
    return User.objects.create_user(username=username, password=password, is_staff=True)


def _login(page, live_server, username, password):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


@pytest.mark.django_db(transaction=True)
def test_an_approver_approves_a_pending_request_from_the_queue_with_a_comment(live_server, browser, tmp_path):
    scientist = User.objects.create_user(username="scientist", password="scientist-pw-1")
    _staff("approver", "approver-pw-1")
    ctx = Ctx(user=scientist)
    model = registry_actions.model_create(ctx, name="fraud")
    registry_actions.version_create(ctx, name="fraud", source="s3://bucket/fraud/1")
    registry_actions.model_permissions_change(
        ctx, uid=model.uid, replace=False,
        access_control_list=[{"user_name": "approver", "permission_level": "CAN_MANAGE_PRODUCTION_VERSIONS"}],
    )
    workflow_actions.transition_request_create(ctx, name="fraud", version="1", stage="Production", comment="ship it")

    page = browser.new_page()
    _login(page, live_server, "approver", "approver-pw-1")
    page.goto(f"{live_server.url}/admin/workflows/transitionrequest/")
    row = page.locator("#pending-requests tbody tr").first
    assert "fraud" in row.inner_text() and "Production" in row.inner_text() and "0 / 1" in row.inner_text()
    row.locator("textarea[name=comment]").fill("metrics look good")
    row.locator("button[value=approve]").click()
    page.wait_for_selector(".messagelist")
    page.screenshot(path=os.environ.get("MODELGATE_SCREENSHOT", str(tmp_path / "approved.png")), full_page=True)

    assert "moved to Production" in page.inner_text(".messagelist")
    assert ModelVersion.objects.get(model__name="fraud", version=1).current_stage == "Production"
    from audit.models import Activity

    approved = Activity.objects.get(event="transition_request.approved")
    assert (approved.actor, approved.via, approved.comment) == ("approver", "admin", "metrics look good")


@pytest.mark.django_db(transaction=True)
def test_a_staff_member_without_the_level_sees_no_approve_button_and_cannot_post_one(live_server, browser):
    scientist = User.objects.create_user(username="scientist", password="scientist-pw-1")
    _staff("bystander", "bystander-pw-1")
    ctx = Ctx(user=scientist)
    registry_actions.model_create(ctx, name="churn")
    registry_actions.version_create(ctx, name="churn", source="s3://bucket/churn/1")
    req = workflow_actions.transition_request_create(ctx, name="churn", version="1", stage="Production")

    page = browser.new_page()
    _login(page, live_server, "bystander", "bystander-pw-1")
    page.goto(f"{live_server.url}/admin/workflows/transitionrequest/pending/")
    row = page.locator("#pending-requests tbody tr").first
    assert "churn" in row.inner_text()
    assert row.locator("button[value=approve]").count() == 0

    # Forging the form post changes nothing: the action refuses.
    page.goto(f"{live_server.url}/admin/workflows/transitionrequest/{req.pk}/change/")
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{live_server.url}/admin/workflows/transitionrequest/{req.pk}/review/",
        form={"decision": "approve", "comment": "sneaky", "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{live_server.url}/admin/"},
    )
    assert response.status == 200  # redirected back to the queue with an error message
    assert "Permission denied" in response.text()
    assert ModelVersion.objects.get(model__name="churn", version=1).current_stage == "None"
