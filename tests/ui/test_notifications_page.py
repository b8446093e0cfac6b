"""Notification choices in a real browser: follow or mute a model from its page, choose
immediate, digest or no email on the Notifications page; each choice one activity."""

import pytest

from accounts.models import User
from audit import events
from audit.ctx import Ctx
from notifications.models import Email, Preference, Subscription
from registry import actions as registry_actions
from tests.conftest import events_since, last_seq
from tests.ui.conftest import NARROW
from workflows import actions as workflow_actions

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def parker(owner, grant):
    """parker (with an address) may decide Production moves on fraud; churn is there too."""
    parker = User.objects.create_user(username="parker", password="parker-pw-123", email="parker@example.test")
    for name in ("fraud", "churn"):
        model = registry_actions.model_create(Ctx(user=owner), name=name)
        registry_actions.version_create(Ctx(user=owner), name=name, source=f"s3://models/{name}/1")
        grant(model, parker, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    return parker


def test_follow_and_mute_a_model_from_its_page(live_server, sign_in, parker, owner, screenshot):
    page = sign_in("parker", "parker-pw-123")
    page.goto(f"{live_server.url}/models/fraud/")
    seq = last_seq()
    page.get_by_role("button", name="Follow").click()
    page.wait_for_load_state()
    assert "You follow fraud" in page.inner_text(".messages")
    assert page.locator("form.subscription .badge").inner_text() == "Following"
    assert Subscription.objects.get(user=parker).state == "follow"
    screenshot(page, "model-following")

    page.get_by_role("button", name="Mute").click()
    page.wait_for_load_state()
    assert "fraud is muted" in page.inner_text(".messages")
    assert page.locator("form.subscription .badge").inner_text() == "Muted"
    assert events_since(seq) == [events.MODEL_SUBSCRIPTION_CHANGED] * 2
    # Muted: a request parker could decide sends them nothing.
    workflow_actions.transition_request_create(Ctx(user=owner), name="fraud", version="1", stage="Production")
    assert not Email.objects.filter(user=parker).exists()

    page.set_viewport_size(NARROW)
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    screenshot(page, "model-muted-narrow")

    page.get_by_role("button", name="Unmute").click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="Follow").is_visible()
    assert not Subscription.objects.filter(user=parker).exists()


def test_the_notifications_page_sets_how_email_comes_and_lists_followed_models(
        live_server, sign_in, parker, owner, screenshot):
    from notifications.actions import model_subscription_set

    model_subscription_set(Ctx(user=parker), name="churn", state="follow")
    model_subscription_set(Ctx(user=parker), name="fraud", state="mute")
    workflow_actions.transition_request_create(Ctx(user=owner), name="churn", version="1", stage="Production")
    page = sign_in("parker", "parker-pw-123")
    page.get_by_role("link", name="Notifications").click()
    page.wait_for_url(f"{live_server.url}/notifications/")
    assert page.get_by_label("Each event at once").is_checked()
    assert "To parker@example.test" in page.inner_text("#delivery")
    models = page.locator("#models li").all_inner_texts()
    assert [m.split()[0:2] for m in models] == [["churn", "Following"], ["fraud", "Muted"]]
    assert "Review requested: churn v1 → Production by owner" in page.inner_text("#emails")
    screenshot(page, "notifications")

    seq = last_seq()
    page.get_by_label("A daily digest").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert "Email choice saved." in page.inner_text(".messages")
    assert page.get_by_label("A daily digest").is_checked()
    assert Preference.objects.get(user=parker).delivery == "digest"
    assert events_since(seq) == [events.NOTIFICATION_SETTINGS_CHANGED]

    page.get_by_role("button", name="Unmute fraud").click()
    page.wait_for_url(f"{live_server.url}/notifications/")
    assert [m.split()[0] for m in page.locator("#models li").all_inner_texts()] == ["churn"]

    page.set_viewport_size(NARROW)
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    screenshot(page, "notifications-narrow")


def test_someone_without_an_address_is_told_nothing_is_sent(live_server, sign_in, parker):
    User.objects.create_user(username="riley", password="riley-pw-123")
    page = sign_in("riley", "riley-pw-123")
    page.goto(f"{live_server.url}/notifications/")
    assert "Your account has no email address, so nothing is sent to you." in page.inner_text("#delivery")
