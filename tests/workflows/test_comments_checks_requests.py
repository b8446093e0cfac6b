"""Comments, CI checks and transition requests over the HTTP API: who may do what, what the
answers hold, how a request whose version moved is closed by the system, and that lenient
inputs (JSON bodies on GET/DELETE, string booleans) work while bad ones get a 4xx, never a
500, and change nothing."""

import json

import pytest

from accounts.models import User
from audit.models import Activity
from registry import actions as registry_actions
from tests.conftest import events_since, last_seq
from workflows import actions, render
from workflows.models import Check, Comment, TransitionRequest

from .conftest import stage_of


@pytest.fixture
def fraud(build, grant, reviewer, ci_bot):
    """`fraud` v1, v2 in None by `owner`; `reviewer` manages Production, `ci_bot` may edit."""
    model = build("fraud", stages=("None", "None"))
    grant(model, reviewer, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    grant(model, ci_bot, level="CAN_EDIT")
    return model


def error_of(response):
    return response.status_code, response.json_body["error_code"]


# Comments --------------------------------------------------------------------------------------


@pytest.fixture
def comment_by_outsider(fraud, api_as, outsider):
    created = api_as(outsider).post("comments/create", name="fraud", version="1", comment="drift looks fine")
    assert created.status_code == 200, created.json_body
    return created.json_body["comment"]


def test_a_reader_comments_and_only_the_author_may_edit_the_comment(
    comment_by_outsider, api_as, owner, outsider
):
    comment_id = comment_by_outsider["id"]
    assert comment_by_outsider["user_id"] == "outsider"
    assert comment_by_outsider["available_actions"] == ["EDIT_COMMENT", "DELETE_COMMENT"]
    seq = last_seq()

    # Not even CAN_MANAGE rewrites someone else's words.
    denied = api_as(owner).patch("comments/update", id=comment_id, comment="rewritten")
    assert error_of(denied) == (403, "PERMISSION_DENIED")
    assert "only the author" in denied.json_body["message"]
    assert Comment.objects.get().comment == "drift looks fine"
    assert events_since(seq) == []

    edited = api_as(outsider).patch("comments/update", id=comment_id, comment="drift within 2%")
    assert edited.status_code == 200
    assert (edited.json_body["comment"]["id"], edited.json_body["comment"]["comment"]) == (comment_id, "drift within 2%")
    assert events_since(seq) == ["comment.updated"]


def test_a_comment_is_deleted_by_its_author_or_a_can_manage_holder_only(
    comment_by_outsider, api_as, owner, reviewer, make_user
):
    comment_id = comment_by_outsider["id"]

    for user in (reviewer, make_user("bystander")):  # CAN_MANAGE_PRODUCTION_VERSIONS, CAN_READ
        denied = api_as(user).delete("comments/delete", id=comment_id)
        assert error_of(denied) == (403, "PERMISSION_DENIED")
        assert "requires CAN_MANAGE" in denied.json_body["message"]
    assert Comment.objects.count() == 1

    assert api_as(owner).delete("comments/delete", id=comment_id).status_code == 200
    assert not Comment.objects.exists()
    deleted = Activity.objects.get(event="comment.deleted")
    assert (deleted.actor, deleted.before["author"], deleted.before["comment"]) == (
        "owner", "outsider", "drift looks fine"
    )

    own = api_as(reviewer).post("comments/create", name="fraud", version="1", comment="mine").json_body["comment"]
    assert api_as(reviewer).delete("comments/delete", id=own["id"]).status_code == 200
    assert error_of(api_as(reviewer).delete("comments/delete", id=own["id"])) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_a_comments_available_actions_depend_on_the_viewer(comment_by_outsider, owner, reviewer, outsider):
    row = Comment.objects.get()
    assert render.comment_json(outsider, row)["available_actions"] == ["EDIT_COMMENT", "DELETE_COMMENT"]
    assert render.comment_json(owner, row)["available_actions"] == ["DELETE_COMMENT"]
    assert render.comment_json(reviewer, row)["available_actions"] == []


@pytest.mark.parametrize("method, path, fields", [
    ("PATCH", "comments/update", {"comment": "rewritten"}),
    ("DELETE", "comments/delete", {}),
])
def test_a_comment_on_a_model_the_caller_cannot_read_answers_exactly_like_a_missing_comment(
    fraud, api_as, owner, outsider, settings, method, path, fields
):
    hidden_id = api_as(owner).post("comments/create", name="fraud", version="1", comment="internal").json_body["comment"]["id"]
    settings.MODELGATE_DEFAULT_LEVEL = "NONE"
    api = api_as(outsider)
    seq = last_seq()

    hidden = api.call(method, path, {"id": hidden_id, **fields})
    missing = api.call(method, path, {"id": "999999", **fields})

    assert error_of(hidden) == error_of(missing) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert hidden.json_body["message"].replace(hidden_id, "N") == missing.json_body["message"].replace("999999", "N")
    assert "fraud" not in hidden.json_body["message"]
    assert Comment.objects.get().comment == "internal" and events_since(seq) == []


def test_an_outsider_without_access_cannot_comment_and_learns_nothing(fraud, api_as, outsider, settings):
    settings.MODELGATE_DEFAULT_LEVEL = "NONE"
    seq = last_seq()

    denied = api_as(outsider).post("comments/create", name="fraud", version="1", comment="hello")

    assert error_of(denied) == (404, "RESOURCE_DOES_NOT_EXIST")  # as if the model did not exist
    assert not Comment.objects.exists() and events_since(seq) == []


# Checks ----------------------------------------------------------------------------------------


def test_a_service_account_with_can_edit_reports_a_check_with_its_token(fraud, modelgate_as, ci_bot):
    reported = modelgate_as(ci_bot).post(
        "checks/report", name="fraud", version="1", check="ci/validation", status="success",
        details_url="https://ci.example.com/job/validate/41/", summary="42 tests passed",
    )

    assert reported.status_code == 200, reported.json_body
    check = reported.json_body["check"]
    assert (check["check"], check["status"], check["reported_by"]) == ("ci/validation", "success", "ci-bot")
    assert check["details_url"] == "https://ci.example.com/job/validate/41/"
    row = Activity.objects.get(event="check.reported")
    assert (row.actor, row.version, row.target, row.token_id is not None) == ("ci-bot", 1, "ci/validation", True)


def test_a_reader_may_not_report_a_check(fraud, modelgate_as, outsider):
    seq = last_seq()

    denied = modelgate_as(outsider).post(
        "checks/report", name="fraud", version="1", check="ci/validation", status="success"
    )

    assert error_of(denied) == (403, "PERMISSION_DENIED")
    assert "reporting a check" in denied.json_body["message"] and "requires CAN_EDIT" in denied.json_body["message"]
    assert not Check.objects.exists() and events_since(seq) == []


def test_people_may_not_report_checks_even_with_can_manage(fraud, modelgate_as, owner, grant, make_user):
    editor = make_user("editor")
    grant(fraud, editor, level="CAN_EDIT")
    seq = last_seq()

    for person in (owner, editor):  # CAN_MANAGE (the model's creator), CAN_EDIT
        denied = modelgate_as(person).post("checks/report", name="fraud", version="1", check="ci/validate", status="success")
        assert error_of(denied) == (403, "PERMISSION_DENIED")
        assert "reported by service accounts" in denied.json_body["message"]
    assert not Check.objects.exists() and events_since(seq) == []


def test_jenkins_checks_are_reported_only_by_the_jenkins_integration(fraud, modelgate_as, ci_bot):
    from workflows.tasks import record_check

    seq = last_seq()
    denied = modelgate_as(ci_bot).post("checks/report", name="fraud", version="1", check="jenkins/validation", status="success")
    assert error_of(denied) == (403, "PERMISSION_DENIED")
    assert "Jenkins integration" in denied.json_body["message"]
    assert not Check.objects.exists() and events_since(seq) == []

    # What the webhooks app hands over by task name when a Jenkins build it started finishes.
    record_check(model_uid=fraud.uid, name="fraud", version="1", check="jenkins/validation", status="success",
                 details_url="https://jenkins.example.com/job/validation/7/", summary="Jenkins build #7: SUCCESS")
    listed = modelgate_as(ci_bot).get("checks/list", name="fraud", version="1").json_body["checks"]
    assert [(c["check"], c["status"], c["reported_by"]) for c in listed] == [("jenkins/validation", "success", None)]
    assert Activity.objects.get(event="check.reported").actor == "system"


def test_a_service_account_may_not_report_checks_on_a_version_it_asked_to_move(fraud, api_as, modelgate_as, ci_bot):
    assert api_as(ci_bot).post("transition-requests/create", name="fraud", version="1", stage="Production").status_code == 200
    seq = last_seq()

    denied = modelgate_as(ci_bot).post("checks/report", name="fraud", version="1", check="ci/validate", status="success")

    assert error_of(denied) == (403, "PERMISSION_DENIED")
    assert "requester" in denied.json_body["message"]
    assert not Check.objects.exists() and events_since(seq) == []
    # Other versions are not its request's.
    assert modelgate_as(ci_bot).post("checks/report", name="fraud", version="2", check="ci/validate", status="success").status_code == 200


def test_a_check_the_requester_reported_before_asking_does_not_count_for_the_approval(
    fraud, api_as, modelgate_as, ci_bot, reviewer, admin_user, grant, ctx_for
):
    actions.stage_policy_set(ctx_for(admin_user), stage="Production", required_checks=["ci/validate"])
    ci = modelgate_as(ci_bot)
    assert ci.post("checks/report", name="fraud", version="1", check="ci/validate", status="success").status_code == 200
    assert api_as(ci_bot).post("transition-requests/create", name="fraud", version="1", stage="Production").status_code == 200
    body = {"name": "fraud", "version": "1", "stage": "Production", "archive_existing_versions": False}

    refused = api_as(reviewer).post("transition-requests/approve", **body)
    assert error_of(refused) == (409, "RESOURCE_CONFLICT")
    assert "ci/validate is missing" in refused.json_body["message"]
    assert stage_of(1) == "None"

    other_ci = User.objects.create(username="other-ci", is_service_account=True)
    grant(fraud, other_ci, level="CAN_EDIT")
    assert modelgate_as(other_ci).post("checks/report", name="fraud", version="1", check="ci/validate", status="success").status_code == 200
    assert api_as(reviewer).post("transition-requests/approve", **body).status_code == 200
    assert stage_of(1) == "Production"


def test_the_latest_report_per_check_name_wins_in_the_check_list(fraud, modelgate_as, ci_bot, outsider):
    ci = modelgate_as(ci_bot)
    for check, status in [
        ("ci/validation", "pending"), ("lint", "failure"),
        ("ci/validation", "failure"), ("ci/validation", "success"),
    ]:
        assert ci.post("checks/report", name="fraud", version="1", check=check, status=status).status_code == 200
    ci.post("checks/report", name="fraud", version="2", check="lint", status="success")

    listed = modelgate_as(outsider).get("checks/list", name="fraud", version="1").json_body["checks"]

    assert [(c["check"], c["status"]) for c in listed] == [("ci/validation", "success"), ("lint", "failure")]
    assert Check.objects.count() == 5  # every report is kept


@pytest.mark.parametrize("fields", [
    {"status": "passed"},
    {"status": ""},
    {"check": ""},
    {"check": "x" * 201},
    {"details_url": "javascript:alert(1)"},
])
def test_an_invalid_check_report_is_refused_with_400_and_changes_nothing(fraud, modelgate_as, ci_bot, fields):
    seq = last_seq()
    body = {"name": "fraud", "version": "1", "check": "ci/validation", "status": "success", **fields}

    refused = modelgate_as(ci_bot).post("checks/report", **body)

    assert error_of(refused) == (400, "INVALID_PARAMETER_VALUE")
    assert not Check.objects.exists() and events_since(seq) == []


# Transition requests ---------------------------------------------------------------------------


def test_a_reader_may_request_a_transition(fraud, api_as, outsider):
    created = api_as(outsider).post("transition-requests/create", name="fraud", version="1", stage="staging", comment="pls")

    assert created.status_code == 200, created.json_body
    request = created.json_body["request"]
    assert (request["to_stage"], request["from_stage"], request["user_id"]) == ("Staging", "None", "outsider")
    assert (request["activity_type"], request["status"], request["comment"]) == ("REQUESTED_TRANSITION", "PENDING", "pls")
    assert request["available_actions"] == ["CANCEL_TRANSITION_REQUEST"]
    assert TransitionRequest.objects.get().created_by == outsider


def test_a_second_pending_request_for_the_same_version_and_stage_is_refused(fraud, api_as, outsider, reviewer):
    body = {"name": "fraud", "version": "1", "stage": "Production"}
    assert api_as(outsider).post("transition-requests/create", **body).status_code == 200
    seq = last_seq()

    for user in (outsider, reviewer):
        duplicate = api_as(user).post("transition-requests/create", **body)
        assert error_of(duplicate) == (400, "RESOURCE_ALREADY_EXISTS")
        assert "pending request" in duplicate.json_body["message"]
    assert TransitionRequest.objects.count() == 1 and events_since(seq) == []

    # Other targets are separate requests; and once decided, the same target may be asked again.
    assert api_as(outsider).post("transition-requests/create", **{**body, "stage": "Staging"}).status_code == 200
    assert api_as(reviewer).post("transition-requests/reject", **body).status_code == 200
    assert api_as(outsider).post("transition-requests/create", **body).status_code == 200


@pytest.mark.parametrize("stage, problem", [("None", "must target Staging, Production or Archived"), ("Prod", "Invalid Model Version stage")])
def test_a_request_to_no_stage_or_an_unknown_stage_is_refused(fraud, api_as, outsider, stage, problem):
    refused = api_as(outsider).post("transition-requests/create", name="fraud", version="1", stage=stage)

    assert error_of(refused) == (400, "INVALID_PARAMETER_VALUE")
    assert problem in refused.json_body["message"]


def test_a_request_is_cancelled_only_by_its_creator_or_a_can_manage_holder(fraud, api_as, owner, reviewer, outsider):
    body = {"name": "fraud", "version": "1", "stage": "Production"}
    api_as(outsider).post("transition-requests/create", **body)

    denied = api_as(reviewer).delete("transition-requests/delete", **body, creator="outsider")
    assert error_of(denied) == (403, "PERMISSION_DENIED")
    assert "cancelling someone else's request" in denied.json_body["message"]
    wrong_creator = api_as(owner).delete("transition-requests/delete", **body, creator="reviewer")
    assert error_of(wrong_creator) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert TransitionRequest.objects.get().status == TransitionRequest.PENDING

    cancelled = api_as(owner).delete("transition-requests/delete", **body, creator="outsider", comment="superseded")
    assert cancelled.status_code == 200
    assert cancelled.json_body["activity"]["activity_type"] == "CANCELLED_REQUEST"
    assert cancelled.json_body["activity"]["user_id"] == "owner"
    assert TransitionRequest.objects.get().status == TransitionRequest.CANCELLED

    # The creator cancels their own without any level.
    api_as(outsider).post("transition-requests/create", **body)
    assert api_as(outsider).delete("transition-requests/delete", **body, creator="outsider").status_code == 200


def test_the_request_list_shows_only_open_requests(fraud, api_as, outsider, reviewer):
    requester = api_as(outsider)
    requester.post("transition-requests/create", name="fraud", version="1", stage="Staging")
    requester.post("transition-requests/create", name="fraud", version="2", stage="Production")
    requester.post("transition-requests/create", name="fraud", version="2", stage="Staging")
    api_as(reviewer).post("transition-requests/reject", name="fraud", version="2", stage="Staging")
    api_as(reviewer).post("transition-requests/approve", name="fraud", version="1", stage="Staging", archive_existing_versions=False)

    whole_model = requester.get("transition-requests/list", name="fraud").json_body["requests"]
    assert [(r["to_stage"], r["status"]) for r in whole_model] == [("Production", "PENDING")]
    assert requester.get("transition-requests/list", name="fraud", version="1").json_body["requests"] == []
    # Alias requests are not transition requests: they have their own list.
    api_as(outsider, prefix="/api/2.0/modelgate/").post("alias-requests/create", name="fraud", version="2", alias="champion")
    assert len(requester.get("transition-requests/list", name="fraud").json_body["requests"]) == 1


def test_a_request_whose_version_moved_is_closed_by_the_system_when_approved(
    fraud, api_as, owner_ctx, outsider, reviewer
):
    body = {"name": "fraud", "version": "1", "stage": "Production", "archive_existing_versions": False}
    api_as(outsider).post("transition-requests/create", **body)
    registry_actions.version_transition(owner_ctx, name="fraud", version=1, stage="Staging")
    seq = last_seq()

    approve = api_as(reviewer).post("transition-requests/approve", **body)

    assert error_of(approve) == (409, "RESOURCE_CONFLICT")
    expected = "Closed by the system: version 1 moved from None to Staging after the request was made."
    assert approve.json_body["message"] == expected
    activity = approve.json_body["activity"]
    assert (activity["activity_type"], activity["system_comment"], activity["request_status"]) == (
        "SYSTEM_TRANSITION", expected, "CLOSED"
    )
    # The close is committed even though the approval did not happen.
    request = TransitionRequest.objects.get()
    assert (request.status, request.system_comment) == (TransitionRequest.CLOSED, expected)
    assert stage_of(1) == "Staging"
    assert events_since(seq) == ["transition_request.closed"]
    assert api_as(reviewer).get("transition-requests/list", name="fraud").json_body["requests"] == []

    again = api_as(reviewer).post("transition-requests/approve", **body)
    assert error_of(again) == (409, "RESOURCE_CONFLICT")
    assert "no longer pending: it was closed by the system" in again.json_body["message"]


def test_a_request_whose_version_was_deleted_is_closed_by_the_system(fraud, api_as, owner_ctx, outsider, reviewer):
    body = {"name": "fraud", "version": "2", "stage": "Staging", "archive_existing_versions": False}
    api_as(outsider).post("transition-requests/create", **body)
    registry_actions.version_delete(owner_ctx, name="fraud", version=2)

    approve = api_as(reviewer).post("transition-requests/approve", **body)

    assert error_of(approve) == (409, "RESOURCE_CONFLICT")
    assert approve.json_body["message"] == "Closed by the system: version 2 was deleted."
    assert TransitionRequest.objects.get().status == TransitionRequest.CLOSED


# Lenient input -----------------------------------------------------------------------------------


def test_json_bodies_on_get_and_delete_are_accepted(fraud, api_as, outsider):
    api = api_as(outsider)
    api.post("transition-requests/create", name="fraud", version="1", stage="Staging")
    body = json.dumps({"name": "fraud", "version": "1"})

    listed = api.client.generic("GET", "/api/2.0/mlflow/transition-requests/list", body, content_type="application/json")
    assert listed.status_code == 200
    assert [r["to_stage"] for r in json.loads(listed.content)["requests"]] == ["Staging"]

    # MlflowApi.delete sends its parameters as a JSON body, as the Databricks curl examples do.
    cancelled = api.delete("transition-requests/delete", name="fraud", version="1", stage="Staging", creator="outsider")
    assert cancelled.status_code == 200
    assert TransitionRequest.objects.get().status == TransitionRequest.CANCELLED


def test_string_booleans_are_accepted_for_archive_existing_versions(fraud, api_as, owner, outsider, reviewer, owner_ctx):
    registry_actions.version_transition(owner_ctx, name="fraud", version=1, stage="Production")
    api_as(outsider).post("transition-requests/create", name="fraud", version="2", stage="Production")

    approved = api_as(reviewer).post(
        "transition-requests/approve", name="fraud", version="2", stage="Production", archive_existing_versions="true"
    )
    assert approved.status_code == 200, approved.json_body
    assert (stage_of(1), stage_of(2)) == ("Archived", "Production")

    moved = api_as(owner).post(
        "databricks/model-versions/transition-stage", name="fraud", version="1", stage="Production",
        archive_existing_versions="false",
    )
    assert moved.status_code == 200, moved.json_body
    assert (stage_of(1), stage_of(2)) == ("Production", "Production")
    moved = api_as(owner).post(
        "databricks/model-versions/transition-stage", name="fraud", version="1", stage="Production",
        archive_existing_versions="true",
    )
    assert moved.json_body["model_version_databricks"]["current_stage"] == "Production"
    assert (stage_of(1), stage_of(2)) == ("Production", "Archived")


BAD_INPUTS = [
    ("POST", "/api/2.0/mlflow/transition-requests/create", {"name": "fraud", "version": "one", "stage": "Staging"}),
    ("POST", "/api/2.0/mlflow/transition-requests/create", {"name": "fraud", "version": "99999999999999999999", "stage": "Staging"}),
    ("POST", "/api/2.0/mlflow/transition-requests/create", {"name": "fraud", "version": "-1", "stage": "Staging"}),
    ("POST", "/api/2.0/mlflow/transition-requests/create", {"name": "fraud", "version": "1"}),
    ("POST", "/api/2.0/mlflow/transition-requests/create", {"name": "fraud", "version": "1", "stage": ["Staging"]}),
    ("POST", "/api/2.0/mlflow/transition-requests/create", {"name": "fraud", "version": "1", "stage": "Staging", "comment": "x" * 70000}),
    ("POST", "/api/2.0/mlflow/transition-requests/create", {"name": "nope", "version": "1", "stage": "Staging"}),
    ("POST", "/api/2.0/mlflow/transition-requests/approve", {"name": "fraud", "version": "1", "stage": "Staging", "archive_existing_versions": "maybe"}),
    ("POST", "/api/2.0/mlflow/transition-requests/approve", {"name": "fraud", "version": "1", "stage": "Staging"}),
    ("POST", "/api/2.0/mlflow/transition-requests/reject", {"name": "fraud", "version": "7", "stage": "Staging"}),
    ("DELETE", "/api/2.0/mlflow/transition-requests/delete", {"name": "fraud", "version": "1", "stage": "Staging"}),
    ("GET", "/api/2.0/mlflow/transition-requests/list", {}),
    ("GET", "/api/2.0/mlflow/transition-requests/list", {"name": "fraud", "version": "x"}),
    ("POST", "/api/2.0/mlflow/databricks/model-versions/transition-stage", {"name": "fraud", "version": "1", "stage": "Archived", "archive_existing_versions": True}),
    ("POST", "/api/2.0/mlflow/comments/create", {"name": "fraud", "version": "1", "comment": ""}),
    ("PATCH", "/api/2.0/mlflow/comments/update", {"id": "abc", "comment": "x"}),
    ("PATCH", "/api/2.0/mlflow/comments/update", {"id": "99999999999999999999", "comment": "x"}),
    ("DELETE", "/api/2.0/mlflow/comments/delete", {"id": "1.5"}),
    ("DELETE", "/api/2.0/mlflow/comments/delete", {}),
    ("POST", "/api/2.0/modelgate/alias-requests/create", {"name": "fraud", "version": "1", "alias": "latest"}),
    ("POST", "/api/2.0/modelgate/alias-requests/create", {"name": "fraud", "version": "1", "alias": "bad alias!"}),
    ("POST", "/api/2.0/modelgate/alias-requests/approve", {"name": "fraud", "version": "1", "alias": "champion"}),
    ("POST", "/api/2.0/modelgate/checks/report", {"name": "fraud", "version": "1", "check": "ci", "status": "success", "details_url": "https://x/" + "a" * 2100}),
    ("GET", "/api/2.0/modelgate/checks/list", {"name": "fraud"}),
    ("POST", "/api/2.0/modelgate/policies/stage/set", {"name": "fraud", "stage": "Archived"}),
    ("POST", "/api/2.0/modelgate/policies/stage/set", {"name": "fraud", "stage": "Production", "required_approvals": 0}),
    ("POST", "/api/2.0/modelgate/policies/stage/set", {"name": "fraud", "stage": "Production", "required_approvals": "two"}),
    ("POST", "/api/2.0/modelgate/policies/stage/set", {"name": "fraud", "stage": "Production", "approver_team": "no-such-team"}),
    ("POST", "/api/2.0/modelgate/policies/stage/set", {"name": "fraud", "stage": "Production", "required_checks": "jenkins"}),
    ("POST", "/api/2.0/modelgate/policies/stage/set", {"name": "fraud", "stage": "Production", "move_alias_on_approval": "v3"}),
    ("POST", "/api/2.0/modelgate/policies/alias/set", {"name": "fraud", "pattern": "champion", "required_level": "CAN_FLY"}),
    ("POST", "/api/2.0/modelgate/policies/alias/set", {"name": "fraud", "pattern": ""}),
    ("DELETE", "/api/2.0/modelgate/policies/stage/delete", {"name": "fraud", "stage": "Later"}),
    ("GET", "/api/2.0/modelgate/activity/list", {"name": "fraud", "version": "0"}),
    ("GET", "/api/2.0/modelgate/activity/export", {"name": "fraud", "since": "yesterday"}),
    ("GET", "/api/2.0/modelgate/activity/export", {"name": "no-such-model"}),
]


def test_bad_input_gets_a_4xx_in_the_wire_format_and_changes_nothing(fraud, api_as, owner):
    client = api_as(owner).client
    seq, requests_before = last_seq(), TransitionRequest.objects.count()
    wrong = []

    # One test over every case (each would otherwise rebuild the same model); failures are
    # collected so that one run names them all.
    for method, path, body in BAD_INPUTS:
        if method == "GET":
            response = client.get(path, body)
        else:
            response = client.generic(method, path, json.dumps(body), content_type="application/json")
        code = json.loads(response.content).get("error_code") if response.content else None
        if not (400 <= response.status_code < 500) or code not in {
            "INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST", "RESOURCE_ALREADY_EXISTS",
        }:
            wrong.append((method, path, body, response.status_code, response.content[:300]))

    assert wrong == []
    assert events_since(seq) == [] and TransitionRequest.objects.count() == requests_before


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"a string"', b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_gets_400(fraud, api_as, owner, raw):
    client = api_as(owner).client

    response = client.generic("POST", "/api/2.0/mlflow/transition-requests/create", raw, content_type="application/json")

    assert response.status_code == 400
    assert json.loads(response.content)["error_code"] == "INVALID_PARAMETER_VALUE"
    assert not TransitionRequest.objects.exists()


def test_the_system_closes_requests_whose_version_moved_or_was_deleted(db, ctx_for, owner):
    """workflows.tasks.close_stale_requests (beat) closes them with a system comment, one
    activity each, and leaves requests that still hold alone."""
    from audit.models import Activity
    from registry import actions as registry_actions
    from workflows import actions as workflow_actions
    from workflows.models import TransitionRequest
    from workflows.tasks import close_stale_requests

    ctx = ctx_for(owner)
    registry_actions.model_create(ctx, name="stale")
    for _ in range(3):
        registry_actions.version_create(ctx, name="stale", source="s3://b/x")
    moved = workflow_actions.transition_request_create(ctx, name="stale", version="1", stage="Production")
    deleted = workflow_actions.transition_request_create(ctx, name="stale", version="2", stage="Staging")
    holds = workflow_actions.transition_request_create(ctx, name="stale", version="3", stage="Staging")
    alias = workflow_actions.transition_request_create(ctx, name="stale", version="1", alias="challenger")
    registry_actions.version_transition(ctx, name="stale", version="1", stage="Staging")
    registry_actions.version_delete(ctx, name="stale", version="2")

    assert close_stale_requests() == 2

    for req in (moved, deleted, holds, alias):
        req.refresh_from_db()
    assert (moved.status, deleted.status) == (TransitionRequest.CLOSED, TransitionRequest.CLOSED)
    assert "moved from None to Staging" in moved.system_comment
    assert "was deleted" in deleted.system_comment
    # An alias request does not depend on the version's stage; v3's request still holds.
    assert (holds.status, alias.status) == (TransitionRequest.PENDING, TransitionRequest.PENDING)
    closed = Activity.objects.filter(event="transition_request.closed")
    assert sorted(a.version for a in closed) == [1, 2]
    assert {a.actor for a in closed} == {"system"}
    assert close_stale_requests() == 0
