"""The delivery log in the admin, in a real headless Chromium against a live server: what an
internal destination answered is for registry admins only, as in the API."""

import pytest

from webhooks import actions
from webhooks.models import Delivery

from ..ui.conftest import browser  # noqa: F401  (the shared headless Chromium)
from .conftest import Reply

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SECRET_PAGE = "Jenkins script console: root password hunter2"
HIDDEN = "failed at an internal destination (registry admins see the details)"


def delivery_page_as(browser, live_server, username, password, delivery):  # noqa: F811
    page = browser.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/webhooks/delivery/{delivery.pk}/change/")
    return page.inner_text("#content")


def test_a_staff_model_owner_sees_no_answer_of_an_internal_destination_in_the_admin_and_an_admin_does(
    live_server, browser, make_model, make_receiver, webhook_for, ctx_for, owner, admin_user  # noqa: F811
):
    owner.is_staff = True
    owner.save()
    make_model("fraud")
    receiver = make_receiver()
    receiver.default = Reply(500, SECRET_PAGE.encode())
    hook = webhook_for(receiver.url, ["MODEL_VERSION_CREATED"], model="fraud")  # a registry admin's, internal
    actions.webhook_test(ctx_for(admin_user), webhook_id=hook.id, event="MODEL_VERSION_CREATED")
    delivery = Delivery.objects.get(webhook=hook)

    seen_by_owner = delivery_page_as(browser, live_server, "owner", "owner-pw-123", delivery)
    assert "MODEL_VERSION_CREATED" in seen_by_owner  # the page is there for the owner
    assert "hunter2" not in seen_by_owner and HIDDEN in seen_by_owner

    seen_by_admin = delivery_page_as(browser, live_server, "admin", "admin-pw-123", delivery)
    assert SECRET_PAGE in seen_by_admin and "HTTP 500" in seen_by_admin
