from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils import timezone

from registry.models import STAGE_NAME_LENGTH, ModelVersion, RegisteredModel


class ReviewRules(models.Model):
    """What stage and alias policies share: who must approve, and what must pass first."""

    required_approvals = models.PositiveSmallIntegerField(default=1)
    approver_team = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Members may approve even without the required level.",
    )
    separation_of_duties = models.BooleanField(
        default=True, help_text="The requester may not approve their own request."
    )
    required_checks = models.JSONField(
        default=list, blank=True, help_text='Check names that must be "success", e.g. ["jenkins/validation"].'
    )
    set_by_registry_admin = models.BooleanField(
        default=False, editable=False,
        help_text="A model's policy a registry admin set: it stands on its own (it may be below the "
        "registry-wide one), and the model's managers may add to it but not lower or delete it.",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class StagePolicy(ReviewRules):
    """Rules for moving versions into a stage: registry-wide (model empty) or for one model.
    The registry-wide policy is a floor: a model's own adds to it (policies.stage_policy)."""

    model = models.ForeignKey(
        RegisteredModel, null=True, blank=True, on_delete=models.CASCADE, related_name="stage_policies",
        help_text="Empty: applies to every model without a policy of its own for this stage.",
    )
    # Any stage but None and Archived, custom ones too (registry/stages.py): checked by the action.
    stage = models.CharField(max_length=STAGE_NAME_LENGTH)
    require_request = models.BooleanField(
        default=False,
        help_text="Every move into this stage goes through an approved request; direct "
        "transitions are refused, even to holders of the level.",
    )
    archive_existing_on_approval = models.BooleanField(
        default=False, help_text="On approval, archive the versions currently in the stage."
    )
    move_alias_on_approval = models.CharField(
        max_length=255, blank=True, default="", help_text='On approval, point this alias (e.g. "champion") at the version.'
    )

    class Meta:
        verbose_name_plural = "stage policies"
        constraints = [
            models.UniqueConstraint(fields=["model", "stage"], name="uniq_stage_policy_per_model"),
            models.UniqueConstraint(
                fields=["stage"], condition=Q(model__isnull=True), name="uniq_registry_stage_policy"
            ),
        ]

    def __str__(self):
        return f"{self.stage} policy for {self.model or 'all models'}"


class AliasPolicy(ReviewRules):
    """Protects alias names (fnmatch patterns such as `champion` or `prod-*`): moving or
    deleting one needs `required_level`, or an approved alias request."""

    model = models.ForeignKey(
        RegisteredModel, null=True, blank=True, on_delete=models.CASCADE, related_name="alias_policies"
    )
    pattern = models.CharField(max_length=255)
    required_level = models.CharField(max_length=40, default="CAN_MANAGE_PRODUCTION_VERSIONS")

    class Meta:
        verbose_name_plural = "alias policies"
        constraints = [
            models.UniqueConstraint(fields=["model", "pattern"], name="uniq_alias_policy_per_model"),
            models.UniqueConstraint(
                fields=["pattern"], condition=Q(model__isnull=True), name="uniq_registry_alias_policy"
            ),
        ]

    def __str__(self):
        return f"alias {self.pattern!r} on {self.model or 'all models'}"


class TransitionRequest(models.Model):
    PENDING, APPROVED, REJECTED, CANCELLED, CLOSED = "PENDING", "APPROVED", "REJECTED", "CANCELLED", "CLOSED"
    STATUSES = [(s, s.title()) for s in (PENDING, APPROVED, REJECTED, CANCELLED, CLOSED)]

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="transition_requests")
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="transition_requests")
    # The target: a stage (to_stage) or an alias (alias); exactly one is set.
    to_stage = models.CharField(max_length=STAGE_NAME_LENGTH, blank=True, default="")
    alias = models.CharField(max_length=255, blank=True, default="")
    from_stage = models.CharField(max_length=STAGE_NAME_LENGTH)
    comment = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    system_comment = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one open request per version and target.
            models.UniqueConstraint(
                fields=["version", "to_stage", "alias"], condition=Q(status="PENDING"),
                name="uniq_pending_request_per_target",
            ),
            models.CheckConstraint(
                condition=(Q(to_stage="") & ~Q(alias="")) | (~Q(to_stage="") & Q(alias="")),
                name="request_targets_stage_or_alias",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"#{self.pk} {self.model.name} v{self.version.version} -> {self.target_label}"

    @property
    def target_label(self):
        return self.to_stage or f"@{self.alias}"

    @property
    def is_pending(self):
        return self.status == self.PENDING


class Review(models.Model):
    APPROVE, REJECT = "APPROVE", "REJECT"

    request = models.ForeignKey(TransitionRequest, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=8, choices=[(APPROVE, "Approve"), (REJECT, "Reject")])
    comment = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            # The same reviewer counts once.
            models.UniqueConstraint(fields=["request", "reviewer"], name="uniq_review_per_reviewer")
        ]


class Check(models.Model):
    """One CI report on a version; the latest report per name is the check's state."""

    PENDING, SUCCESS, FAILURE = "pending", "success", "failure"
    STATUSES = [(PENDING, "pending"), (SUCCESS, "success"), (FAILURE, "failure")]

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="checks")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=STATUSES)
    details_url = models.URLField(max_length=2000, blank=True, default="")
    summary = models.TextField(blank=True, default="")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["version", "name", "-id"])]


class Comment(models.Model):
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="comments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
