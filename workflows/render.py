"""Governance objects in the Databricks wire format (Activity, TransitionRequest, CommentObject,
ModelVersionDatabricks), built from workflows rows and from the activity log; and Modelgate's
stage and alias policies, as the API shows them and the activity log records them."""

from accounts import policies as access
from accounts.levels import Level
from audit import events
from audit.activity import canonical_fields
from audit.timestamps import to_millis
from registry.api.render import version_json

from . import policies
from .models import TransitionRequest

# How activity-log events show in the Databricks activity feed of a version.
ACTIVITY_TYPES = {
    events.VERSION_STAGE_TRANSITIONED: "APPLIED_TRANSITION",
    events.TRANSITION_REQUEST_CREATED: "REQUESTED_TRANSITION",
    events.TRANSITION_REQUEST_REVIEWED: "APPROVED_REQUEST",
    events.TRANSITION_REQUEST_APPROVED: "APPROVED_REQUEST",
    events.TRANSITION_REQUEST_REJECTED: "REJECTED_REQUEST",
    events.TRANSITION_REQUEST_CANCELLED: "CANCELLED_REQUEST",
    events.TRANSITION_REQUEST_CLOSED: "SYSTEM_TRANSITION",
    events.COMMENT_CREATED: "NEW_COMMENT",
}


def _stages(row):
    before, after = row.before or {}, row.after or {}
    if after.get("alias") and not after.get("to_stage"):
        # An alias request moves no stage; the `stage` in its snapshot is only where the
        # version sits, and must not read as a transition target.
        return after.get("from_stage") or before.get("stage"), None
    return (
        after.get("from_stage") or before.get("stage"),
        after.get("to_stage") or after.get("stage"),
    )


def activity_json(row, *, activity_type=None):
    """A Databricks Activity for one activity-log row (Modelgate keeps its event name too)."""
    from_stage, to_stage = _stages(row)
    body = {
        "id": str(row.seq),
        "user_id": row.actor,
        "comment": row.comment,
        "creation_timestamp": to_millis(row.created_at),
        "last_updated_timestamp": to_millis(row.created_at),
        "event": row.event,
    }
    # Events Databricks has no type for (tags, checks, alias moves) keep only their event name.
    activity_type = activity_type or ACTIVITY_TYPES.get(row.event)
    if activity_type:
        body["activity_type"] = activity_type
    if from_stage:
        body["from_stage"] = from_stage
    if to_stage:
        body["to_stage"] = to_stage
    after = row.after or {}
    if row.event == events.TRANSITION_REQUEST_REVIEWED:
        body["system_comment"] = (
            f"Approval {after.get('approvals')} of {after.get('required')}; the request applies at quorum."
        )
    if row.event == events.TRANSITION_REQUEST_CLOSED:
        body["system_comment"] = row.comment
    if after.get("alias"):
        body["alias"] = after["alias"]
    return body


# What an export line shows registry admins only: where a call came from and with which token,
# and where a webhook sends (a URL may carry credentials or name internal hosts; a failed
# test's error names the host).
CALLER_FIELDS = ("client_ip", "token_id")
WEBHOOK_EVENTS = frozenset({
    events.WEBHOOK_CREATED, events.WEBHOOK_UPDATED, events.WEBHOOK_DELETED, events.WEBHOOK_TESTED,
    events.WEBHOOK_DISABLED, events.DELIVERIES_REDELIVERED,
})
WEBHOOK_DESTINATIONS = ("url", "jenkins_job", "error")


def activity_export_json(row, *, redact):
    """One activity-log row as an export line, with its own and the previous hash. Redacted,
    the fields above are null and `redacted` names them ("client_ip", "after.url"); the hashes
    stay, so the chain's order shows, but a redacted line no longer recomputes to its hash:
    only an unredacted (registry admin's) export verifies."""
    line = {**canonical_fields(row), "prev_hash": row.prev_hash, "hash": row.hash}
    if not redact:
        return line
    hidden = [field for field in CALLER_FIELDS if line[field] is not None]
    for field in hidden:
        line[field] = None
    if row.event in WEBHOOK_EVENTS:
        for side in ("before", "after"):
            values = dict(line[side] or {})
            found = [key for key in WEBHOOK_DESTINATIONS if values.get(key) is not None]
            if found:
                line[side] = {**values, **dict.fromkeys(found)}
                hidden += [f"{side}.{key}" for key in found]
    if hidden:
        line["redacted"] = hidden
    return line


def archived_activity_json(row, version_number):
    """The SYSTEM_TRANSITION a version sees when another version's promotion archived it."""
    to_stage = (row.after or {}).get("stage") or (row.after or {}).get("to_stage")
    return {
        "id": f"{row.seq}.{version_number}",
        "activity_type": "SYSTEM_TRANSITION",
        "from_stage": to_stage,
        "to_stage": "Archived",
        "user_id": row.actor,
        "system_comment": (
            f"Archived because version {row.version} of '{row.model_name}' moved to {to_stage} "
            "with archive_existing_versions."
        ),
        "creation_timestamp": to_millis(row.created_at),
        "last_updated_timestamp": to_millis(row.created_at),
        "event": row.event,
    }


def request_json(viewer, req):
    body = {
        "id": str(req.pk),
        "activity_type": "REQUESTED_TRANSITION",
        "from_stage": req.from_stage,
        "user_id": req.created_by.username,
        "comment": req.comment,
        "creation_timestamp": to_millis(req.created_at),
        "last_updated_timestamp": to_millis(req.updated_at),
        "available_actions": policies.available_actions(viewer, req),
        "status": req.status,
    }
    if req.to_stage:
        body["to_stage"] = req.to_stage
    else:
        body["alias"] = req.alias
    if req.system_comment:
        body["system_comment"] = req.system_comment
    return body


def comment_json(viewer, row):
    actions = []
    if viewer is not None and viewer.pk == row.user_id:
        actions = ["EDIT_COMMENT", "DELETE_COMMENT"]
    elif access.has_level(viewer, row.version.model, Level.CAN_MANAGE):
        actions = ["DELETE_COMMENT"]
    return {
        "id": str(row.pk),
        "comment": row.comment,
        "user_id": row.user.username,
        "creation_timestamp": to_millis(row.created_at),
        "last_updated_timestamp": to_millis(row.updated_at),
        "available_actions": actions,
    }


def version_databricks_json(viewer, mv):
    body = version_json(mv)
    body["permission_level"] = access.effective_level(viewer, mv.model).name
    # Alias requests are Modelgate's own; Databricks clients know only stage requests.
    open_requests = TransitionRequest.objects.filter(
        version=mv, status=TransitionRequest.PENDING
    ).exclude(to_stage="").select_related("created_by", "model", "version")
    body["open_requests"] = [request_json(viewer, r) for r in open_requests]
    return body


def stage_policy_json(policy):
    return {
        "model": policy.model.name if policy.model_id else None,
        "stage": policy.stage,
        "required_approvals": policy.required_approvals,
        "approver_team": policy.approver_team.name if policy.approver_team_id else None,
        "separation_of_duties": policy.separation_of_duties,
        "require_request": policy.require_request,
        "required_checks": list(policy.required_checks or []),
        "archive_existing_on_approval": policy.archive_existing_on_approval,
        "move_alias_on_approval": policy.move_alias_on_approval,
        "set_by_registry_admin": policy.set_by_registry_admin,
    }


def alias_policy_json(policy):
    return {
        "model": policy.model.name if policy.model_id else None,
        "pattern": policy.pattern,
        "required_level": policy.required_level,
        "required_approvals": policy.required_approvals,
        "approver_team": policy.approver_team.name if policy.approver_team_id else None,
        "separation_of_duties": policy.separation_of_duties,
        "required_checks": list(policy.required_checks or []),
        "set_by_registry_admin": policy.set_by_registry_admin,
    }

