"""The "done when" scenario, end to end, each person with the tool they really use against a
live Modelgate:

- a registry admin sets the registry-wide Production policy (2 approvals, required check
  ci/validation, archive the existing version, move `champion`) over HTTP;
- the data scientist registers v1 and v2 with the mlflow client and shares the model with the
  databricks-sdk permissions API; v1 is put in Production by the registry admin (setup);
- the data scientist requests Production for v2 with databricks-sdk;
- the CI service account reports the check (pending, then success) over HTTP with its token and
  comments with databricks-sdk, as a CI job does;
- two approvers approve in the admin (pending-requests queue, review form);
- v2 is in Production, v1 Archived, champion -> v2 (mlflow client), and the model's activity
  export holds every step, in order (the registry admin's copy verifies line by line; the
  data scientist's leaves out client addresses and token ids). Run with -s to see the export.
"""

import hashlib
import json

import pytest
import requests
from databricks.sdk.service import ml
from django.test import Client
from django.urls import reverse

from workflows.models import TransitionRequest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:.*[Ss]tage.*:FutureWarning"),
]


def hash_holds(line):
    fields = {k: v for k, v in line.items() if k not in {"hash", "prev_hash"}}
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(line["prev_hash"].encode() + body.encode()).hexdigest() == line["hash"]


def test_a_version_reaches_production_through_a_request_a_ci_check_and_two_approvals_in_the_admin(
    live_server, make_user, admin_user, ci_bot, issue_token, mlflow_as, workspace_as
):
    data_scientist = make_user("data-scientist")
    approvers = [make_user(name, is_staff=True) for name in ("alice", "bob")]

    def http(user):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {issue_token(user)}"
        return lambda method, path, **kw: session.request(method, live_server.url + path, timeout=30, **kw)

    # A registry admin sets the registry-wide Production policy.
    as_admin = http(admin_user)
    policy = as_admin("POST", "/api/2.0/modelgate/policies/stage/set", json={
        "stage": "Production", "required_approvals": 2, "required_checks": ["ci/validation"],
        "archive_existing_on_approval": True, "move_alias_on_approval": "champion",
    })
    assert policy.status_code == 200, policy.text

    # The data scientist registers two versions with mlflow and points champion at v1.
    mlflow = mlflow_as(data_scientist)
    mlflow.create_registered_model("fraud", description="Scores card payments.")
    for number in (1, 2):
        assert mlflow.create_model_version("fraud", f"s3://models/fraud/{number}").version == str(number)
    mlflow.set_registered_model_alias("fraud", "champion", "1")

    # ... and shares the model: the approvers manage Production versions, CI may edit.
    ds_sdk = workspace_as(data_scientist)
    model_id = ds_sdk.model_registry.get_model("fraud").registered_model_databricks.id
    ds_sdk.model_registry.update_permissions(model_id, access_control_list=[
        *(ml.RegisteredModelAccessControlRequest(
            user_name=u.username, permission_level=ml.RegisteredModelPermissionLevel.CAN_MANAGE_PRODUCTION_VERSIONS,
        ) for u in approvers),
        ml.RegisteredModelAccessControlRequest(
            service_principal_name="ci-bot", permission_level=ml.RegisteredModelPermissionLevel.CAN_EDIT,
        ),
    ])

    # Setup: v1 is in Production already, put there directly by the registry admin.
    workspace_as(admin_user).model_registry.transition_stage(
        "fraud", "1", "Production", archive_existing_versions=False, comment="initial release"
    )

    # The data scientist asks for v2 in Production.
    request = ds_sdk.model_registry.create_transition_request(
        "fraud", "2", "Production", comment="v2: +3% recall at the same precision"
    ).request
    assert (request.to_stage, request.user_id) == ("Production", "data-scientist")
    request_pk = TransitionRequest.objects.get(status=TransitionRequest.PENDING).pk

    # CI starts validating (the request's webhook would start it) and says so.
    as_ci = http(ci_bot)
    check = {"name": "fraud", "version": "2", "check": "ci/validation",
             "details_url": "https://jenkins.example.com/job/validate-model/57/"}
    assert as_ci("POST", "/api/2.0/modelgate/checks/report", json={**check, "status": "pending"}).status_code == 200

    # First approver, in the admin: the queue shows the request, 0 of 2, the check pending.
    pending_url = reverse("admin:workflows_pending")
    review_url = reverse("admin:workflows_review", args=[request_pk])
    alice = Client()
    alice.force_login(approvers[0])
    queue = alice.get(pending_url)
    assert queue.status_code == 200
    page = queue.content.decode()
    assert "v2: +3% recall at the same precision" in page
    assert "0 / 2" in page and "ci/validation: <strong>pending</strong>" in page
    assert 'value="approve"' in page
    approved_once = alice.post(review_url, {
        "decision": "approve", "comment": "offline metrics look right", "archive_existing_versions": "on",
        "next": pending_url,
    }, follow=True)
    assert [str(m) for m in approved_once.context["messages"]] == [
        "Approval recorded; the request applies when its quorum is met."
    ]
    assert "1 / 2" in approved_once.content.decode()

    # CI finishes: the check passes, and it leaves its report as a comment.
    assert as_ci("POST", "/api/2.0/modelgate/checks/report", json={
        **check, "status": "success", "summary": "214 tests passed; AUC 0.941 on the holdout",
    }).status_code == 200
    workspace_as(ci_bot).model_registry.create_comment(
        "fraud", "2", "Validation passed: https://jenkins.example.com/job/validate-model/57/"
    )

    # Second approver, in the admin: the check now passes, and this approval applies the request.
    bob = Client()
    bob.force_login(approvers[1])
    page = bob.get(pending_url).content.decode()
    assert "1 / 2" in page and "ci/validation: <strong>success</strong>" in page
    applied = bob.post(review_url, {
        "decision": "approve", "comment": "ship it", "archive_existing_versions": "on", "next": pending_url,
    }, follow=True)
    assert [str(m) for m in applied.context["messages"]] == ["Approved: fraud v2 moved to Production."]
    assert "No pending requests." in applied.content.decode()

    # What the data scientist and the inference services now see.
    mlflow = mlflow_as(data_scientist)
    assert mlflow.get_model_version("fraud", "2").current_stage == "Production"
    assert mlflow.get_model_version("fraud", "1").current_stage == "Archived"
    assert mlflow.get_model_version_by_alias("fraud", "champion").version == "2"
    assert list(ds_sdk.model_registry.list_transition_requests("fraud", "2")) == []

    # The model's activity export holds every step, in order, each line verifiable on its own.
    export = http(data_scientist)("GET", "/api/2.0/modelgate/activity/export", params={"name": "fraud"})
    assert export.status_code == 200
    assert export.headers["Content-Type"] == "application/x-ndjson"
    raw_lines = export.text.splitlines()
    print("\n--- activity export for 'fraud' ---")
    print("\n".join(raw_lines))
    lines = [json.loads(line) for line in raw_lines]
    assert [(line["event"], line["actor"], line["via"], line["version"]) for line in lines] == [
        ("registered_model.created", "data-scientist", "api", None),
        ("model_version.created", "data-scientist", "api", 1),
        ("model_version.created", "data-scientist", "api", 2),
        ("model_version_alias.created", "data-scientist", "api", 1),
        ("registered_model_permissions.changed", "data-scientist", "api", None),
        ("model_version.stage_transitioned", "admin", "api", 1),
        ("transition_request.created", "data-scientist", "api", 2),
        ("check.reported", "ci-bot", "api", 2),
        ("transition_request.reviewed", "alice", "admin", 2),
        ("check.reported", "ci-bot", "api", 2),
        ("comment.created", "ci-bot", "api", 2),
        ("transition_request.approved", "bob", "admin", 2),
    ]
    assert [line["seq"] for line in lines] == sorted(line["seq"] for line in lines)
    assert all(line["client_ip"] is None and "client_ip" in line["redacted"] for line in lines)
    # The registry admin's export of the same rows is complete: every line verifies on its own.
    admin_lines = [json.loads(line) for line in as_admin(
        "GET", "/api/2.0/modelgate/activity/export", params={"name": "fraud"}
    ).text.splitlines()]
    assert [line["hash"] for line in admin_lines] == [line["hash"] for line in lines]
    assert all(hash_holds(line) for line in admin_lines)
    reviewed, approved = lines[8], lines[11]
    assert (reviewed["after"]["approvals"], reviewed["after"]["required"]) == (1, 2)
    assert [lines[7]["after"]["status"], lines[9]["after"]["status"]] == ["pending", "success"]
    assert approved["after"]["archived_versions"] == [1]
    assert approved["after"]["alias_moved"] == {"alias": "champion", "from_version": 1, "to_version": 2}
    assert (approved["before"]["stage"], approved["after"]["stage"]) == ("None", "Production")
    assert approved["comment"] == "ship it"

    # The policy the whole flow ran under is registry-wide: the registry's own export has it first.
    registry_export = as_admin("GET", "/api/2.0/modelgate/activity/export")
    registry_lines = [json.loads(line) for line in registry_export.text.splitlines()]
    first = next(line for line in registry_lines if not line["event"].startswith("api_token."))
    print("--- registry-wide, before the model's rows ---")
    print(json.dumps(first, sort_keys=True))
    assert (first["event"], first["actor"], first["model_name"]) == ("stage_policy.changed", "admin", "")
    assert first["after"]["required_checks"] == ["ci/validation"] and first["seq"] < lines[0]["seq"]
