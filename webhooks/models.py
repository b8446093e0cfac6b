import uuid

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone

from registry.models import RegisteredModel

from . import crypto


def new_id():
    return uuid.uuid4().hex


def retire_with_model(collector, field, sub_objs, using):
    """on_delete of Webhook.model: a model's webhooks outlive it, retired (no model, status
    RETIRED) in the same delete. The deliveries its deletion event just wrote are still sent
    and the delivery log is kept; a retired webhook never matches another model (a new one of
    the same name included) and, having no model, is not taken for a registry-wide one."""
    collector.add_field_update(field, None, sub_objs)
    collector.add_field_update(field.model._meta.get_field("status"), field.model.RETIRED, sub_objs)
    collector.add_field_update(field.model._meta.get_field("updated_at"), timezone.now(), sub_objs)


class Webhook(models.Model):
    """One subscription. `flavor` says which API created it and so which event names and
    payload format it speaks; `target` says where it goes (a URL, or a Jenkins job)."""

    DATABRICKS, MLFLOW, MODELGATE = "databricks", "mlflow", "modelgate"
    FLAVORS = [(DATABRICKS, "Databricks registry webhook"), (MLFLOW, "MLflow 3 webhook"), (MODELGATE, "Modelgate")]
    HTTP, JENKINS = "http", "jenkins"
    TARGETS = [(HTTP, "HTTP POST"), (JENKINS, "Jenkins job")]
    ACTIVE, TEST_MODE, DISABLED, RETIRED = "ACTIVE", "TEST_MODE", "DISABLED", "RETIRED"
    # RETIRED: its model was deleted (retire_with_model); final, and never set through the APIs.
    STATUSES = [(ACTIVE, "Active"), (TEST_MODE, "Test mode"), (DISABLED, "Disabled"), (RETIRED, "Retired")]

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    flavor = models.CharField(max_length=12, choices=FLAVORS)
    target = models.CharField(max_length=8, choices=TARGETS, default=HTTP)
    name = models.CharField(max_length=200, blank=True, default="")
    description = models.TextField(blank=True, default="")
    model = models.ForeignKey(
        RegisteredModel, null=True, blank=True, on_delete=retire_with_model, related_name="webhooks",
        help_text="Empty: registry-wide (unless retired: its model was deleted).",
    )
    events = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=STATUSES, default=ACTIVE)
    url = models.URLField(max_length=2000, blank=True, default="")
    enable_ssl_verification = models.BooleanField(default=True)
    # Set only when a registry admin created the webhook or last gave its URL: then (and only
    # then) its deliveries may reach internal networks MODELGATE_WEBHOOK_ALLOWED_NETWORKS lets in.
    destination_set_by_admin = models.BooleanField(default=False)
    secret_encrypted = models.TextField(blank=True, default="")
    authorization_encrypted = models.TextField(blank=True, default="")
    # Jenkins target: base URL in `url`, the job path (folders with '/'), a user and either an
    # API token (no crumb needed) or a password (then a CSRF crumb with its session cookie).
    jenkins_job = models.CharField(max_length=500, blank=True, default="")
    jenkins_user = models.CharField(max_length=200, blank=True, default="")
    jenkins_token_encrypted = models.TextField(blank=True, default="")
    jenkins_uses_password = models.BooleanField(default=False)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.name or f"{self.flavor} webhook {self.id[:8]}"

    @property
    def secret(self):
        return crypto.decrypt(self.secret_encrypted)

    @property
    def authorization(self):
        return crypto.decrypt(self.authorization_encrypted)

    @property
    def jenkins_token(self):
        return crypto.decrypt(self.jenkins_token_encrypted)


class DeliveryQuerySet(models.QuerySet):
    def at_head_of_line(self):
        """Only deliveries no older unfinished one of the same webhook and model holds back:
        the ones that may be sent now, so receivers see one model's events in order."""
        older_unfinished = Delivery.objects.filter(
            webhook=OuterRef("webhook"), model_uid=OuterRef("model_uid"),
            activity_seq__lt=OuterRef("activity_seq"), is_test=False,
        ).exclude(status__in=Delivery.FINISHED)
        return self.exclude(Exists(older_unfinished))


class Delivery(models.Model):
    """One event for one webhook: the outbox row, with its payload frozen as bytes."""

    PENDING, IN_FLIGHT, DELIVERED, FAILED, DEAD = "PENDING", "IN_FLIGHT", "DELIVERED", "FAILED", "DEAD"
    STATUSES = [(s, s.replace("_", " ").title()) for s in (PENDING, IN_FLIGHT, DELIVERED, FAILED, DEAD)]
    # A delivery in one of these no longer holds back newer ones for its webhook and model.
    FINISHED = (DELIVERED, FAILED, DEAD)

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=64, help_text="Stable across retries and redelivery (webhook-id).")
    event = models.CharField(max_length=64, help_text="The event name as the webhook subscribed to it.")
    activity_seq = models.BigIntegerField(null=True, blank=True)
    model_uid = models.CharField(max_length=32, blank=True, default="")
    payload = models.BinaryField()
    is_test = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    # Why it was not handed to Celery when it was written (broker down): it waited for the sweeper.
    handoff_error = models.TextField(blank=True, default="")
    # Jenkins: where the build was queued and what became of it.
    jenkins_queue_url = models.URLField(max_length=2000, blank=True, default="")
    jenkins_build_url = models.URLField(max_length=2000, blank=True, default="")
    jenkins_build_number = models.PositiveIntegerField(null=True, blank=True)
    jenkins_result = models.CharField(max_length=20, blank=True, default="")

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "activity_seq"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["webhook", "model_uid", "status", "activity_seq"]),
        ]

    def __str__(self):
        return f"{self.event} -> {self.webhook} ({self.status})"


class Attempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    # Sent to an allowlisted internal network: only registry admins see its answer and error.
    internal_destination = models.BooleanField(default=False)

    class Meta:
        ordering = ["delivery", "number"]
