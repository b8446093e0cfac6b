"""The registry's activity page in a real browser: sentences with who and when, filters by model,
person and event, pages, the JSON Lines export for those allowed, and nothing of models the
viewer cannot read."""

import json

import pytest

from accounts.models import User
from audit.ctx import Ctx
from registry import actions as registry_actions
from tests.ui.conftest import NARROW
from workflows import actions as workflow_actions

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def history(admin_user):
    """parker builds fraud and churn; marygrace reviews. fraud gets 55 tags, so its log pages."""
    parker, marygrace = (
        User.objects.create_user(username=name, password=f"{name}-pw-123") for name in ("parker", "marygrace")
    )
    p = Ctx(user=parker)
    fraud = registry_actions.model_create(p, name="fraud")
    registry_actions.model_create(p, name="churn")
    registry_actions.version_create(p, name="churn", source="s3://models/churn/1")
    registry_actions.model_permissions_change(p, uid=fraud.uid, replace=False, access_control_list=[
        {"user_name": "marygrace", "permission_level": "CAN_MANAGE_PRODUCTION_VERSIONS"},
    ])
    for n in range(55):
        registry_actions.model_tag_set(p, name="fraud", key=f"k{n:02d}", value=str(n))
    registry_actions.version_create(p, name="fraud", source="s3://models/fraud/1")
    workflow_actions.transition_request_create(p, name="fraud", version="1", stage="Staging", comment="ready")
    workflow_actions.transition_reject(Ctx(user=marygrace), name="fraud", version="1", stage="Staging",
                                       comment="needs more data")
    return parker, marygrace


def sentences(page):
    return page.locator("ol.activity .sentence").all_inner_texts()


def test_the_activity_reads_as_sentences_and_filters_by_model_person_and_event(live_server, sign_in, history, screenshot):
    page = sign_in("parker", "parker-pw-123")
    page.get_by_role("link", name="Activity").click()
    page.wait_for_url(f"{live_server.url}/activity/")
    first = page.locator("ol.activity li").first.inner_text()
    assert first.startswith("marygrace rejected a transition to Staging: needs more data")
    assert "just now" in first and "UTC" in first and "fraud" in first and "version 1" in first
    assert "parker requested Staging: ready" in sentences(page)
    assert "Page 1 of 2" in page.inner_text(".pager")
    # The whole registry's export is for registry-wide managers; parker exports one model.
    assert page.get_by_role("link", name="Export (JSON Lines)").count() == 0
    screenshot(page, "activity")

    page.get_by_role("link", name="Older →").click()
    assert sentences(page)[-1] == "parker created the model fraud"

    page.goto(f"{live_server.url}/activity/")
    page.fill("#id_model", "churn")
    page.click("form.activity-filter button[type=submit]")
    assert sentences(page) == ["parker registered version 1", "parker created the model churn"]

    page.fill("#id_model", "")
    page.fill("#id_person", "marygrace")
    page.click("form.activity-filter button[type=submit]")
    assert sentences(page) == ["marygrace rejected a transition to Staging: needs more data"]

    page.fill("#id_person", "")
    page.select_option("#id_event", "transition_request.created")
    page.click("form.activity-filter button[type=submit]")
    assert sentences(page) == ["parker requested Staging: ready"]

    page.fill("#id_model", "fraud")
    page.select_option("#id_event", "")
    page.click("form.activity-filter button[type=submit]")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export (JSON Lines)").click()
    lines = [json.loads(line) for line in open(download.value.path()).read().splitlines()]
    assert lines[0]["event"] == "registered_model.created" and lines[-1]["event"] == "transition_request.rejected"
    assert {line["model_name"] for line in lines} == {"fraud"}

    page.set_viewport_size(NARROW)
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    screenshot(page, "activity-narrow")


def test_a_registry_admin_exports_the_whole_log(live_server, sign_in, history):
    page = sign_in("admin", "admin-pw-123")
    page.goto(f"{live_server.url}/activity/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export (JSON Lines)").click()
    models = {json.loads(line)["model_name"] for line in open(download.value.path()).read().splitlines()}
    assert {"fraud", "churn"} <= models


def test_the_activity_of_models_you_cannot_read_is_not_shown(live_server, sign_in, history, settings):
    settings.MODELGATE_DEFAULT_LEVEL = "NONE"
    page = sign_in("marygrace", "marygrace-pw-123")  # reads fraud only
    page.goto(f"{live_server.url}/activity/")
    shown = page.locator("ol.activity .on").all_inner_texts()
    assert shown and all("fraud" in on for on in shown)
    response = page.goto(f"{live_server.url}/activity/?model=churn")
    assert response.status == 404 and "not found" in page.inner_text(".messages .error")
    assert page.locator("ol.activity li").count() == 0
