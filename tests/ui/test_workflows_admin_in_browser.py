"""The workflows admin in a real headless Chromium against a live server: stage and alias
policies are listed, added and deleted (bulk "delete selected" included) only by those who
may manage them, always through the policy actions; and a version's page requests a
transition from a form of its own."""

import pytest

from accounts.models import User
from audit.ctx import Ctx
from audit.models import Activity
from registry import actions as registry_actions
from registry.models import RegisteredModel
from tests.conftest import events_since, last_seq
from tests.ui.test_admin_approvals_in_browser import _login
from workflows import actions
from workflows.models import AliasPolicy, StagePolicy, TransitionRequest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

POLICY_PAGES = {"stagepolicy": StagePolicy, "aliaspolicy": AliasPolicy}


def staff(username, **extra):
    return User.objects.create_user(username=username, password=f"{username}-pw-1", is_staff=True, **extra)


@pytest.fixture
def policies():
    """fraud (by `scientist`, who manages it) with its own Staging policy; the registry-wide
    Production policy and `champion` alias policy, set by a registry admin (`root`)."""
    root = User.objects.create_superuser("root", "root@example.com", "root-pw-1")
    scientist = staff("scientist")
    registry_actions.model_create(Ctx(user=scientist), name="fraud")
    registry_actions.model_create(Ctx(user=root), name="churn")
    admin = Ctx(user=root, via="admin")
    actions.stage_policy_set(admin, stage="Production", required_approvals=2, require_request=True)
    actions.alias_policy_set(admin, pattern="champion", required_level="CAN_MANAGE")
    actions.stage_policy_set(Ctx(user=scientist), name="fraud", stage="Staging", required_approvals=2)
    actions.stage_policy_set(admin, name="churn", stage="Staging", required_approvals=3)
    return root


def csrf_of(page):
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


def forged_bulk_delete(page, url, ids):
    """The changelist's "delete selected" as the browser posts it, confirmation included."""
    body = "&".join(
        [f"csrfmiddlewaretoken={csrf_of(page)}", "action=delete_selected", "post=yes", "index=0"]
        + [f"_selected_action={pk}" for pk in ids]
    )
    return page.request.post(url, data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Referer": url,
    })


def test_a_staff_member_without_grants_can_neither_list_nor_bulk_delete_policies(live_server, browser, policies):
    staff("bystander")
    seq = last_seq()
    page = browser.new_page()
    _login(page, live_server, "bystander", "bystander-pw-1")

    for page_name, policy_class in POLICY_PAGES.items():
        url = f"{live_server.url}/admin/workflows/{page_name}/"
        assert page.goto(url).status == 403
        ids = list(policy_class.objects.values_list("pk", flat=True))
        assert forged_bulk_delete(page, url, ids).status == 403

    assert StagePolicy.objects.count() == 3 and AliasPolicy.objects.count() == 1
    assert events_since(seq) == []


def test_a_model_manager_sees_and_picks_only_the_models_they_manage(live_server, browser, policies):
    page = browser.new_page()
    _login(page, live_server, "scientist", "scientist-pw-1")

    page.goto(f"{live_server.url}/admin/workflows/stagepolicy/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1 and "fraud" in rows.first.inner_text()

    page.goto(f"{live_server.url}/admin/workflows/stagepolicy/add/")
    choices = page.locator("select[name=model] option").all_inner_texts()
    assert [c for c in choices if c.strip("-")] == ["fraud"]

    # Posting another model's id anyway is refused by the form, on the record of nothing.
    seq = last_seq()
    churn = RegisteredModel.objects.get(name="churn")
    add_url = f"{live_server.url}/admin/workflows/stagepolicy/add/"
    response = page.request.post(add_url, headers={"Referer": add_url}, form={
        "csrfmiddlewaretoken": csrf_of(page), "model": str(churn.pk), "stage": "Production",
        "required_approvals": "5", "required_checks": "[]",
    })
    assert response.status == 200 and "Select a valid choice" in response.text()
    assert not StagePolicy.objects.filter(model=churn, stage="Production").exists()
    assert events_since(seq) == []


def test_a_registry_admins_bulk_delete_goes_through_the_actions_one_activity_per_policy(
    live_server, browser, policies
):
    seq = last_seq()
    page = browser.new_page()
    _login(page, live_server, "root", "root-pw-1")

    for page_name in POLICY_PAGES:
        page.goto(f"{live_server.url}/admin/workflows/{page_name}/")
        page.check("#action-toggle")
        page.select_option("select[name=action]", "delete_selected")
        page.click("button[name=index]")
        page.click("input[type=submit]")  # "Yes, I'm sure"
        page.wait_for_selector(".messagelist")

    assert not StagePolicy.objects.exists() and not AliasPolicy.objects.exists()
    rows = list(Activity.objects.filter(seq__gt=seq).order_by("seq"))
    assert sorted((r.event, r.model_name, r.target, r.actor, r.via) for r in rows) == sorted([
        ("stage_policy.changed", "", "Production", "root", "admin"),
        ("stage_policy.changed", "fraud", "Staging", "root", "admin"),
        ("stage_policy.changed", "churn", "Staging", "root", "admin"),
        ("alias_policy.changed", "", "champion", "root", "admin"),
    ])
    assert all(r.before is not None and r.after is None for r in rows)


def test_a_transition_is_requested_from_a_versions_admin_page(live_server, browser):
    scientist = staff("scientist")
    registry_actions.model_create(Ctx(user=scientist), name="fraud")
    mv = registry_actions.version_create(Ctx(user=scientist), name="fraud", source="s3://bucket/fraud/1")
    staff("analyst")  # reads every model (the default level), holds nothing more
    page = browser.new_page()
    _login(page, live_server, "analyst", "analyst-pw-1")
    page.goto(f"{live_server.url}/admin/registry/modelversion/{mv.pk}/change/")

    form = page.locator(".module", has_text="Request a transition")
    form.locator("select[name=stage]").select_option("Production")
    form.locator("textarea[name=comment]").fill("ready for the A/B test")
    with page.expect_navigation():
        form.locator("input[type=submit]").click()

    assert "Requested Production for fraud v1." in page.inner_text("body")
    assert "Production" in page.locator(".module", has_text="Open requests").inner_text()
    request = TransitionRequest.objects.get()
    assert (request.to_stage, request.created_by.username, request.comment) == (
        "Production", "analyst", "ready for the A/B test"
    )
    created = Activity.objects.get(event="transition_request.created")
    assert (created.actor, created.via) == ("analyst", "admin")
