"""Signing in, the models list (search, a bad filter, sorting, pages) and what a non-reader sees."""

import pytest

from accounts.models import User
from audit.ctx import Ctx
from registry import actions
from tests.ui.conftest import NARROW

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def registry_with_models(db):
    scientist = User.objects.create_user(username="parker", password="parker-pw-123")
    ctx = Ctx(user=scientist)
    actions.model_create(ctx, name="fraud", description="Scores card payments.",
                         tags=[{"key": "team", "value": "risk"}])
    for n in range(1, 4):
        actions.version_create(ctx, name="fraud", source=f"s3://models/fraud/{n}")
    actions.version_transition(ctx, name="fraud", version="2", stage="Production")
    actions.version_transition(ctx, name="fraud", version="3", stage="Staging")
    actions.alias_set(ctx, name="fraud", alias="champion", version="2")
    actions.model_create(ctx, name="churn", tags=[{"key": "team", "value": "growth"}])
    actions.version_create(ctx, name="churn", source="s3://models/churn/1")
    return scientist


def test_signing_in_opens_the_models_list_with_stages_and_aliases(live_server, sign_in, registry_with_models, screenshot):
    page = sign_in("parker", "parker-pw-123")
    assert page.url == f"{live_server.url}/"
    row = page.locator("tr", has=page.locator("a", has_text="fraud")).first
    text = row.inner_text()
    assert "Version 3" in text and "Version 2" in text and "@champion → v2" in text and "team=risk" in text
    assert "parker" in text
    screenshot(page, "models-list")
    row.locator("a", has_text="fraud").first.click()
    page.wait_for_url(f"{live_server.url}/models/fraud/")
    assert "Scores card payments." in page.inner_text("main")
    screenshot(page, "model")
    page.locator("a", has_text="Version 2").first.click()
    page.wait_for_url(f"{live_server.url}/models/fraud/versions/2/")
    assert "Production" in page.inner_text("h1") and "s3://models/fraud/2" in page.inner_text("main")
    screenshot(page, "version")


def test_a_wrong_password_keeps_you_out_with_a_message(live_server, sign_in, registry_with_models):
    page = sign_in("parker", "wrong-password")
    assert "/signin/" in page.url
    assert "do not match" in page.inner_text("[role=alert]")
    page.goto(f"{live_server.url}/models/")
    assert "/signin/" in page.url


def test_a_service_account_cannot_sign_in(live_server, sign_in, db):
    bot = User(username="ci-bot", is_service_account=True)
    bot.set_password("bot-password-123")
    bot.save()
    page = sign_in("ci-bot", "bot-password-123")
    assert "/signin/" in page.url and "do not match" in page.inner_text("[role=alert]")


def test_search_filters_with_mlflow_syntax_and_a_bad_filter_says_why(live_server, sign_in, registry_with_models):
    page = sign_in("parker", "parker-pw-123")
    page.fill("#id_filter", "name LIKE 'fr%' AND tags.team = 'risk'")
    page.click("form.search button[type=submit]")
    names = page.locator("td.name > a").all_inner_texts()
    assert names == ["fraud"]

    page.fill("#id_filter", "name LIKE AND")
    page.click("form.search button[type=submit]")
    assert "Invalid" in page.inner_text(".messages") or "invalid" in page.inner_text(".messages")
    assert page.locator("td.name").count() == 0


def test_sorting_and_pages(live_server, sign_in, registry_with_models):
    ctx = Ctx(user=registry_with_models)
    for n in range(30):
        actions.model_create(ctx, name=f"m{n:02d}")
    page = sign_in("parker", "parker-pw-123")
    page.select_option("#id_order", "-name")
    page.click("form.search button[type=submit]")
    assert page.locator("td.name > a").first.inner_text() == "m29"
    assert page.locator("td.name > a").count() == 25
    page.click("a[rel=next]")
    assert "Page 2" in page.inner_text(".pager")
    assert page.locator("td.name > a").all_inner_texts()[-1] == "churn"
    page.click("a[rel=prev]")
    assert page.locator("td.name > a").first.inner_text() == "m29"


def test_a_model_you_cannot_read_is_not_found(live_server, sign_in, registry_with_models, settings):
    settings.MODELGATE_DEFAULT_LEVEL = "NONE"
    User.objects.create_user(username="outsider", password="outsider-pw-123")
    page = sign_in("outsider", "outsider-pw-123")
    assert page.locator("td.name").count() == 0
    response = page.goto(f"{live_server.url}/models/fraud/")
    assert response.status == 404 and "Not found" in page.inner_text("h1")
    response = page.goto(f"{live_server.url}/models/fraud/versions/2/")
    assert response.status == 404


def test_the_list_is_readable_on_a_phone(live_server, sign_in, registry_with_models, screenshot):
    page = sign_in("parker", "parker-pw-123", viewport=NARROW)
    assert page.locator("td.name > a", has_text="fraud").is_visible()
    # No sideways scrolling, of the page or inside the table: each model is a card whose
    # cells are labelled with their column's name, all within the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    row = page.locator("tbody tr", has=page.locator("td.name > a", has_text="fraud"))
    for label in ("Latest version", "Staging", "Production", "Aliases", "Owner", "Last modified", "Tags"):
        cell = row.locator(f'td[data-label="{label}"]')
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= NARROW["width"], label
        assert cell.evaluate("td => getComputedStyle(td, '::before').content") == f'"{label}"'
    assert "Version 2" in row.locator('td[data-label="Production"]').inner_text()
    # Still a table to assistive technology.
    assert page.get_by_role("table").get_by_role("row").count() == 3
    assert page.get_by_role("columnheader", name="Production").count() == 1
    screenshot(page, "models-list-narrow")


def test_repeated_wrong_passwords_lock_the_sign_in_page_with_a_message(live_server, sign_in, registry_with_models, settings):
    settings.MODELGATE_SIGNIN_MAX_FAILURES_PER_USER = 3
    for _ in range(3):
        page = sign_in("parker", "wrong-password")
        page.context.close()
    page = sign_in("parker", "parker-pw-123")  # the right password, during the lockout
    assert "/signin/" in page.url
    assert "Too many failed sign-ins" in page.inner_text("[role=alert]")
    page.fill("#id_username", "parker")
    page.fill("#id_password", "parker-pw-123")
    with page.expect_response(lambda r: r.request.method == "POST" and "/signin/" in r.url) as answer:
        page.click("button[type=submit]")
    assert answer.value.status == 429 and int(answer.value.headers["retry-after"]) > 0
