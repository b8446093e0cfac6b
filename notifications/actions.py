"""A person's notification choices: how they get email, and which models they follow or mute.
Each changes only the caller's own choices and ends with exactly one record()."""

from django.db import transaction
from django.utils import timezone

from audit import events
from audit.activity import record
from audit.errors import InvalidParameterValue, PermissionDenied, model_not_found
from registry import policies as registry_policies
from registry.models import RegisteredModel

from .models import Preference, Subscription

DELIVERIES = {choice for choice, _ in Preference.DELIVERIES}
STATES = {choice for choice, _ in Subscription.STATES}


def _person(ctx):
    user = ctx.user
    if user is None or user.is_service_account:
        raise PermissionDenied("Permission denied: notification choices belong to people, not service accounts.")
    return user


def notification_settings_set(ctx, *, delivery):
    """Choose how notices reach you: `immediate` (one email each), `digest` (one a day) or `off`.
    Choosing what is already chosen changes nothing and records nothing."""
    if delivery not in DELIVERIES:
        raise InvalidParameterValue(f"delivery must be one of {', '.join(sorted(DELIVERIES))}.")
    user = _person(ctx)
    with transaction.atomic():
        preference = Preference.objects.select_for_update().filter(user=user).first()
        before = preference.delivery if preference is not None else Preference.IMMEDIATE
        if before == delivery:
            return preference
        preference = preference or Preference(user=user)
        preference.delivery, preference.updated_at = delivery, timezone.now()
        preference.save()
        record(ctx, event=events.NOTIFICATION_SETTINGS_CHANGED, target=user.username,
               before={"delivery": before}, after={"delivery": delivery})
    return preference


def model_subscription_set(ctx, *, name, state):
    """Follow a model (hear of every notable event on it), mute it (hear nothing from it), or
    `state=""` to go back to the defaults. Needs CAN_READ on the model."""
    if state not in STATES | {""}:
        raise InvalidParameterValue("state must be follow, mute or empty (the defaults).")
    user = _person(ctx)
    with transaction.atomic():
        model = RegisteredModel.objects.select_for_update().filter(name=name).first()
        if model is None:
            raise model_not_found(name)
        registry_policies.require_read(ctx, model)
        current = Subscription.objects.select_for_update().filter(user=user, model=model).first()
        before = current.state if current is not None else ""
        if before == state:
            return current
        if not state:
            current.delete()
            current = None
        else:
            current = current or Subscription(user=user, model=model)
            current.state, current.updated_at = state, timezone.now()
            current.save()
        # Not on the model's own activity: who muted a model is nobody else's business (the
        # registry-wide log still has it).
        record(ctx, event=events.MODEL_SUBSCRIPTION_CHANGED, target=model.name,
               before={"state": before}, after={"state": state, "model_uid": model.uid})
    return current
