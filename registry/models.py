import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.levels import PERMISSIONS as LEVEL_PERMISSIONS

STAGE_NONE = "None"
STAGE_STAGING = "Staging"
STAGE_PRODUCTION = "Production"
STAGE_ARCHIVED = "Archived"
# The built-ins and the stages registry admins add (Stage below) make one lifecycle:
# registry/stages.py is the only place that knows it.
STAGE_NAME_LENGTH = 20  # the width of every stage column

# Where a version's lineage (the run that built it, on the MLflow tracking server) stands.
LINEAGE_NONE = "none"  # nothing to resolve: no tracking server, or no run or logged model named
LINEAGE_RESOLVING = "resolving"  # registered; the system resolves it after commit
LINEAGE_RESOLVED = "resolved"
LINEAGE_UNAVAILABLE = "unavailable"  # the tracking server could not tell; lineage_reason says why


def new_uid():
    return uuid.uuid4().hex


class RegisteredModel(models.Model):
    uid = models.CharField(max_length=32, unique=True, default=new_uid, editable=False)
    name = models.CharField(max_length=256, unique=True)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The version allocator: read and bumped under a row lock, never decreased, so numbers
    # are gapless under concurrency and never reused after a version is deleted.
    next_version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["updated_at"])]
        # Levels (accounts/levels.py) instead of Django's add/change/delete/view.
        default_permissions = ()
        permissions = LEVEL_PERMISSIONS

    def __str__(self):
        return self.name


class ModelVersionQuerySet(models.QuerySet):
    def live(self):
        return self.filter(deleted_at__isnull=True)


class ModelVersion(models.Model):
    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    source = models.TextField()
    run_id = models.CharField(max_length=64, blank=True, default="")
    run_link = models.TextField(blank=True, default="")
    logged_model_id = models.CharField(max_length=64, blank=True, default="")
    # For a source naming another registered version (models:/name/3, models:/name@alias, as
    # copy_model_version sends), where that version's artifacts are, frozen at creation, so
    # the copy survives the original's deletion. Empty: the source itself is the location.
    storage_location = models.TextField(blank=True, default="")
    description = models.TextField(blank=True, default="")
    current_stage = models.CharField(max_length=STAGE_NAME_LENGTH, default=STAGE_NONE)
    lineage_status = models.CharField(max_length=20, default=LINEAGE_NONE, editable=False)
    lineage_reason = models.TextField(blank=True, default="", editable=False)
    experiment_id = models.CharField(max_length=64, blank=True, default="", editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # MLflow deletes versions softly: the number stays taken, the row leaves every read.
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["model_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="uniq_model_version")
        ]
        indexes = [
            models.Index(fields=["model", "current_stage", "version"]),
            models.Index(fields=["run_id"]),
            models.Index(fields=["updated_at"]),
        ]

    def __str__(self):
        return f"{self.model.name} v{self.version}"

    @property
    def is_deleted(self):
        return self.deleted_at is not None


class RegisteredModelTag(models.Model):
    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=250)
    value = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["model", "key"], name="uniq_model_tag")]
        # Search filters by tag (tags.team = 'x', and every search's "not a prompt"): the
        # models that carry a key, without walking every model.
        indexes = [models.Index(fields=["key", "model"], name="model_tag_by_key")]

    def __str__(self):
        return f"{self.key}={self.value}"


class ModelVersionTag(models.Model):
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=250)
    value = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="uniq_version_tag")]
        indexes = [models.Index(fields=["key", "version"], name="version_tag_by_key")]  # as for models

    def __str__(self):
        return f"{self.key}={self.value}"


class RegisteredModelAlias(models.Model):
    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=255)
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="aliases")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["alias"]
        constraints = [models.UniqueConstraint(fields=["model", "alias"], name="uniq_model_alias")]

    def __str__(self):
        return f"{self.model.name}@{self.alias}"


class ModelTombstone(models.Model):
    """The name of a deleted registered model. Consumers may still load `models:/<name>@...`,
    so only who managed the model when it was deleted (these users, members of these teams)
    or a registry admin may take the name again; doing so removes the tombstone."""

    name = models.CharField(max_length=256, unique=True)
    uid = models.CharField(max_length=32)  # the deleted model's
    deleted_at = models.DateTimeField(default=timezone.now)
    managers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    manager_teams = models.ManyToManyField("auth.Group", blank=True, related_name="+")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} (deleted)"


class Stage(models.Model):
    """A stage a registry admin added to the lifecycle, between None and Archived
    (registry/stages.py puts it among the built-ins). Defined once, never edited: deleting
    it is refused while anything uses it."""

    name = models.CharField(max_length=STAGE_NAME_LENGTH)
    position = models.PositiveSmallIntegerField()
    # The level that moving a version into or out of this stage needs.
    required_level = models.CharField(max_length=40)
    # An active stage counts for get-latest-versions and may archive the versions in it on
    # a transition (as Staging and Production do).
    active = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["position", "name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="uniq_stage_name_ci")]

    def __str__(self):
        return self.name
