"""What the notification pages read, always the viewer's own."""

from registry import policies as registry_policies

from .models import Email, Preference, Subscription


def delivery_of(viewer):
    preference = Preference.objects.filter(user=viewer).first()
    return preference.delivery if preference is not None else Preference.IMMEDIATE


def subscriptions(viewer):
    """The viewer's followed and muted models they may still read, by name."""
    rows = Subscription.objects.filter(user=viewer).select_related("model").order_by("model__name")
    return [row for row in rows if registry_policies.can_read(viewer, row.model)]


def subscription_state(viewer, model):
    row = Subscription.objects.filter(user=viewer, model=model).first()
    return row.state if row is not None else ""


def recent_emails(viewer, limit=20):
    """The latest emails sent (or being sent) to the viewer, newest first."""
    return list(Email.objects.filter(user=viewer).order_by("-created_at", "-pk")[:limit])
