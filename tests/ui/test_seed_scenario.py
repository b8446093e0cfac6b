"""The issue's "done when", as one release: a release manager finds the model, opens version 2,
sees its pending request to Production with the requester's comment and the CI check, and
approves with a comment; a second approver does the same; version 2 is then in Production and
the activity reads as sentences with who, what and when."""

import pytest

from accounts.models import User
from audit.ctx import Ctx
from registry import actions as registry_actions
from registry.models import ModelVersion
from workflows import actions as workflow_actions

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seed(owner, ci_bot, grant):
    """owner's fraud-detector: v1 in Production behind @champion, v2 from parker, who asks for
    Production; CI (the ci-bot service account) reports its validation check. Production needs
    two approvals from release managers (marygrace, rosa) and that check."""
    parker, marygrace, rosa = (
        User.objects.create_user(username=name, password=f"{name}-pw-123") for name in ("parker", "marygrace", "rosa")
    )
    ctx = Ctx(user=owner)
    model = registry_actions.model_create(ctx, name="fraud-detector", description="Scores card payments.",
                                          tags=[{"key": "team", "value": "risk"}])
    registry_actions.model_create(ctx, name="churn")
    grant(model, parker, ci_bot, level="CAN_EDIT")
    grant(model, marygrace, rosa, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    for n in (1, 2):
        registry_actions.version_create(Ctx(user=parker), name="fraud-detector", source=f"s3://models/fraud/{n}")
    registry_actions.version_transition(ctx, name="fraud-detector", version="1", stage="Production")
    registry_actions.alias_set(ctx, name="fraud-detector", alias="champion", version="1")
    workflow_actions.stage_policy_set(
        ctx, name="fraud-detector", stage="Production", required_approvals=2, require_request=True,
        required_checks=["ci/validation"], archive_existing_on_approval=True, move_alias_on_approval="champion",
    )
    workflow_actions.transition_request_create(
        Ctx(user=parker), name="fraud-detector", version="2", stage="Production",
        comment="Recall +4% on the March holdout; shadow traffic clean for a week.",
    )
    workflow_actions.check_report(
        Ctx(user=ci_bot), name="fraud-detector", version="2", check="ci/validation", status="success",
        details_url="https://ci.example.com/job/fraud/42/", summary="212 tests passed",
    )


def approve(page, comment):
    request = page.locator("article.request").first
    request.locator("textarea[name=comment]").fill(comment)
    with page.expect_navigation():
        request.get_by_role("button", name="Approve").click()


def test_a_release_is_approved_by_two_release_managers_in_the_browser(live_server, sign_in, seed, screenshot):
    page = sign_in("marygrace", "marygrace-pw-123")
    page.fill("#id_filter", "name LIKE 'fraud%'")
    page.click("form.search button[type=submit]")
    assert page.locator("td.name > a").all_inner_texts() == ["fraud-detector"]
    screenshot(page, "seed-1-find-model")
    page.locator("td.name > a", has_text="fraud-detector").click()
    page.wait_for_url(f"{live_server.url}/models/fraud-detector/")
    page.locator("a", has_text="Version 2").first.click()
    page.wait_for_url(f"{live_server.url}/models/fraud-detector/versions/2/")

    request = page.locator("article.request").first
    text = request.inner_text()
    assert "Production" in text and "parker" in text
    assert "Recall +4% on the March holdout; shadow traffic clean for a week." in text
    assert "ci/validation: success" in text and "0 of 2" in text
    assert request.get_by_role("link", name="details of ci/validation").get_attribute("href") == "https://ci.example.com/job/fraud/42/"
    screenshot(page, "seed-2-version-pending")

    approve(page, "Offline metrics verified against the March holdout.")
    assert "Approval recorded (1 of 2)" in page.inner_text(".messages")
    assert "None" in page.inner_text("h1")
    screenshot(page, "seed-3-first-approval")

    page = sign_in("rosa", "rosa-pw-123")
    page.goto(f"{live_server.url}/reviews/")
    page.locator("tbody tr", has_text="fraud-detector").get_by_role("link", name="Review").click()
    page.wait_for_url(f"{live_server.url}/models/fraud-detector/versions/2/#request-*")
    assert "1 of 2" in page.locator("article.request").first.inner_text()
    approve(page, "Shadow traffic reviewed, go.")
    assert "Approved: version 2 moved to Production." in page.inner_text(".messages")
    assert "Production" in page.inner_text("h1")
    assert "@champion" in page.inner_text("section:has(#h-details)")

    activity = page.locator("ol.activity li").all_inner_texts()
    assert activity[0].startswith("rosa approved a transition to Production (version 2 moved to Production; "
                                  "version 1 archived; @champion moved from version 1 to version 2): "
                                  "Shadow traffic reviewed, go.")
    assert activity[1].startswith("marygrace approved a transition to Production (1 of 2 approvals): "
                                  "Offline metrics verified against the March holdout.")
    assert activity[2].startswith("ci-bot reported ci/validation: success (212 tests passed)")
    assert activity[3].startswith("parker requested Production: Recall +4%")
    assert all("just now" in line and "UTC" in line for line in activity[:4])
    screenshot(page, "seed-4-in-production")
    assert ModelVersion.objects.get(model__name="fraud-detector", version=1).current_stage == "Archived"
