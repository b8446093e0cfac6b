"""Webhook and delivery reads, limited to what the viewer may manage."""

from django.db.models import Exists, OuterRef, Q, Subquery

from accounts import policies as access
from accounts.levels import Level
from audit.errors import ResourceDoesNotExist
from registry.models import RegisteredModel

from .models import Attempt, Delivery, Webhook

# What others than registry admins see of any failure at an internal destination: refused,
# timed out, reset and an error answer all look alike, so `test` and the delivery log cannot
# map an internal network's ports or services.
INTERNAL_FAILURE = "failed at an internal destination (registry admins see the details)"


def logged_webhooks(viewer):
    """Webhooks whose delivery log the viewer may read: every one for registry admins, retired
    ones included (their model is gone); for others those on models where they hold CAN_MANAGE."""
    qs = Webhook.objects.select_related("model")
    if access.registry_wide_level(viewer) >= Level.CAN_MANAGE and (viewer is None or viewer.is_superuser):
        return qs
    managed = [m.pk for m in access.readable(viewer, RegisteredModel.objects.all())
               if access.has_level(viewer, m, Level.CAN_MANAGE)]
    return qs.filter(Q(model__in=managed))


def manageable_webhooks(viewer):
    """Webhooks the viewer manages: registry-wide ones for registry admins, and those on
    models where the viewer holds CAN_MANAGE. A retired webhook is gone, as if deleted."""
    return logged_webhooks(viewer).exclude(status=Webhook.RETIRED)


def outcome_for_everyone(*, internal, body, error, latency_ms=None):
    """(body, error, latency_ms) of an answer as anyone may see it: all of it from a public
    destination; from an internal one (an allowlisted network) no body, one message for every
    failure and no timing (how long it took tells a refused port from a filtered one, too)."""
    if not internal:
        return body, error, latency_ms
    return "", INTERNAL_FAILURE if error else "", None


def outcome_for(viewer, *, internal, body, error, latency_ms=None):
    """(body, error, latency_ms) of an answer as `viewer` may see it: registry admins see all."""
    if access.is_registry_admin(viewer):
        return body, error, latency_ms
    return outcome_for_everyone(internal=internal, body=body, error=error, latency_ms=latency_ms)


def webhook_get(viewer, webhook_id, flavor=None):
    webhook = manageable_webhooks(viewer).filter(pk=str(webhook_id)).first()
    if webhook is None or (flavor and webhook.flavor != flavor):
        raise webhook_not_found(webhook_id)
    return webhook


def webhook_not_found(webhook_id):
    """The error for a webhook that is missing or not the caller's to see, in MLflow's words."""
    return ResourceDoesNotExist(f"Webhook with ID {webhook_id} not found.")


def deliveries(viewer, *, webhook_id=None, status=None, event=None):
    """The delivery log the viewer may read; each delivery says whether any attempt went to an
    internal destination (`internal_destination`), for outcome_for."""
    qs = (
        Delivery.objects.filter(webhook__in=logged_webhooks(viewer)).select_related("webhook")
        .annotate(internal_destination=Exists(
            Attempt.objects.filter(delivery=OuterRef("pk"), internal_destination=True)
        ))
    )
    if webhook_id:
        qs = qs.filter(webhook_id=webhook_id)
    if status:
        qs = qs.filter(status=status)
    if event:
        qs = qs.filter(event=event)
    return qs.order_by("-created_at", "-activity_seq")


def delivery_get(viewer, delivery_id):
    delivery = deliveries(viewer).filter(pk=str(delivery_id)).prefetch_related("attempt_log").first()
    if delivery is None:
        raise ResourceDoesNotExist(f"Delivery {delivery_id} not found")
    return delivery


def model_webhooks(viewer, model):
    """The webhooks on one model, for a viewer who manages it (none otherwise: as
    manageable_webhooks, without visiting every model), each with its latest delivery's
    `last_delivery_status` and `last_delivery_at`."""
    if not access.has_level(viewer, model, Level.CAN_MANAGE):
        return []
    latest = Delivery.objects.filter(webhook=OuterRef("pk")).order_by("-created_at", "-activity_seq")
    return list(
        Webhook.objects.filter(model=model).exclude(status=Webhook.RETIRED)
        .annotate(last_delivery_status=Subquery(latest.values("status")[:1]),
                  last_delivery_at=Subquery(latest.values("created_at")[:1]))
        .order_by("created_at")
    )
