"""Comparing two versions of a model side by side, differences marked."""

import pytest

from audit.ctx import Ctx
from registry import actions
from tests.ui.conftest import NARROW

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fraud(owner, reviewer, grant):
    ctx = Ctx(user=owner)
    model = actions.model_create(ctx, name="fraud")
    grant(model, reviewer, level="CAN_EDIT")
    actions.version_create(ctx, name="fraud", source="s3://models/fraud/1", run_id="run-one",
                           description="Gradient boosting, 2025 data.",
                           tags=[{"key": "framework", "value": "xgboost"}, {"key": "data", "value": "2025"}])
    actions.version_create(Ctx(user=reviewer), name="fraud", source="s3://models/fraud/2", run_id="run-two",
                           run_link="https://mlflow.example.com/#/runs/run-two", description="Same model, 2026 data.",
                           tags=[{"key": "framework", "value": "xgboost"}, {"key": "data", "value": "2026"},
                                 {"key": "validated", "value": "yes"}])
    actions.version_transition(ctx, name="fraud", version="1", stage="Production")
    actions.alias_set(ctx, name="fraud", alias="champion", version="1")


def row(page, heading):
    return page.locator("table.compare tr", has=page.locator("th", has_text=heading)).first


def test_two_versions_side_by_side_with_their_differences_marked(live_server, sign_in, fraud, screenshot):
    page = sign_in("owner", "owner-pw-123")
    page.goto(f"{live_server.url}/models/fraud/compare/")
    page.get_by_label("Compare version").select_option("1")
    page.get_by_label("with version").select_option("2")
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url(f"{live_server.url}/models/fraud/compare/?a=1&b=2")

    for heading, left, right in [
        ("Stage", "Production", "None"),
        ("Aliases", "@champion", "None"),
        ("Source", "s3://models/fraud/1", "s3://models/fraud/2"),
        ("Run", "run-one", "run-two"),
        ("Description", "2025 data", "2026 data"),
        ("Registered by", "owner", "reviewer"),
        ("data", "2025", "2026"),
        ("validated", "not set", "yes"),
    ]:
        cells = row(page, heading).locator("td").all_inner_texts()
        assert left in cells[0] and right in cells[1], heading
        assert "differs" in row(page, heading).get_attribute("class"), heading
        assert row(page, heading).locator("th .differs-mark").count() == 1
    same = row(page, "framework")
    assert same.locator("td").all_inner_texts() == ["xgboost", "xgboost"]
    assert "differs" not in (same.get_attribute("class") or "")
    # Only a web address becomes a link.
    assert row(page, "Run").locator("a").get_attribute("href") == "https://mlflow.example.com/#/runs/run-two"
    assert row(page, "Run").locator("td").first.locator("a").count() == 0
    screenshot(page, "compare")

    page.get_by_role("link", name="Swap sides").click()
    assert "Version 2" in page.locator("table.compare thead th").nth(1).inner_text()

    phone = sign_in("owner", "owner-pw-123", viewport=NARROW)
    phone.goto(f"{live_server.url}/models/fraud/compare/?a=1&b=2")
    assert phone.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    screenshot(phone, "compare-narrow")


def test_a_stored_javascript_run_link_is_not_a_link(live_server, sign_in, fraud, owner):
    actions.version_create(Ctx(user=owner), name="fraud", source="s3://models/fraud/3", run_id="run-three",
                           run_link="javascript:alert(document.cookie)")
    page = sign_in("owner", "owner-pw-123")
    page.goto(f"{live_server.url}/models/fraud/compare/?a=2&b=3")
    assert row(page, "Run").locator("td").nth(1).inner_text() == "run-three"
    assert page.locator("a[href^='javascript']").count() == 0


def test_a_missing_or_malformed_version_is_a_message(live_server, sign_in, fraud, outsider, settings):
    page = sign_in("owner", "owner-pw-123")
    response = page.goto(f"{live_server.url}/models/fraud/compare/?a=1&b=99")
    assert response.status == 404
    assert "version=99" in page.inner_text(".messages .error") and page.locator("table.compare").count() == 0
    response = page.goto(f"{live_server.url}/models/fraud/compare/?a=one&b=2")
    assert response.status == 400 and "one" in page.inner_text(".messages .error")
    response = page.goto(f"{live_server.url}/models/fraud/compare/?a=1")
    assert response.status == 400 and "Pick two versions" in page.inner_text(".messages .error")
    # The picker is still there to try again.
    assert page.get_by_label("Compare version").is_visible()

    settings.MODELGATE_DEFAULT_LEVEL = "NONE"
    page = sign_in("outsider", "outsider-pw-123")
    response = page.goto(f"{live_server.url}/models/fraud/compare/?a=1&b=2")
    assert response.status == 404 and "Not found" in page.inner_text("h1")
