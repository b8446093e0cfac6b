"""The version page in a real browser: requesting a transition, approving under a quorum,
rejecting, what the requester and readers may not do (and a forged POST), comments, aliases
(a protected one becomes a request) and direct transitions under require_request."""

import pytest

from accounts.models import User
from audit.ctx import Ctx
from registry import actions as registry_actions
from registry.models import ModelVersion
from tests.ui.conftest import NARROW, forge_post
from workflows import actions as workflow_actions
from workflows.models import Comment, Review, TransitionRequest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VERSION_2 = "/models/fraud/versions/2/"


def person(username):
    return User.objects.create_user(username=username, password=f"{username}-pw-123")


@pytest.fixture
def fraud(owner, grant):
    """owner's model `fraud`: v1 in Production behind @champion, v2 new. Production needs two
    approvals and a request; an approval archives v1 and moves @champion. parker (CAN_EDIT)
    builds models; marygrace and rosa (CAN_MANAGE_PRODUCTION_VERSIONS) release them; riley
    only reads (the default level)."""
    ctx = Ctx(user=owner)
    model = registry_actions.model_create(ctx, name="fraud", description="Scores card payments.")
    registry_actions.version_create(ctx, name="fraud", source="s3://models/fraud/1")
    registry_actions.version_create(ctx, name="fraud", source="s3://models/fraud/2", run_id="run-2",
                                    description="Retrained on March data.", tags=[{"key": "dataset", "value": "march"}])
    registry_actions.version_transition(ctx, name="fraud", version="1", stage="Production")
    registry_actions.alias_set(ctx, name="fraud", alias="champion", version="1")
    workflow_actions.stage_policy_set(
        ctx, name="fraud", stage="Production", required_approvals=2, require_request=True,
        archive_existing_on_approval=True, move_alias_on_approval="champion",
    )
    people = {name: person(name) for name in ("parker", "marygrace", "rosa", "riley")}
    grant(model, people["parker"], level="CAN_EDIT")
    grant(model, people["marygrace"], people["rosa"], level="CAN_MANAGE_PRODUCTION_VERSIONS")
    return model, people


def open_version(sign_in, live_server, username, viewport=None, path=VERSION_2):
    page = sign_in(username, f"{username}-pw-123", **({"viewport": viewport} if viewport else {}))
    page.goto(f"{live_server.url}{path}")
    return page


def submit(page, button):
    """Click a form's submit button and wait for the page the POST redirects to."""
    with page.expect_navigation():
        button.click()


def request_card(page):
    return page.locator("article.request").first


def parker_requests_production(people, comment="offline AUC 0.91, ready"):
    return workflow_actions.transition_request_create(
        Ctx(user=people["parker"]), name="fraud", version="2", stage="Production", comment=comment,
    )


def stage_of(number):
    return ModelVersion.objects.get(model__name="fraud", version=number).current_stage


def test_a_data_scientist_requests_a_transition_and_edits_the_description(live_server, sign_in, fraud, screenshot):
    page = open_version(sign_in, live_server, "parker")
    assert "dataset=march" in page.locator("section", has=page.locator("#h-details")).inner_text()
    side = page.locator("aside")
    # parker may not move versions himself: the page says why instead of offering the move.
    transition = side.locator("section", has=page.locator("#h-transition")).inner_text()
    assert "Production: needs CAN_MANAGE_PRODUCTION_VERSIONS" in transition
    assert page.locator("#id_transition_stage").count() == 0
    assert "No pending requests" in page.locator("section", has=page.locator("#h-pending")).inner_text()
    screenshot(page, "version-before-request")

    page.select_option("#id_request_stage", "Production")
    page.fill("#id_request_comment", "offline AUC 0.91, ready")
    submit(page, page.get_by_role("button", name="Request transition"))
    assert "Requested Production for version 2" in page.inner_text(".messages")
    card = request_card(page).inner_text()
    assert "Production" in card and "parker" in card and "offline AUC 0.91, ready" in card
    assert "0 of 2" in card
    # Not a reviewer: no buttons, and the reason.
    assert request_card(page).get_by_role("button", name="Approve").count() == 0
    assert "You cannot approve or reject this request: needs CAN_MANAGE_PRODUCTION_VERSIONS" in card
    # The requester may cancel; the activity reads as a sentence with its time.
    assert request_card(page).get_by_role("button", name="Cancel this request").count() == 1
    first_activity = page.locator("ol.activity li").first.inner_text()
    assert "parker requested Production: offline AUC 0.91, ready" in first_activity
    assert "just now" in first_activity and "UTC" in first_activity

    page.get_by_text("Edit description").click()
    page.fill("#id_description", "Retrained on March and April data.")
    submit(page, page.get_by_role("button", name="Save description"))
    assert "Description saved." in page.inner_text(".messages")
    assert "Retrained on March and April data." in page.inner_text("section:has(#h-description)")
    assert ModelVersion.objects.get(model__name="fraud", version=2).description == "Retrained on March and April data."
    screenshot(page, "version-requested")

    page.set_viewport_size(NARROW)
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    screenshot(page, "version-requested-narrow")


def test_two_approvers_under_a_quorum_of_two_promote_v2_archive_v1_and_move_champion(live_server, sign_in, fraud, screenshot):
    _, people = fraud
    parker_requests_production(people)
    page = open_version(sign_in, live_server, "marygrace")
    page.fill("textarea[name=comment][id^=review-comment]", "offline metrics verified")
    submit(page, request_card(page).get_by_role("button", name="Approve"))
    assert "Approval recorded (1 of 2)" in page.inner_text(".messages")
    card = request_card(page).inner_text()
    assert "1 of 2" in card and "marygrace approved: “offline metrics verified”" in card
    # One approval per reviewer: she is told, and not offered Approve again.
    assert "You cannot approve this request: you have reviewed this already" in card
    assert stage_of(2) == "None"
    screenshot(page, "version-one-approval")

    page = open_version(sign_in, live_server, "rosa")
    page.fill("textarea[name=comment][id^=review-comment]", "shadow traffic looks good")
    submit(page, request_card(page).get_by_role("button", name="Approve"))
    assert "Approved: version 2 moved to Production." in page.inner_text(".messages")
    assert "Production" in page.inner_text("h1")
    assert "@champion" in page.inner_text("section:has(#h-details)")
    assert "No pending requests" in page.inner_text("section:has(#h-pending)")
    activity = page.locator("ol.activity li").all_inner_texts()
    assert activity[0].startswith(
        "rosa approved a transition to Production (version 2 moved to Production; version 1 archived; "
        "@champion moved from version 1 to version 2): shadow traffic looks good"
    )
    assert activity[1].startswith("marygrace approved a transition to Production (1 of 2 approvals): offline metrics verified")
    assert stage_of(1) == "Archived" and stage_of(2) == "Production"
    screenshot(page, "version-promoted")

    page.goto(f"{live_server.url}/models/fraud/versions/1/")
    assert "Archived" in page.inner_text("h1")
    assert "rosa approved a transition to Production" in page.locator("ol.activity li").first.inner_text()


def test_a_reviewer_rejects_with_a_comment_and_the_requester_sees_it(live_server, sign_in, fraud, screenshot):
    _, people = fraud
    parker_requests_production(people)
    page = open_version(sign_in, live_server, "marygrace")
    page.fill("textarea[name=comment][id^=review-comment]", "needs a fairness review first")
    submit(page, request_card(page).get_by_role("button", name="Reject"))
    assert "Request rejected." in page.inner_text(".messages")
    assert "No pending requests" in page.inner_text("section:has(#h-pending)")
    assert page.locator("ol.activity li").first.inner_text().startswith(
        "marygrace rejected a transition to Production: needs a fairness review first"
    )
    assert TransitionRequest.objects.get().status == TransitionRequest.REJECTED

    page = sign_in("parker", "parker-pw-123")
    page.goto(f"{live_server.url}/my-requests/")
    row = page.locator("tbody tr").first.inner_text()
    assert "Rejected" in row and "marygrace" in row and "Version 2" in row and "needs a fairness review first" in row
    screenshot(page, "my-requests-rejected")


def test_the_requester_may_not_approve_their_own_request_and_is_told_why(live_server, sign_in, fraud):
    _, people = fraud
    workflow_actions.transition_request_create(
        Ctx(user=people["marygrace"]), name="fraud", version="2", stage="Production", comment="mine",
    )
    page = open_version(sign_in, live_server, "marygrace")
    card = request_card(page)
    assert card.get_by_role("button", name="Approve").count() == 0
    assert card.get_by_role("button", name="Reject").count() == 1
    assert "You cannot approve this request: you requested this (separation of duties)" in card.inner_text()

    # Posting the approval anyway is refused by the action, on the page.
    req = TransitionRequest.objects.get()
    forge_post(page, f"{VERSION_2}requests/{req.pk}/review/", decision="approve", comment="")
    assert "separation of duties" in page.inner_text(".messages .error")
    assert not Review.objects.exists() and TransitionRequest.objects.get().is_pending


def test_a_reader_sees_the_request_but_no_buttons_and_a_forged_approval_is_refused(live_server, sign_in, fraud, screenshot):
    _, people = fraud
    req = parker_requests_production(people)
    page = open_version(sign_in, live_server, "riley")
    card = request_card(page)
    assert "offline AUC 0.91, ready" in card.inner_text() and "parker" in card.inner_text()
    assert card.locator("button").count() == 0
    assert "needs CAN_MANAGE_PRODUCTION_VERSIONS" in card.inner_text()
    # A reader may not edit the version or its aliases, and is not offered to.
    assert page.get_by_text("Edit description").count() == 0 and page.locator("#id_alias").count() == 0
    screenshot(page, "version-reader")

    forge_post(page, f"{VERSION_2}requests/{req.pk}/review/", decision="approve", comment="sure")
    assert "Permission denied" in page.inner_text(".messages .error")
    assert "requires CAN_MANAGE_PRODUCTION_VERSIONS" in page.inner_text(".messages .error")
    forge_post(page, f"{VERSION_2}alias/", alias="champion", comment="")
    assert "Permission denied" in page.inner_text(".messages .error")
    assert not Review.objects.exists() and TransitionRequest.objects.get().is_pending
    assert stage_of(2) == "None" and not ModelVersion.objects.get(model__name="fraud", version=2).aliases.exists()


def test_comments_are_added_edited_and_deleted_by_their_author_only(live_server, sign_in, fraud, screenshot):
    page = open_version(sign_in, live_server, "parker")
    page.fill("#id_new_comment", "Calibration plot attached to the run.")
    submit(page, page.get_by_role("button", name="Comment", exact=True))
    assert "Comment added." in page.inner_text(".messages")
    comment = page.locator("li.comment").first
    assert "parker" in comment.inner_text() and "Calibration plot attached to the run." in comment.inner_text()

    comment.locator("summary", has_text="Edit").click()
    comment.locator("textarea").fill("Calibration plot and PR curve attached to the run.")
    submit(page, comment.get_by_role("button", name="Save comment"))
    assert "Comment saved." in page.inner_text(".messages")
    assert "Calibration plot and PR curve attached to the run." in page.locator("li.comment").first.inner_text()
    screenshot(page, "version-comment")

    # Someone else sees the comment without Edit or Delete, and cannot forge an edit.
    other = open_version(sign_in, live_server, "riley")
    theirs = other.locator("li.comment").first
    assert theirs.locator("summary").count() == 0 and theirs.locator("button").count() == 0
    forge_post(other, f"{VERSION_2}comments/{Comment.objects.get().pk}/edit/", comment="hijacked")
    assert "only the author may edit" in other.inner_text(".messages .error")
    assert Comment.objects.get().comment == "Calibration plot and PR curve attached to the run."

    page.reload()
    submit(page, page.locator("li.comment").first.get_by_role("button", name="Delete"))
    assert "Comment deleted." in page.inner_text(".messages")
    assert "No comments yet." in page.inner_text("section:has(#h-comments)")
    sentences = page.locator("ol.activity li").all_inner_texts()
    assert sentences[0].startswith("parker deleted a comment")
    assert sentences[1].startswith("parker edited a comment: Calibration plot and PR curve")
    assert sentences[2].startswith("parker commented: Calibration plot attached")


def test_a_protected_alias_move_becomes_a_request_and_a_plain_alias_is_set_directly(live_server, sign_in, fraud, screenshot):
    model, people = fraud
    workflow_actions.alias_policy_set(Ctx(user=model.created_by), name="fraud", pattern="champion")
    page = open_version(sign_in, live_server, "parker")
    assert "@champion is protected" in page.inner_text("#alias-help")

    page.fill("#id_alias", "candidate")
    submit(page, page.get_by_role("button", name="Set alias"))
    assert "@candidate now points at version 2." in page.inner_text(".messages")
    assert "@candidate" in page.inner_text(".alias-list")

    page.fill("#id_alias", "champion")
    page.fill("#id_alias_comment", "v2 beats v1 on recall")
    submit(page, page.get_by_role("button", name="Set alias"))
    assert "@champion is protected, so your change is a request" in page.inner_text(".messages")
    card = request_card(page).inner_text()
    assert "@champion" in card and "v2 beats v1 on recall" in card and "parker" in card
    assert model.aliases.get(alias="champion").version.version == 1
    screenshot(page, "version-alias-request")

    submit(page, page.locator(".alias-list li", has_text="@candidate").get_by_role("button", name="Remove"))
    assert "@candidate removed." in page.inner_text(".messages")

    page = open_version(sign_in, live_server, "marygrace")
    submit(page, request_card(page).get_by_role("button", name="Approve"))
    assert "Approved: @champion now points at version 2." in page.inner_text(".messages")
    assert model.aliases.get(alias="champion").version.version == 2


def test_direct_transitions_are_offered_only_where_the_policy_allows_them(live_server, sign_in, fraud):
    page = open_version(sign_in, live_server, "marygrace")
    offered = page.locator("#id_transition_stage option").all_inner_texts()
    assert "Staging" in offered and "Production" not in offered
    assert "Production: the Production policy requires an approved request" in page.inner_text("section:has(#h-transition)")
    page.select_option("#id_transition_stage", "Staging")
    submit(page, page.get_by_role("button", name="Move now"))
    assert "Version 2 is now in Staging." in page.inner_text(".messages")
    assert stage_of(2) == "Staging"

    # The move the page does not offer, posted anyway, is refused with the policy's reason.
    forge_post(page, f"{VERSION_2}transition/", stage="Production", comment="")
    assert "requires an approved transition request" in page.inner_text(".messages .error")
    assert stage_of(2) == "Staging"


def test_someone_who_cannot_read_the_model_gets_404_from_its_pages_and_forms(live_server, sign_in, fraud, settings):
    settings.MODELGATE_DEFAULT_LEVEL = "NONE"
    User.objects.create_user(username="outsider", password="outsider-pw-123")
    page = sign_in("outsider", "outsider-pw-123")
    assert page.goto(f"{live_server.url}{VERSION_2}").status == 404
    page.goto(f"{live_server.url}/reviews/")  # a page with a form, for the CSRF token
    forge_post(page, f"{VERSION_2}comments/", comment="hello?")
    assert "Not found" in page.inner_text("h1")
    assert not Comment.objects.exists()
