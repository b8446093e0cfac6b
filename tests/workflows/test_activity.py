"""The activity log as the workflows show it: a version's Databricks-style activity feed
(activity/list), the auditors' JSON Lines export (activity/export) with its hash chain, and the
contract that every workflow action writes exactly one activity (and a refused one none)."""

import hashlib
import json
from datetime import timezone as dt_timezone

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import User
from audit.activity import GENESIS_HASH
from audit.errors import RegistryError
from registry import actions as registry_actions
from tests.conftest import events_since, last_seq
from workflows import actions


@pytest.fixture
def fraud(build, grant, reviewer, make_user):
    """`fraud` v1 in Production (moved directly), v2 in None; `reviewer` and `approver2` manage
    Production."""
    model = build("fraud", stages=("Production", "None"))
    grant(model, reviewer, make_user("approver2"), level="CAN_MANAGE_PRODUCTION_VERSIONS")
    return model


def feed(modelgate, version, name="fraud"):
    response = modelgate.get("activity/list", name=name, version=str(version))
    assert response.status_code == 200, response.json_body
    return response.json_body["activities"]


def typed(activities):
    """The activities Databricks has a type for, as (type, from, to, user)."""
    return [
        (a["activity_type"], a.get("from_stage"), a.get("to_stage"), a["user_id"])
        for a in activities if "activity_type" in a
    ]


# The per-version feed --------------------------------------------------------------------------


def test_a_versions_feed_shows_its_request_comment_approval_and_the_archiving_it_caused(
    fraud, ctx_for, outsider, reviewer, modelgate_as
):
    actions.transition_request_create(ctx_for(outsider), name="fraud", version=2, stage="Production", comment="v2 please")
    actions.comment_create(ctx_for(reviewer), name="fraud", version=2, comment="shadow test ok")
    actions.transition_approve(
        ctx_for(reviewer), name="fraud", version=2, stage="Production", archive_existing_versions=True, comment="go"
    )
    viewer = modelgate_as(outsider)

    v2 = feed(viewer, 2)
    assert typed(v2) == [
        ("REQUESTED_TRANSITION", "None", "Production", "outsider"),
        ("NEW_COMMENT", None, None, "reviewer"),
        ("APPROVED_REQUEST", "None", "Production", "reviewer"),
    ]
    assert [a["comment"] for a in v2 if "activity_type" in a] == ["v2 please", "shadow test ok", "go"]
    assert [a["creation_timestamp"] for a in v2] == sorted(a["creation_timestamp"] for a in v2)

    v1 = feed(viewer, 1)
    assert typed(v1) == [
        ("APPLIED_TRANSITION", "None", "Production", "owner"),
        ("SYSTEM_TRANSITION", "Production", "Archived", "reviewer"),
    ]
    archived = v1[-1]
    assert "Archived because version 2 of 'fraud' moved to Production" in archived["system_comment"]


def test_a_direct_promotion_with_archiving_shows_as_a_system_transition_on_the_archived_version(
    fraud, owner_ctx, modelgate_as, outsider
):
    registry_actions.version_transition(owner_ctx, name="fraud", version=2, stage="Production", archive_existing_versions=True)

    assert typed(feed(modelgate_as(outsider), 2)) == [("APPLIED_TRANSITION", "None", "Production", "owner")]
    assert typed(feed(modelgate_as(outsider), 1))[-1] == ("SYSTEM_TRANSITION", "Production", "Archived", "owner")


def test_an_approval_short_of_quorum_shows_as_an_approval_that_says_how_many_are_needed(
    fraud, owner_ctx, ctx_for, outsider, reviewer, modelgate_as
):
    actions.stage_policy_set(owner_ctx, name="fraud", stage="Production", required_approvals=2)
    actions.transition_request_create(ctx_for(outsider), name="fraud", version=2, stage="Production")
    actions.transition_approve(ctx_for(reviewer), name="fraud", version=2, stage="Production")

    last = feed(modelgate_as(outsider), 2)[-1]

    assert (last["activity_type"], last["event"]) == ("APPROVED_REQUEST", "transition_request.reviewed")
    assert last["system_comment"] == "Approval 1 of 2; the request applies at quorum."


def test_a_versions_feed_is_hidden_from_those_who_cannot_read_the_model(fraud, modelgate_as, outsider, settings):
    settings.MODELGATE_DEFAULT_LEVEL = "NONE"

    hidden = modelgate_as(outsider).get("activity/list", name="fraud", version="1")

    assert (hidden.status_code, hidden.json_body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")


# The JSON Lines export -------------------------------------------------------------------------


def export(client, **params):
    response = client.get("/api/2.0/modelgate/activity/export", params)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def lines_of(body):
    text = body.decode()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def recomputed_hash(line):
    # The same canonical JSON record() hashes, from nothing but the exported line.
    fields = {k: v for k, v in line.items() if k not in {"hash", "prev_hash"}}
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(line["prev_hash"].encode() + body.encode()).hexdigest()


def test_the_export_is_one_json_object_per_line_each_carrying_its_hash_and_the_previous_one(
    fraud, build, ctx_for, outsider, reviewer, admin_user, api_as
):
    build("churn")
    actions.transition_request_create(ctx_for(outsider), name="fraud", version=2, stage="Production")
    actions.transition_approve(ctx_for(reviewer), name="fraud", version=2, stage="Production")

    response, body = export(api_as(admin_user).client)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"].startswith('attachment; filename="modelgate-activity-')
    lines = lines_of(body)
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
    assert lines[0]["prev_hash"] == GENESIS_HASH
    for previous, line in zip(lines, lines[1:]):
        assert line["prev_hash"] == previous["hash"]
    assert all(recomputed_hash(line) == line["hash"] for line in lines)
    assert {line["model_name"] for line in lines} >= {"fraud", "churn"}
    # The export call's own token (issued just before it) is the last row; the approval before it.
    assert [line["event"] for line in lines[-2:]] == ["transition_request.approved", "api_token.created"]
    assert set(lines[-1]) >= {"seq", "created_at", "actor", "via", "event", "model_uid", "version", "before", "after", "comment", "request_id"}


def test_an_export_filtered_by_name_holds_only_that_models_rows_in_order(
    fraud, build, ctx_for, outsider, api_as
):
    build("churn")
    actions.comment_create(ctx_for(outsider), name="churn", version=1, comment="other model")
    actions.transition_request_create(ctx_for(outsider), name="fraud", version=2, stage="Production")

    response, body = export(api_as(outsider).client, name="fraud")

    assert response.status_code == 200
    lines = lines_of(body)
    assert {line["model_uid"] for line in lines} == {fraud.uid}
    assert [line["seq"] for line in lines] == sorted(line["seq"] for line in lines)
    assert [line["event"] for line in lines] == [
        "registered_model.created", "model_version.created", "model_version.stage_transitioned",
        "model_version.created", "registered_model_permissions.changed", "transition_request.created",
    ]
    # A reader's lines leave out where each call came from: they verify only in a registry
    # admin's export (test_a_readers_export_hides_addresses_tokens_and_webhook_destinations...).
    assert all(line["redacted"] == ["client_ip"] for line in lines)


def test_a_readers_export_hides_addresses_tokens_and_webhook_destinations_a_registry_admin_sees(
    fraud, api_as, modelgate_as, owner, outsider, admin_user
):
    created = modelgate_as(owner).post(
        "webhooks/create", model_name="fraud", events=["model_version.created"],
        http_url_spec={"url": "https://hooks.example.com/fraud?key=s3cr3t"},
    )
    assert created.status_code == 200, created.json_body
    api_as(outsider).post("comments/create", name="fraud", version="1", comment="drift ok")

    _, reader_body = export(api_as(outsider).client, name="fraud")
    _, admin_body = export(api_as(admin_user).client, name="fraud")
    reader, full = lines_of(reader_body), lines_of(admin_body)

    # The registry admin's lines are complete and each recomputes to its hash.
    webhook = next(line for line in full if line["event"] == "webhook.created")
    assert webhook["after"]["url"] == "https://hooks.example.com/fraud?key=s3cr3t"
    assert webhook["client_ip"] == "127.0.0.1" and webhook["token_id"] is not None
    assert all(recomputed_hash(line) == line["hash"] for line in full)
    assert not any("redacted" in line for line in full)

    # A reader's lines are the same rows with the same hashes, and say what they leave out.
    assert [(line["seq"], line["prev_hash"], line["hash"]) for line in reader] == [
        (line["seq"], line["prev_hash"], line["hash"]) for line in full
    ]
    assert "s3cr3t" not in reader_body.decode() and "127.0.0.1" not in reader_body.decode()
    assert all(line["client_ip"] is None and line["token_id"] is None for line in reader)
    hidden = next(line for line in reader if line["event"] == "webhook.created")
    assert hidden["after"]["url"] is None and hidden["after"]["events"] == ["model_version.created"]
    assert hidden["redacted"] == ["client_ip", "token_id", "after.url"]
    comment = next(line for line in reader if line["event"] == "comment.created")
    assert (comment["actor"], comment["comment"], comment["redacted"]) == ("outsider", "drift ok", ["client_ip", "token_id"])


def test_an_export_is_limited_to_since_and_until(fraud, ctx_for, outsider, api_as):
    actions.comment_create(ctx_for(outsider), name="fraud", version=1, comment="before")
    middle = timezone.now()
    actions.comment_create(ctx_for(outsider), name="fraud", version=1, comment="after")
    client = api_as(outsider).client
    stamp = middle.astimezone(dt_timezone.utc).isoformat()

    _, later = export(client, name="fraud", since=stamp)
    _, earlier = export(client, name="fraud", until=stamp)
    _, everything = export(client, name="fraud")

    assert [line["comment"] for line in lines_of(later)] == ["after"]
    assert [line["comment"] for line in lines_of(earlier)][-1] == "before"
    assert len(lines_of(earlier)) + len(lines_of(later)) == len(lines_of(everything))


def test_exporting_the_whole_registry_needs_a_registry_admin(fraud, owner, api_as):
    response, _ = export(api_as(owner).client)

    assert response.status_code == 403
    assert json.loads(response.content)["error_code"] == "PERMISSION_DENIED"
    assert "requires a registry admin" in json.loads(response.content)["message"]


def test_a_deleted_models_history_is_exported_by_its_name_for_registry_admins_only(
    fraud, owner_ctx, owner, admin_user, api_as
):
    registry_actions.model_delete(owner_ctx, name="fraud")

    response, body = export(api_as(admin_user).client, name="fraud")
    assert response.status_code == 200
    assert lines_of(body)[-1]["event"] == "registered_model.deleted"

    hidden, _ = export(api_as(owner).client, name="fraud")
    assert hidden.status_code == 404


# One activity per action -----------------------------------------------------------------------


def test_each_workflow_action_writes_exactly_one_activity_and_a_refused_one_none(
    fraud, owner_ctx, ctx_for, admin_user, outsider, reviewer, ci_bot, grant
):
    grant(fraud, ci_bot, level="CAN_EDIT")
    admin = ctx_for(admin_user)
    team = Group.objects.create(name="release-managers")
    r_ctx, o_ctx = ctx_for(reviewer), ctx_for(outsider)

    def exactly_one(event, action, **kwargs):
        seq = last_seq()
        action(**kwargs)
        assert events_since(seq) == [event], action.__name__

    def none_when_refused(action, **kwargs):
        seq = last_seq()
        with pytest.raises(RegistryError):
            action(**kwargs)
        assert events_since(seq) == [], action.__name__

    exactly_one("stage_policy.changed", actions.stage_policy_set, ctx=admin, stage="Staging", approver_team=team)
    exactly_one("stage_policy.changed", actions.stage_policy_set, ctx=owner_ctx, name="fraud", stage="Production", required_approvals=2)
    exactly_one("alias_policy.changed", actions.alias_policy_set, ctx=owner_ctx, name="fraud", pattern="champion")
    exactly_one("transition_request.created", actions.transition_request_create, ctx=o_ctx, name="fraud", version=2, stage="Production")
    exactly_one("transition_request.created", actions.transition_request_create, ctx=o_ctx, name="fraud", version=2, alias="champion")
    exactly_one("transition_request.created", actions.transition_request_create, ctx=o_ctx, name="fraud", version=2, stage="Staging")
    exactly_one("transition_request.created", actions.transition_request_create, ctx=o_ctx, name="fraud", version=1, stage="Archived")
    exactly_one("comment.created", actions.comment_create, ctx=o_ctx, name="fraud", version=2, comment="hi")
    comment_id = actions.comment_create(o_ctx, name="fraud", version=2, comment="typo").pk
    exactly_one("comment.updated", actions.comment_update, ctx=o_ctx, comment_id=comment_id, comment="fixed")
    exactly_one("comment.deleted", actions.comment_delete, ctx=owner_ctx, comment_id=comment_id)
    exactly_one("check.reported", actions.check_report, ctx=ctx_for(ci_bot), name="fraud", version=2, check="ci", status="success")
    exactly_one("transition_request.reviewed", actions.transition_approve, ctx=r_ctx, name="fraud", version=2, stage="Production")
    exactly_one("transition_request.approved", actions.transition_approve, ctx=owner_ctx, name="fraud", version=2, alias="champion")
    exactly_one("transition_request.rejected", actions.transition_reject, ctx=r_ctx, name="fraud", version=2, stage="Staging")
    exactly_one("transition_request.cancelled", actions.transition_request_cancel, ctx=o_ctx, name="fraud", version=1, stage="Archived", creator="outsider")
    # Approving a request whose version moved closes it: one activity, the close.
    registry_actions.version_transition(owner_ctx, name="fraud", version=2, stage="Staging")
    second = ctx_for(User.objects.get(username="approver2"))
    exactly_one("transition_request.closed", actions.transition_approve, ctx=second, name="fraud", version=2, stage="Production")
    exactly_one("stage_policy.changed", actions.stage_policy_delete, ctx=owner_ctx, name="fraud", stage="Production")
    exactly_one("alias_policy.changed", actions.alias_policy_delete, ctx=owner_ctx, name="fraud", pattern="champion")

    actions.transition_request_create(owner_ctx, name="fraud", version=2, stage="Production")
    none_when_refused(actions.transition_approve, ctx=owner_ctx, name="fraud", version=2, stage="Production")  # own request
    none_when_refused(actions.transition_request_cancel, ctx=r_ctx, name="fraud", version=2, stage="Production", creator="owner")
    none_when_refused(actions.check_report, ctx=o_ctx, name="fraud", version=2, check="ci", status="success")
    none_when_refused(actions.stage_policy_set, ctx=owner_ctx, stage="Production", required_approvals=3)
    none_when_refused(actions.comment_update, ctx=r_ctx, comment_id=actions.comment_create(o_ctx, name="fraud", version=2, comment="x").pk, comment="y")
