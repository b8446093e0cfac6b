"""The model page: editing the description and tags (CAN_EDIT), what readers see, the model's
pending requests and activity, and the access and webhooks sections only managers see."""

import pytest
from django.contrib.auth.models import Group

from accounts.models import User
from audit import events
from audit.ctx import Ctx
from registry import actions
from registry.models import RegisteredModel
from tests.conftest import events_since, last_seq
from tests.ui.conftest import NARROW, forge_post
from webhooks.actions import webhook_create
from workflows.actions import transition_request_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fraud(owner):
    """owner's model `fraud`: three versions, v1 in Production behind @champion, a team tag."""
    ctx = Ctx(user=owner)
    model = actions.model_create(ctx, name="fraud", description="Scores card payments.",
                                 tags=[{"key": "team", "value": "risk"}])
    for n in range(1, 4):
        actions.version_create(ctx, name="fraud", source=f"s3://models/fraud/{n}", run_id=f"run{n}")
    actions.version_transition(ctx, name="fraud", version="1", stage="Production")
    actions.alias_set(ctx, name="fraud", alias="champion", version="1")
    return model


@pytest.fixture
def editor(fraud, grant):
    user = User.objects.create_user(username="editor", password="editor-pw-123")
    grant(fraud, user, level="CAN_EDIT")
    return user


def test_an_editor_edits_the_description_and_tags(live_server, sign_in, fraud, editor, screenshot):
    seq = last_seq()
    page = sign_in("editor", "editor-pw-123")
    page.goto(f"{live_server.url}/models/fraud/")
    page.get_by_text("Edit description").click()
    page.get_by_role("textbox", name="Description").fill("Scores card payments in real time.")
    page.get_by_role("button", name="Save description").click()
    assert "Description saved." in page.inner_text(".messages")
    assert "Scores card payments in real time." in page.inner_text("#description")

    page.get_by_label("Key").fill("owner-team")
    page.get_by_label("Value").fill("fraud-ops")
    page.get_by_role("button", name="Set tag").click()
    assert "Tag owner-team set." in page.inner_text(".messages")
    page.get_by_role("button", name="Remove tag team").click()
    assert "Tag team removed." in page.inner_text(".messages")
    tags = page.inner_text("#tags")
    assert "owner-team=fraud-ops" in tags and "team=risk" not in tags
    screenshot(page, "model-editor")

    model = RegisteredModel.objects.get(name="fraud")
    assert model.description == "Scores card payments in real time."
    assert dict(model.tags.values_list("key", "value")) == {"owner-team": "fraud-ops"}
    assert events_since(seq, via="ui") == [events.MODEL_UPDATED, events.MODEL_TAG_SET, events.MODEL_TAG_DELETED]


def test_a_bad_tag_key_is_refused_with_a_message(live_server, sign_in, fraud, editor):
    seq = last_seq()
    page = sign_in("editor", "editor-pw-123")
    page.goto(f"{live_server.url}/models/fraud/")
    page.get_by_label("Key").fill("bad..key/../x")
    page.get_by_label("Value").fill("v")
    page.get_by_role("button", name="Set tag").click()
    assert "Invalid tag key" in page.inner_text(".messages .error")
    assert events_since(seq) == []


def test_a_reader_sees_no_edit_controls_and_a_forged_edit_is_refused(live_server, sign_in, fraud, reviewer, screenshot):
    seq = last_seq()
    page = sign_in("reviewer", "reviewer-pw-123")
    page.goto(f"{live_server.url}/models/fraud/")
    assert "Scores card payments." in page.inner_text("#description")
    assert page.get_by_text("Edit description").count() == 0
    assert page.locator("#description form, #tags form").count() == 0
    assert page.get_by_role("button", name="Remove tag team").count() == 0
    screenshot(page, "model-reader")

    forge_post(page, "/models/fraud/description/", description="defaced")
    assert page.url == f"{live_server.url}/models/fraud/"
    refusal = page.inner_text(".messages .error")
    assert "requires CAN_EDIT" in refusal and "you have CAN_READ" in refusal
    forge_post(page, "/models/fraud/tags/delete/", key="team")
    assert "requires CAN_EDIT" in page.inner_text(".messages .error")
    model = RegisteredModel.objects.get(name="fraud")
    assert model.description == "Scores card payments." and model.tags.filter(key="team").exists()
    assert events_since(seq) == []


def test_a_forged_edit_of_a_model_you_cannot_read_is_not_found(live_server, sign_in, fraud, outsider, settings):
    settings.MODELGATE_DEFAULT_LEVEL = "NONE"
    page = sign_in("outsider", "outsider-pw-123")
    forge_post(page, "/models/fraud/description/", description="defaced")
    assert "Not found" in page.inner_text("h1")
    assert RegisteredModel.objects.get(name="fraud").description == "Scores card payments."


def test_the_model_page_shows_its_versions_aliases_and_pending_requests(live_server, sign_in, fraud, owner, reviewer, screenshot):
    transition_request_create(Ctx(user=reviewer), name="fraud", version="3", stage="Production",
                              comment="offline metrics beat v1")
    transition_request_create(Ctx(user=reviewer), name="fraud", version="2", alias="challenger",
                              comment="shadow traffic")
    page = sign_in("owner", "owner-pw-123")
    page.goto(f"{live_server.url}/models/fraud/")

    versions = page.locator("#versions tbody tr").all_inner_texts()
    assert [row.split()[1] for row in versions] == ["3", "2", "1"]
    assert "Production" in versions[2] and "@champion" in versions[2] and "s3://models/fraud/1" in versions[2]
    assert "@champion → Version 1" in page.inner_text("#aliases")

    requests = page.locator("#requests tbody tr")
    assert requests.count() == 2
    stage_row = requests.filter(has_text="Production").inner_text()
    assert "Version 3" in stage_row and "reviewer" in stage_row and "offline metrics beat v1" in stage_row
    alias_row = requests.filter(has_text="@challenger").inner_text()
    assert "Version 2" in alias_row and "shadow traffic" in alias_row
    screenshot(page, "model-requests")
    # The Compare control offers the two newest versions.
    page.locator("#versions").get_by_role("button", name="Compare").click()
    page.wait_for_url(f"{live_server.url}/models/fraud/compare/?a=2&b=3")
    page.go_back()
    requests.filter(has_text="Production").get_by_role("link", name="Review").click()
    page.wait_for_url(f"{live_server.url}/models/fraud/versions/3/#request-*")
    assert page.locator(".request:target").is_visible()


def test_the_model_page_shows_its_recent_activity_as_sentences(live_server, sign_in, fraud, owner):
    actions.model_tag_set(Ctx(user=owner, via="api"), name="fraud", key="tier", value="gold")
    page = sign_in("owner", "owner-pw-123")
    page.goto(f"{live_server.url}/models/fraud/")
    lines = page.locator("#activity li").all_inner_texts()
    # Newest first, each a sentence with who and when.
    assert lines[0].startswith("owner ") and "tier" in lines[0]
    assert "just now" in lines[0] and "UTC" in lines[0]
    assert any("champion" in line for line in lines)


def test_access_and_webhooks_are_shown_to_managers_only(live_server, sign_in, fraud, owner, reviewer, editor, screenshot):
    team_member = User.objects.create_user(username="marygrace", password="marygrace-pw-123")
    approvers = Group.objects.create(name="release-managers")
    approvers.user_set.add(team_member)
    actions.model_permissions_change(
        Ctx(user=owner), uid=fraud.uid, replace=False,
        access_control_list=[{"group_name": "release-managers", "permission_level": "CAN_MANAGE_PRODUCTION_VERSIONS"}],
    )
    webhook_create(Ctx(user=owner), flavor="databricks", model_name="fraud", events=["MODEL_VERSION_CREATED"],
                   url="https://hooks.example.com/registry?token=s3cret", name="deploy hook", secret="hook-secret-123")
    actions.version_create(Ctx(user=owner), name="fraud", source="s3://models/fraud/4")

    page = sign_in("owner", "owner-pw-123")
    page.goto(f"{live_server.url}/models/fraud/")
    access = page.inner_text("#access")
    assert "release-managers" in access and "CAN_MANAGE_PRODUCTION_VERSIONS" in access
    effective = {row.split("\t")[0]: row for row in page.locator("#effective tbody tr").all_inner_texts()}
    assert "CAN_MANAGE_PRODUCTION_VERSIONS" in effective["marygrace"] and "team release-managers" in effective["marygrace"]
    assert "CAN_EDIT" in effective["editor"] and "CAN_MANAGE" in effective["owner"]
    hooks = page.inner_text("#webhooks")
    assert "deploy hook" in hooks and "hooks.example.com" in hooks and "MODEL_VERSION_CREATED" in hooks
    assert "ACTIVE" in hooks and "PENDING" in hooks
    assert "s3cret" not in hooks and "hook-secret-123" not in page.content()
    screenshot(page, "model-manager")

    for reader in ("reviewer", "editor"):
        page = sign_in(reader, f"{reader}-pw-123")
        page.goto(f"{live_server.url}/models/fraud/")
        assert page.locator("#access").count() == 0 and page.locator("#webhooks").count() == 0
        assert "hook-secret-123" not in page.content()


def test_the_model_page_is_readable_on_a_phone(live_server, sign_in, fraud, owner, screenshot):
    page = sign_in("owner", "owner-pw-123", viewport=NARROW)
    page.goto(f"{live_server.url}/models/fraud/")
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    # Each version is a card of labelled cells, all inside the screen.
    row = page.locator("#versions tbody tr").last
    assert row.locator("td[data-label=Source]").is_visible()
    box = row.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= NARROW["width"]
    screenshot(page, "model-narrow")
