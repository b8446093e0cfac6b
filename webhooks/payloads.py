"""Which webhook events an activity is, in each flavor's vocabulary, and the body each flavor
receives. Bodies are serialised once, frozen in the Delivery, and signed as those bytes. Test
events are built the same way, from a made-up activity (example_activity)."""

import json
import uuid
from datetime import timezone as dt_timezone

from django.utils import timezone

from audit import events as ev
from audit.models import Activity
from audit.timestamps import to_millis

DATABRICKS_EVENTS = (
    "MODEL_VERSION_CREATED",
    "MODEL_VERSION_TRANSITIONED_STAGE",
    "TRANSITION_REQUEST_CREATED",
    "COMMENT_CREATED",
    "REGISTERED_MODEL_CREATED",
    "MODEL_VERSION_TAG_SET",
    "MODEL_VERSION_TRANSITIONED_TO_STAGING",
    "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION",
    "MODEL_VERSION_TRANSITIONED_TO_ARCHIVED",
    "TRANSITION_REQUEST_TO_STAGING_CREATED",
    "TRANSITION_REQUEST_TO_PRODUCTION_CREATED",
    "TRANSITION_REQUEST_TO_ARCHIVED_CREATED",
)
# MLflow 3's VALID_ENTITY_ACTIONS for the registry (prompts are not served here).
MLFLOW_EVENTS = (
    "registered_model.created",
    "model_version.created",
    "model_version_tag.set",
    "model_version_tag.deleted",
    "model_version_alias.created",
    "model_version_alias.deleted",
)
MODELGATE_EVENTS = tuple(sorted(ev.ALL))


def _after(activity):
    return activity.after or {}


def _moved_stage(activity):
    """(from_stage, to_stage) when this activity moved a version between stages."""
    after = _after(activity)
    if activity.event == ev.VERSION_STAGE_TRANSITIONED:
        return (activity.before or {}).get("stage"), after.get("stage")
    if activity.event == ev.TRANSITION_REQUEST_APPROVED and after.get("to_stage"):
        return after.get("from_stage"), after.get("to_stage")
    return None, None


def _moved_alias(activity):
    """The alias this activity pointed at a version, if any."""
    if activity.event in (ev.ALIAS_CREATED, ev.ALIAS_MOVED):
        return _after(activity).get("alias")
    if activity.event == ev.TRANSITION_REQUEST_APPROVED and _after(activity).get("alias_moved"):
        return _after(activity)["alias_moved"]["alias"]
    return None


def candidate_events(activity, flavor):
    """The event names this activity fires in `flavor`, most specific first. A webhook gets
    one delivery per activity, named by the first of these it subscribes to."""
    names = []
    from_stage, to_stage = _moved_stage(activity)
    if flavor == "databricks":
        if to_stage:
            if to_stage in ("Staging", "Production", "Archived"):
                names.append(f"MODEL_VERSION_TRANSITIONED_TO_{to_stage.upper()}")
            names.append("MODEL_VERSION_TRANSITIONED_STAGE")
        requested = _after(activity).get("to_stage")
        if activity.event == ev.TRANSITION_REQUEST_CREATED and requested:
            if requested in ("Staging", "Production", "Archived"):
                names.append(f"TRANSITION_REQUEST_TO_{requested.upper()}_CREATED")
            names.append("TRANSITION_REQUEST_CREATED")
        names += {
            ev.VERSION_CREATED: ["MODEL_VERSION_CREATED"],
            ev.MODEL_CREATED: ["REGISTERED_MODEL_CREATED"],
            ev.VERSION_TAG_SET: ["MODEL_VERSION_TAG_SET"],
            ev.COMMENT_CREATED: ["COMMENT_CREATED"],
        }.get(activity.event, [])
        return names + [activity.event]  # Databricks webhooks may also name Modelgate events
    if flavor == "mlflow":
        if activity.event in (ev.MODEL_CREATED, ev.VERSION_CREATED, ev.VERSION_TAG_SET,
                              ev.VERSION_TAG_DELETED, ev.ALIAS_DELETED):
            names.append(activity.event)
        if _moved_alias(activity):
            names.append("model_version_alias.created")  # MLflow fires "created" for a move too
        return names
    names.append(activity.event)
    if to_stage and activity.event != ev.VERSION_STAGE_TRANSITIONED:
        names.append(ev.VERSION_STAGE_TRANSITIONED)
    if _moved_alias(activity) and activity.event not in (ev.ALIAS_CREATED, ev.ALIAS_MOVED):
        names.append(ev.ALIAS_MOVED)
    return names


def matched_event(webhook, activity):
    subscribed = set(webhook.events or [])
    return next((name for name in candidate_events(activity, webhook.flavor) if name in subscribed), None)


def _iso(activity):
    return activity.created_at.astimezone(dt_timezone.utc).isoformat()


def _text(activity, from_stage, to_stage):
    who, name, version = activity.actor, activity.model_name, activity.version
    if to_stage:
        return f"Registered model '{name}' version {version} transitioned from {from_stage} to {to_stage}."
    if activity.event == ev.TRANSITION_REQUEST_CREATED:
        return f"{who} requested a transition of registered model '{name}' version {version} to {_after(activity).get('to_stage')}."
    if activity.event == ev.COMMENT_CREATED:
        return f"A user commented on registered model '{name}' version {version}."
    if activity.event == ev.VERSION_TAG_SET:
        after = _after(activity)
        return f"{who} set version tag(s) '{after.get('key')}' => '{after.get('value')}' for registered model '{name}' version {version}."
    if version is not None:
        return f"{who}: {activity.event} on registered model '{name}' version {version}."
    return f"{who}: {activity.event} on registered model '{name}'."


def databricks_body(activity, webhook, event, event_id):
    from_stage, to_stage = _moved_stage(activity)
    after = _after(activity)
    body = {
        "event": event,
        "webhook_id": webhook.id,
        "event_timestamp": to_millis(activity.created_at),
        "model_name": activity.model_name,
        "text": _text(activity, from_stage, to_stage),
        "user_id": activity.actor,
        "event_id": event_id,
    }
    if activity.version is not None:
        body["version"] = str(activity.version)
    if to_stage:
        body.update(from_stage=from_stage, to_stage=to_stage)
    if activity.event == ev.TRANSITION_REQUEST_CREATED:
        body.update(from_stage=after.get("from_stage"), to_stage=after.get("to_stage"))
    if after.get("request_id"):
        body["request_id"] = str(after["request_id"])
    if activity.event == ev.VERSION_TAG_SET:
        body["tags"] = [{"key": after.get("key"), "value": after.get("value")}]
    if activity.comment:
        body["comment"] = activity.comment
    return body


def mlflow_body(activity, webhook, event, event_id):
    entity, action = event.split(".")
    after = _after(activity)
    name, version = activity.model_name, str(activity.version) if activity.version is not None else None
    if event == "registered_model.created":
        data = {"name": name, "tags": after.get("tags") or {}, "description": after.get("description") or None}
    elif event == "model_version.created":
        data = {"name": name, "version": version, "source": after.get("source"), "run_id": after.get("run_id") or None,
                "tags": after.get("tags") or {}, "description": after.get("description") or None}
    elif event == "model_version_tag.set":
        data = {"name": name, "version": version, "key": after.get("key"), "value": after.get("value")}
    elif event == "model_version_tag.deleted":
        data = {"name": name, "version": version, "key": (activity.before or {}).get("key")}
    elif event == "model_version_alias.created":
        data = {"name": name, "alias": _moved_alias(activity), "version": version}
    else:  # model_version_alias.deleted
        data = {"name": name, "alias": (activity.before or {}).get("alias")}
    return {"entity": entity, "action": action, "timestamp": _iso(activity), "data": data}


def modelgate_body(activity, webhook, event, event_id):
    """Standard Webhooks' shape: {type, timestamp, data}, plus the event id."""
    return {
        "id": event_id,
        "type": event,
        "timestamp": _iso(activity),
        "data": {
            "event": activity.event,
            "model_name": activity.model_name or None,
            "model_id": activity.model_uid or None,
            "version": str(activity.version) if activity.version is not None else None,
            "target": activity.target or None,
            "actor": activity.actor,
            "via": activity.via,
            "comment": activity.comment,
            "before": activity.before,
            "after": activity.after,
            "activity_seq": activity.seq,
            "request_id": activity.request_id,
        },
    }


BODY_BUILDERS = {"databricks": databricks_body, "mlflow": mlflow_body, "modelgate": modelgate_body}


def event_id_for(activity):
    # Stable for the event: the same on every retry and redelivery (webhook-id), no '.'.
    return f"evt_{activity.hash[:32]}"


def serialise(body):
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


def build(webhook, activity, event):
    event_id = event_id_for(activity)
    return event_id, serialise(BODY_BUILDERS[webhook.flavor](activity, webhook, event, event_id))


def jenkins_parameters(webhook, delivery, body_bytes):
    """buildWithParameters form fields for a Jenkins job (MODEL, VERSION, stages, alias,
    request and event ids, and the JSON payload)."""
    body = json.loads(body_bytes)
    data = body.get("data", body)
    after = data.get("after") or {}
    return {
        "MODEL": data.get("model_name") or "",
        "VERSION": data.get("version") or "",
        "FROM_STAGE": data.get("from_stage") or after.get("from_stage") or (data.get("before") or {}).get("stage") or "",
        "TO_STAGE": data.get("to_stage") or after.get("to_stage") or after.get("stage") or "",
        "ALIAS": (after.get("alias_moved") or {}).get("alias") or after.get("alias") or "",
        "REQUEST_ID": str(after.get("request_id") or body.get("request_id") or ""),
        "EVENT": delivery.event,
        "EVENT_ID": delivery.event_id,
        "PAYLOAD": body_bytes.decode(),
    }


# Test events ------------------------------------------------------------------------------------

def example_activity(ctx, webhook, event):
    """A made-up activity of the kind `event` names, about the webhook's model (or an example
    one), for a test event: the receiver sees a realistic body. It is never saved."""
    stage = next((s for s in ("Staging", "Production", "Archived") if s.upper() in event), "Production")
    native = {
        "MODEL_VERSION_CREATED": ev.VERSION_CREATED, "REGISTERED_MODEL_CREATED": ev.MODEL_CREATED,
        "MODEL_VERSION_TAG_SET": ev.VERSION_TAG_SET, "COMMENT_CREATED": ev.COMMENT_CREATED,
        "model_version_alias.created": ev.ALIAS_CREATED,
    }.get(event)
    if native is None:
        if event.startswith("MODEL_VERSION_TRANSITIONED"):
            native = ev.VERSION_STAGE_TRANSITIONED
        elif event.startswith("TRANSITION_REQUEST"):
            native = ev.TRANSITION_REQUEST_CREATED
        else:
            native = event if event in ev.ALL else ev.VERSION_CREATED
    after = {
        "stage": stage, "archived_versions": [], "to_stage": stage, "from_stage": "None",
        "request_id": 0, "key": "example", "value": "true", "alias": "champion", "version": 1,
        "source": "models:/m-example", "run_id": "", "tags": {}, "description": "",
    }
    if native == ev.VERSION_STAGE_TRANSITIONED:
        after = {"stage": stage, "archived_versions": []}
    return Activity(
        seq=0, created_at=timezone.now(), actor=ctx.username, actor_id=getattr(ctx.user, "pk", None),
        via=ctx.via, event=native, model_uid=webhook.model.uid if webhook.model_id else "",
        model_name=webhook.model.name if webhook.model_id else "example_model", version=1,
        target="", before={"stage": "None", "key": "example", "alias": "champion"}, after=after,
        comment="This is a test event from Modelgate.", request_id=ctx.request_id,
        hash=uuid.uuid4().hex + uuid.uuid4().hex,
    )
