"""The pages in a real headless Chromium (Debian's, driven by Playwright) against a live
server: the way release managers and data scientists use them."""

import os
import shutil

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls in the tests are
# still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 390, "height": 844}


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is not installed (bin/ensure-browser installs Debian's chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
        # ORM calls made while Playwright's loop runs get their own connection (Django keys
        # connections by async context); close it, or it outlives the test database.
        from django.db import connections

        connections.close_all()


@pytest.fixture
def screenshot(tmp_path):
    """screenshot(page, name): a full-page PNG under MODELGATE_SCREENSHOTS (to look at), or
    the test's tmp dir."""
    folder = os.environ.get("MODELGATE_SCREENSHOTS") or str(tmp_path)
    os.makedirs(folder, exist_ok=True)

    def take(page, name):
        path = os.path.join(folder, f"{name}.png")
        page.screenshot(path=path, full_page=True)
        return path

    return take


@pytest.fixture
def sign_in(browser, live_server):
    """sign_in(username, password, viewport=WIDE) -> a page signed in through the sign-in form.
    Every browser page refuses requests to anything but the live server, so a page that
    needs the network fails its test."""

    def open_as(username, password, viewport=WIDE):
        context = browser.new_context(viewport=viewport)
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(live_server.url) else route.abort())
        page = context.new_page()
        page.goto(f"{live_server.url}/signin/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    return open_as


def forge_post(page, action, **fields):
    """Submit a form the page does not offer, with the page's own CSRF token: what a user who
    crafts a request by hand can do. Returns once the answer (after its redirect) has loaded."""
    script = """([action, fields]) => {
        const form = document.createElement("form");
        form.method = "post";
        form.action = action;
        const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
        for (const [name, value] of Object.entries({csrfmiddlewaretoken: token, ...fields})) {
            const input = document.createElement("input");
            input.type = "hidden"; input.name = name; input.value = value;
            form.appendChild(input);
        }
        document.body.appendChild(form);
        form.submit();
    }"""
    with page.expect_navigation():
        page.evaluate(script, [action, fields])
