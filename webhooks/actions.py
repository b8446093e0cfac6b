"""Every write on webhooks: create, update, delete, test, redeliver, and the system's
disabling of a failing webhook. Each ends with exactly one record()."""

import base64
import ipaddress
import random
import re

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import policies as access
from accounts.levels import Level
from audit import events as ev
from audit.activity import record
from audit.errors import InvalidParameterValue, ResourceDoesNotExist, model_not_found
from registry import policies as registry_policies
from registry.models import RegisteredModel

from . import attempts, crypto, payloads, selectors, transport
from .enqueue import hand_off
from .models import Delivery, Webhook

VOCABULARY = {
    Webhook.DATABRICKS: frozenset(payloads.DATABRICKS_EVENTS) | frozenset(payloads.MODELGATE_EVENTS),
    Webhook.MLFLOW: frozenset(payloads.MLFLOW_EVENTS),
    Webhook.MODELGATE: frozenset(payloads.MODELGATE_EVENTS),
}
REGISTRY_WIDE_ONLY = {"REGISTERED_MODEL_CREATED", ev.MODEL_CREATED}


def _snapshot(webhook):
    """What the activity log keeps of a webhook: never its secrets."""
    return {
        "id": webhook.id, "flavor": webhook.flavor, "target": webhook.target, "name": webhook.name,
        "model": webhook.model.name if webhook.model_id else None, "events": list(webhook.events),
        "status": webhook.status, "url": webhook.url, "jenkins_job": webhook.jenkins_job or None,
        "has_secret": bool(webhook.secret_encrypted), "has_authorization": bool(webhook.authorization_encrypted),
        "enable_ssl_verification": webhook.enable_ssl_verification,
    }


def _require_manage(ctx, webhook_model, flavor):
    """Model webhooks need CAN_MANAGE on the model; registry-wide ones (and every MLflow 3
    webhook, which has no model scope) a registry admin."""
    if webhook_model is None:
        registry_policies.require_registry_admin(ctx, "managing registry-wide webhooks")
    else:
        registry_policies.require_level(ctx, webhook_model, Level.CAN_MANAGE, "managing webhooks")


def _validate_events(flavor, events, model):
    if not isinstance(events, list) or not events:
        raise InvalidParameterValue("events must be a non-empty list of event names.")
    vocabulary = VOCABULARY[flavor]
    for name in events:
        if name not in vocabulary:
            raise InvalidParameterValue(
                f"Invalid event '{name}'. Valid events: {', '.join(sorted(vocabulary))}."
            )
        if model is not None and name in REGISTRY_WIDE_ONLY:
            raise InvalidParameterValue(f"{name} can only be used on registry-wide webhooks (no model_name).")
    return sorted(set(events), key=events.index)


def _validate_url(ctx, url):
    """A URL webhooks may use, checked in MLflow's order and refused in its words: not blank,
    parseable, an allowed scheme (MODELGATE_WEBHOOK_ALLOWED_SCHEMES), a host. An address in an
    allowlisted internal network is only for registry admins; a host name is checked against
    what it resolves to at every connect."""
    if not url or not url.strip():
        raise InvalidParameterValue(f"Webhook URL cannot be empty or just whitespace: {url!r}")
    if len(url) > 2000:
        raise InvalidParameterValue("url must be at most 2000 characters.")
    try:
        scheme, host, _ = transport.origin(url)
        schemes = settings.MODELGATE_WEBHOOK_ALLOWED_SCHEMES
        if scheme not in schemes:
            raise InvalidParameterValue(
                f"Invalid webhook URL scheme: {scheme!r}. Allowed schemes are: {', '.join(schemes)}."
            )
        if not host:
            raise InvalidParameterValue(f"Webhook URL must include a hostname: {url!r}")
        transport.check_url(url)
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None  # a name: checked against its address at every connect
        if literal is not None:
            transport.check_address(str(literal), allow_internal=access.is_registry_admin(ctx.user))
    except ValueError as exc:  # urlsplit's: a malformed IPv6 host, a port that is not a number
        raise InvalidParameterValue(f"Invalid webhook URL {url!r}: {exc!r}") from None  # MLflow's words
    except transport.DestinationRefused as exc:
        raise InvalidParameterValue(f"Invalid webhook url: {exc}.") from None
    return url


# MLflow's rule for webhook names (mlflow.utils.validation._validate_webhook_name).
MLFLOW_NAME = re.compile(r"(?=.{1,63}$)[a-z0-9]([a-z0-9._-]*[a-z0-9])?", re.IGNORECASE)


def _validate_name(flavor, name):
    if flavor == Webhook.MLFLOW and not MLFLOW_NAME.fullmatch(name):
        raise InvalidParameterValue(
            f"Webhook name {name!r} is invalid. It must start and end with a letter or digit, be less than "
            "63 characters long, and contain only letters, digits, dots (.), underscores (_), and hyphens (-)."
        )
    return name


def _validate_secret(secret):
    # A "whsec_" secret is base64 to Standard Webhooks libraries: refuse one they cannot use.
    if secret and secret.startswith("whsec_"):
        try:
            base64.b64decode(secret[len("whsec_"):], validate=True)
        except ValueError:
            raise InvalidParameterValue("A secret starting with 'whsec_' must be base64 after the prefix.") from None
    return secret


def _validate_status(status):
    if status not in (Webhook.ACTIVE, Webhook.TEST_MODE, Webhook.DISABLED):
        raise InvalidParameterValue("status must be ACTIVE, TEST_MODE or DISABLED.")
    return status


def _set_jenkins_credential(webhook, token, password):
    """An API token (Basic, no crumb needed) or else a password (then the crumb flow)."""
    webhook.jenkins_token_encrypted = crypto.encrypt(token or password)
    webhook.jenkins_uses_password = bool(password) and not token


def _drop_credentials(webhook, changes):
    """A webhook's secret, Authorization header and Jenkins credential are for its destination
    alone: when the URL moves to another scheme, host or port, each one stored is dropped
    unless `changes` gives it again. Returns what was dropped, for the activity's comment."""
    dropped = []
    if webhook.secret_encrypted and changes.get("secret") is None:
        webhook.secret_encrypted = ""
        dropped.append("secret")
    if webhook.authorization_encrypted and changes.get("authorization") is None:
        webhook.authorization_encrypted = ""
        dropped.append("Authorization header")
    if webhook.jenkins_token_encrypted and not (changes.get("jenkins_token") or changes.get("jenkins_password")):
        webhook.jenkins_token_encrypted = ""
        dropped.append("Jenkins credential")
    return dropped


def _dropped_comment(dropped):
    comment = (f"The destination moved to another scheme, host or port: dropped the stored "
               f"{' and '.join(dropped)}, not given again with the new URL")
    if "secret" in dropped:
        comment += "; deliveries are unsigned until a secret is set"
    if "Jenkins credential" in dropped:
        comment += "; the Jenkins job cannot be triggered until a new api_token or password is set"
    return comment + "."


def _model(ctx, model_name):
    if not model_name:
        return None
    model = RegisteredModel.objects.select_for_update().filter(name=model_name).first()
    if model is None:
        raise model_not_found(model_name)
    registry_policies.require_read(ctx, model)
    return model


def webhook_create(
    ctx, *, flavor, events, url, model_name="", name="", description="", status=Webhook.ACTIVE,
    secret="", authorization="", enable_ssl_verification=True, target=Webhook.HTTP,
    jenkins_job="", jenkins_user="", jenkins_token="", jenkins_password="",
):
    """Subscribe a URL (or a Jenkins job) to exact events, for one model or registry-wide."""
    with transaction.atomic():
        model = _model(ctx, model_name)
        _require_manage(ctx, model, flavor)
        webhook = Webhook(
            flavor=flavor, target=target, name=_validate_name(flavor, name or ""), description=description or "",
            model=model,
            events=_validate_events(flavor, events, model), status=_validate_status(status),
            url=_validate_url(ctx, url), destination_set_by_admin=access.is_registry_admin(ctx.user),
            enable_ssl_verification=bool(enable_ssl_verification),
            secret_encrypted=crypto.encrypt(_validate_secret(secret)), authorization_encrypted=crypto.encrypt(authorization),
            created_by=ctx.user,
        )
        if target == Webhook.JENKINS:
            if not jenkins_job or not jenkins_user or not (jenkins_token or jenkins_password):
                raise InvalidParameterValue("A Jenkins target needs job, user and api_token (or password).")
            webhook.jenkins_job = jenkins_job.strip("/")
            webhook.jenkins_user = jenkins_user
            _set_jenkins_credential(webhook, jenkins_token, jenkins_password)
        webhook.save()
        record(ctx, event=ev.WEBHOOK_CREATED, model=model, target=webhook.id, after=_snapshot(webhook))
    return webhook


def _lock_webhook(ctx, webhook_id, flavor=None):
    # of=("self",): the model join is an outer one (registry-wide webhooks have none), and
    # PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
    webhook = (
        Webhook.objects.select_for_update(of=("self",)).select_related("model")
        .filter(pk=str(webhook_id)).first()
    )
    if webhook is None or (flavor and webhook.flavor != flavor) or webhook.status == Webhook.RETIRED:
        raise selectors.webhook_not_found(webhook_id)
    if webhook.model is not None and not registry_policies.can_read(ctx.user, webhook.model):
        raise selectors.webhook_not_found(webhook_id)
    _require_manage(ctx, webhook.model, webhook.flavor)
    return webhook


def webhook_update(ctx, *, webhook_id, flavor=None, **changes):
    """Change a webhook's events, URL spec (a Jenkins target's api_token or password too),
    status, name or description. A URL on another scheme, host or port drops the stored
    credentials the same call does not give again (_drop_credentials). Re-activating a
    webhook resets its failure count."""
    with transaction.atomic():
        webhook = _lock_webhook(ctx, webhook_id, flavor)
        before = _snapshot(webhook)
        comment = ""
        if "events" in changes and changes["events"] is not None:
            webhook.events = _validate_events(webhook.flavor, changes["events"], webhook.model)
        if changes.get("url") is not None:
            url = _validate_url(ctx, changes["url"])
            if transport.origin(url) != transport.origin(webhook.url):
                dropped = _drop_credentials(webhook, changes)
                comment = _dropped_comment(dropped) if dropped else ""
            # Internal networks stay reachable only while a registry admin gave the URL last.
            if access.is_registry_admin(ctx.user):
                webhook.destination_set_by_admin = True
            elif url != webhook.url:
                webhook.destination_set_by_admin = False
            webhook.url = url
        if changes.get("secret") is not None:
            webhook.secret_encrypted = crypto.encrypt(_validate_secret(changes["secret"]))
        if changes.get("authorization") is not None:
            webhook.authorization_encrypted = crypto.encrypt(changes["authorization"])
        if webhook.target == Webhook.JENKINS and (changes.get("jenkins_token") or changes.get("jenkins_password")):
            _set_jenkins_credential(webhook, changes.get("jenkins_token"), changes.get("jenkins_password"))
        if changes.get("enable_ssl_verification") is not None:
            webhook.enable_ssl_verification = bool(changes["enable_ssl_verification"])
        if changes.get("name") is not None:
            webhook.name = _validate_name(webhook.flavor, changes["name"])
        if changes.get("description") is not None:
            webhook.description = changes["description"]
        if changes.get("status") is not None:
            webhook.status = _validate_status(changes["status"])
            if webhook.status == Webhook.ACTIVE:
                webhook.consecutive_failures = 0
        webhook.updated_at = timezone.now()
        webhook.save()
        record(ctx, event=ev.WEBHOOK_UPDATED, model=webhook.model, target=webhook.id,
               before=before, after=_snapshot(webhook), comment=comment)
    return webhook


def webhook_delete(ctx, *, webhook_id, flavor=None):
    with transaction.atomic():
        webhook = _lock_webhook(ctx, webhook_id, flavor)
        before = _snapshot(webhook)
        model = webhook.model
        webhook.delete()
        record(ctx, event=ev.WEBHOOK_DELETED, model=model, target=before["id"], before=before)


def webhook_disable(ctx, *, webhook, reason):
    """The system (ctx is Ctx.system()) turns off a webhook that keeps failing (or answered
    410), on the record. Usually called inside the outbox's settling transaction; atomic on
    its own too."""
    with transaction.atomic():
        Webhook.objects.filter(pk=webhook.pk).update(status=Webhook.DISABLED, updated_at=timezone.now())
        webhook.refresh_from_db()
        record(
            ctx, event=ev.WEBHOOK_DISABLED, model=webhook.model, target=webhook.id,
            comment=f"Disabled: {reason}.", before={"status": Webhook.ACTIVE}, after=_snapshot(webhook),
        )


# Test events ------------------------------------------------------------------------------------

def webhook_test(ctx, *, webhook_id, event="", flavor=None):
    """Send a test event now (whatever the status, TEST_MODE included) and return the
    delivery; the attempt is in the delivery log like any other."""
    with transaction.atomic():
        webhook = _lock_webhook(ctx, webhook_id, flavor)
        if event and event not in webhook.events:
            raise InvalidParameterValue(f"Event '{event}' is not one of this webhook's events.")
        event = event or random.choice(webhook.events)
        activity = payloads.example_activity(ctx, webhook, event)
        event_id, body = payloads.build(webhook, activity, event)
        delivery = Delivery.objects.create(
            webhook=webhook, event=event, event_id=event_id, model_uid="", payload=body,
            is_test=True, status=Delivery.IN_FLIGHT, attempts=1,
        )
    # Sent outside any transaction: nothing waits on a slow receiver with a lock held.
    result = attempts.send(delivery)
    with transaction.atomic():
        attempts.log(delivery, result)
        delivery.status = Delivery.DELIVERED if result.ok else Delivery.FAILED
        delivery.finished_at = timezone.now()
        delivery.last_error = "" if result.ok else (result.error or f"HTTP {result.status_code}")
        delivery.save(update_fields=["status", "finished_at", "last_error"])
        # The activity log is read by everyone who can read the model: an internal
        # destination's error is kept to the one message others see.
        _, error, _ = selectors.outcome_for_everyone(internal=result.internal, body="", error=result.error)
        record(
            ctx, event=ev.WEBHOOK_TESTED, model=webhook.model, target=webhook.id,
            after={"event": event, "delivery_id": delivery.pk, "status_code": result.status_code,
                   "error": error or None},
        )
    return delivery, result


def deliveries_redeliver(ctx, *, webhook_id, delivery_id=None):
    """Send again one finished delivery, or every failed/dead one of a webhook: same payload
    and event id, a fresh retry budget, queued behind nothing newer than itself."""
    with transaction.atomic():
        webhook = _lock_webhook(ctx, webhook_id)
        qs = Delivery.objects.select_for_update().filter(webhook=webhook, is_test=False)
        if delivery_id:
            qs = qs.filter(pk=delivery_id)
            if not qs.exists():
                raise ResourceDoesNotExist(f"Delivery {delivery_id} not found for webhook {webhook_id}")
            qs = qs.filter(status__in=Delivery.FINISHED)
        else:
            qs = qs.filter(status__in=(Delivery.FAILED, Delivery.DEAD))
        ids = list(qs.order_by("activity_seq").values_list("pk", flat=True))
        if delivery_id and not ids:
            raise InvalidParameterValue("Only a finished delivery can be redelivered; this one is still in progress.")
        Delivery.objects.filter(pk__in=ids).update(
            status=Delivery.PENDING, attempts=0, next_attempt_at=timezone.now(), finished_at=None,
            claimed_until=None,
        )
        record(ctx, event=ev.DELIVERIES_REDELIVERED, model=webhook.model, target=webhook.id,
               after={"delivery_ids": ids})
        transaction.on_commit(lambda: hand_off(ids), robust=True)
    return ids
