"""Reviews (the requests the signed-in user may decide, oldest first) and My requests (one's own,
pending first), in a real browser."""

import pytest

from accounts.models import User
from audit.ctx import Ctx
from registry import actions as registry_actions
from tests.ui.conftest import NARROW
from workflows import actions as workflow_actions

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def requests_waiting(owner, ci_bot, grant):
    """Two models of owner's; parker asked for Production on fraud v2, then Staging on churn v1
    and on fraud v3 (cancelled since); marygrace (a releaser of fraud only) asked for Staging on
    fraud v3. CI (ci-bot) reported the check fraud's Production policy requires on v2."""
    parker, marygrace, riley = (
        User.objects.create_user(username=name, password=f"{name}-pw-123") for name in ("parker", "marygrace", "riley")
    )
    ctx = Ctx(user=owner)
    for name, versions in (("fraud", 3), ("churn", 1)):
        model = registry_actions.model_create(ctx, name=name)
        for n in range(1, versions + 1):
            registry_actions.version_create(ctx, name=name, source=f"s3://models/{name}/{n}")
        grant(model, parker, ci_bot, level="CAN_EDIT")
        if name == "fraud":
            grant(model, marygrace, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    workflow_actions.stage_policy_set(ctx, name="fraud", stage="Production", required_checks=["ci/validation"])
    workflow_actions.check_report(Ctx(user=ci_bot), name="fraud", version="2", check="ci/validation", status="success")
    p = Ctx(user=parker)
    workflow_actions.transition_request_create(p, name="fraud", version="2", stage="Production", comment="AUC 0.91")
    workflow_actions.transition_request_create(p, name="churn", version="1", stage="Staging", comment="first cut")
    workflow_actions.transition_request_create(p, name="fraud", version="3", stage="Staging", comment="too early")
    workflow_actions.transition_request_cancel(p, name="fraud", version="3", stage="Staging", creator="parker")
    workflow_actions.transition_request_create(Ctx(user=marygrace), name="fraud", version="3", stage="Staging")
    return parker, marygrace, riley


def test_reviews_lists_the_requests_you_may_decide_oldest_first(live_server, sign_in, requests_waiting, screenshot):
    page = sign_in("marygrace", "marygrace-pw-123")
    page.get_by_role("link", name="Reviews").click()
    page.wait_for_url(f"{live_server.url}/reviews/")
    rows = page.locator("tbody tr").all_inner_texts()
    # churn is not hers to decide, and her own request is under My requests.
    assert len(rows) == 1
    assert "fraud" in rows[0] and "Version 2" in rows[0] and "Production" in rows[0] and "parker" in rows[0]
    assert "AUC 0.91" in rows[0] and "0 of 1" in rows[0] and "ci/validation: success" in rows[0]
    screenshot(page, "reviews")
    page.locator("tbody tr").first.get_by_role("link", name="Review").click()
    page.wait_for_url(f"{live_server.url}/models/fraud/versions/2/#request-*")
    assert page.locator("article.request:target").get_by_role("button", name="Approve").is_visible()

    page.set_viewport_size(NARROW)
    page.goto(f"{live_server.url}/reviews/")
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    screenshot(page, "reviews-narrow")

    readers = sign_in("riley", "riley-pw-123")
    readers.goto(f"{live_server.url}/reviews/")
    assert "Nothing waits for your review." in readers.inner_text("main")


def test_my_requests_shows_your_own_pending_first_then_decided(live_server, sign_in, requests_waiting, screenshot):
    page = sign_in("parker", "parker-pw-123")
    page.get_by_role("link", name="My requests").click()
    page.wait_for_url(f"{live_server.url}/my-requests/")
    rows = page.locator("tbody tr").all_inner_texts()
    assert len(rows) == 3
    assert rows[0].startswith("fraud Version 2") and "Pending" in rows[0] and "Production" in rows[0] and "AUC 0.91" in rows[0]
    assert rows[1].startswith("churn Version 1") and "Pending" in rows[1]
    assert rows[2].startswith("fraud Version 3") and "Cancelled" in rows[2] and "too early" in rows[2] and "parker" in rows[2]
    screenshot(page, "my-requests")
    page.set_viewport_size(NARROW)
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    screenshot(page, "my-requests-narrow")

