"""A person's email choices, the models they follow or mute, and the outbox: one Notice per
person and event, carried by an Email (at once, or gathered into a daily digest)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from registry.models import RegisteredModel


class Preference(models.Model):
    IMMEDIATE, DIGEST, OFF = "immediate", "digest", "off"
    DELIVERIES = [(IMMEDIATE, "Each event at once"), (DIGEST, "A daily digest"), (OFF, "No email")]

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    delivery = models.CharField(max_length=10, choices=DELIVERIES, default=IMMEDIATE)
    updated_at = models.DateTimeField(default=timezone.now)


class Subscription(models.Model):
    """A person following a model (every notable event on it) or muting it (nothing from it)."""

    FOLLOW, MUTE = "follow", "mute"
    STATES = [(FOLLOW, "Following"), (MUTE, "Muted")]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="model_subscriptions")
    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="subscriptions")
    state = models.CharField(max_length=10, choices=STATES)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "model"], name="uniq_subscription_per_user_model")]


class Email(models.Model):
    """One message to one address, sent by the worker: claimed with a conditional UPDATE and a
    lease, retried on the schedule, swept by beat. Message-ID is fixed when the row is written,
    so a receiver can tell a resend (after a worker died mid-send) from a new message."""

    PENDING, SENDING, SENT, DEAD = "PENDING", "SENDING", "SENT", "DEAD"
    STATUSES = [(s, s.title()) for s in (PENDING, SENDING, SENT, DEAD)]
    FINISHED = (SENT, DEAD)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    to_address = models.EmailField(max_length=254)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    message_id = models.CharField(max_length=200, unique=True, default="")
    is_digest = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def save(self, *args, **kwargs):
        if not self.message_id:
            self.message_id = f"<{uuid.uuid4().hex}@modelgate>"
        super().save(*args, **kwargs)


class Notice(models.Model):
    """One event for one person, with why they hear of it. `email` is the message that carries
    it: set when it is written (immediate), or when the person's digest is made."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    activity_seq = models.BigIntegerField()
    model_uid = models.CharField(max_length=64, blank=True, default="")
    subject = models.CharField(max_length=300)
    text = models.TextField()
    reason = models.TextField()
    stop = models.TextField()
    email = models.ForeignKey(Email, null=True, blank=True, on_delete=models.SET_NULL, related_name="notices")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "activity_seq"], name="uniq_notice_per_user_event")]
        indexes = [models.Index(fields=["user", "email"])]
