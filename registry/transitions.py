"""The domain moves shared by registry and workflows actions: put a version in a stage, point
an alias. No permission checks and no activity here: the calling action does both."""

from django.utils import timezone

from .models import STAGE_ARCHIVED, RegisteredModelAlias


def move_to_stage(model, mv, stage, *, archive_existing):
    """Move `mv` to `stage`; with archive_existing, every other live version in that stage
    goes to Archived in the same transaction. Returns the archived version numbers."""
    now = timezone.now()
    archived = []
    if archive_existing:
        others = model.versions.live().filter(current_stage=stage).exclude(pk=mv.pk)
        archived = list(others.order_by("version").values_list("version", flat=True))
        others.update(current_stage=STAGE_ARCHIVED, updated_at=now)
    mv.current_stage = stage
    mv.updated_at = now
    mv.save(update_fields=["current_stage", "updated_at"])
    model.updated_at = now
    model.save(update_fields=["updated_at"])
    return archived


def point_alias(model, mv, alias):
    """Point `alias` at `mv`. Returns the version number it pointed at before, or None."""
    existing = model.aliases.select_related("version").filter(alias=alias).first()
    now = timezone.now()
    if existing is None:
        RegisteredModelAlias.objects.create(model=model, alias=alias, version=mv, updated_at=now)
        before = None
    else:
        before = existing.version.version
        existing.version = mv
        existing.updated_at = now
        existing.save(update_fields=["version", "updated_at"])
    model.updated_at = now
    model.save(update_fields=["updated_at"])
    return before
