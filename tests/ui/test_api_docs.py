"""The API docs render from the service's own static files: no CDN, no web fonts, so they work
on a machine without a network connection."""

import os

import pytest

from tests.ui.conftest import WIDE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def offline_page(browser, live_server):
    """A page that may reach only the live server; returns it and the list of URLs it tried
    to fetch from anywhere else."""
    context = browser.new_context(viewport=WIDE)
    elsewhere = []

    def only_the_server(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_server)
    return context.new_page(), elsewhere


def first_screen(page, tmp_path, name):
    # The docs run to hundreds of screens: look at the first one only.
    folder = os.environ.get("MODELGATE_SCREENSHOTS") or str(tmp_path)
    os.makedirs(folder, exist_ok=True)
    page.screenshot(path=os.path.join(folder, f"{name}.png"))


def test_the_redoc_api_docs_render_offline(live_server, browser, tmp_path):
    page, elsewhere = offline_page(browser, live_server)
    page.goto(f"{live_server.url}/api/docs/")
    # Redoc draws the schema's title and every operation in its side menu.
    page.wait_for_selector("text=Modelgate API", timeout=20_000)
    page.wait_for_selector("text=/transition-requests/", timeout=20_000)
    assert elsewhere == []
    first_screen(page, tmp_path, "api-docs-redoc")


def test_the_swagger_ui_api_docs_render_offline(live_server, browser, tmp_path):
    page, elsewhere = offline_page(browser, live_server)
    page.goto(f"{live_server.url}/api/docs/swagger/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "Modelgate API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    assert any("transition-requests" in p for p in page.locator(".opblock-summary-path").all_inner_texts())
    assert elsewhere == []
    first_screen(page, tmp_path, "api-docs-swagger")
