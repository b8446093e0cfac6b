"""The lifecycle: MLflow's four built-in stages and the stages registry admins add, as one
ordered list. Everything that takes, shows or reasons about a stage asks here (validation,
levels, archiving, get-latest-versions, policies, pages, the admin), so a custom stage works
wherever a built-in does.

A stage has a position (None is 0, Staging 100, Production 200, Archived 300; custom stages
sit strictly between None and Archived), the level that moving a version into or out of it
needs, and whether it is active (may archive the versions in it on a transition, and counts
for get-latest-versions when no stages are named). Names match case-insensitively and come
back in their defined spelling, as MLflow does for the built-ins.
"""

from dataclasses import dataclass

from django.db import connection

from accounts.levels import Level
from audit.errors import InvalidParameterValue

from .models import STAGE_ARCHIVED, STAGE_NONE, STAGE_PRODUCTION, STAGE_STAGING, Stage

FIRST_CUSTOM_POSITION, LAST_CUSTOM_POSITION = 1, 299
# The two levels a stage may ask for: Databricks' stage levels.
STAGE_LEVELS = (Level.CAN_MANAGE_STAGING_VERSIONS, Level.CAN_MANAGE_PRODUCTION_VERSIONS)


@dataclass(frozen=True)
class StageDef:
    name: str
    position: int
    required_level: Level
    active: bool
    builtin: bool

    def as_json(self):
        return {
            "name": self.name, "position": self.position, "required_level": self.required_level.name,
            "active": self.active, "builtin": self.builtin,
        }


BUILT_INS = (
    StageDef(STAGE_NONE, 0, Level.CAN_MANAGE_STAGING_VERSIONS, False, True),
    StageDef(STAGE_STAGING, 100, Level.CAN_MANAGE_STAGING_VERSIONS, True, True),
    StageDef(STAGE_PRODUCTION, 200, Level.CAN_MANAGE_PRODUCTION_VERSIONS, True, True),
    StageDef(STAGE_ARCHIVED, 300, Level.CAN_MANAGE_STAGING_VERSIONS, False, True),
)


def from_row(row):
    return StageDef(row.name, row.position, Level[row.required_level], row.active, False)


def lifecycle():
    """Every stage, in lifecycle order (a built-in first at an equal position)."""
    custom = [from_row(row) for row in Stage.objects.all()]
    return sorted([*BUILT_INS, *custom], key=lambda s: (s.position, not s.builtin, s.name.lower()))


def names(stages=None):
    return [s.name for s in (lifecycle() if stages is None else stages)]


def find(value):
    """The stage named `value` in any case, or None."""
    wanted = str(value).lower()
    for s in BUILT_INS:
        if s.name.lower() == wanted:
            return s
    row = Stage.objects.filter(name__iexact=str(value)).first()
    return from_row(row) if row else None


def get(name):
    """The stage a stored name (a version's, a request's) refers to. A stage in use cannot be
    deleted, so it is there; should it not be, the stricter level governs it."""
    return find(name) or StageDef(name, LAST_CUSTOM_POSITION, Level.CAN_MANAGE_PRODUCTION_VERSIONS, False, False)


def hold(name):
    """Inside an action's transaction: keep a custom stage from being deleted until commit,
    while a version moves into it or a request or policy starts naming it, and refuse it if
    it was deleted since the caller validated it. On PostgreSQL a FOR KEY SHARE lock: it
    blocks the delete (FOR UPDATE) but not other holders. SQLite runs one write transaction
    at a time, so a plain read there is enough."""
    if not name or any(s.name == name for s in BUILT_INS):
        return  # no stage, or a built-in (never deleted): nothing to hold
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {Stage._meta.db_table} WHERE name = %s FOR KEY SHARE", [name])
            found = cursor.fetchone() is not None
    else:
        found = Stage.objects.filter(name=name).exists()
    if not found:
        raise InvalidParameterValue(
            f"Invalid Model Version stage: {name}. Value must be one of {', '.join(names())}."
        )


def transition_level(from_stage, to_stage):
    """A move needs the higher of the two stages' levels: with the built-ins this is Databricks'
    rule (None/Staging/Archived among themselves need CAN_MANAGE_STAGING_VERSIONS, anything
    touching Production CAN_MANAGE_PRODUCTION_VERSIONS)."""
    return max(get(from_stage).required_level, get(to_stage).required_level)


def is_active(name):
    return get(name).active


def active_names():
    return [s.name for s in lifecycle() if s.active]


def latest_default():
    """The stages get-latest-versions answers for when none are named: every built-in (as
    MLflow does) and the active custom stages."""
    return [s.name for s in lifecycle() if s.builtin or s.active]


def reviewable(name):
    """Stage policies govern moves into a stage other than None and Archived."""
    return name not in (STAGE_NONE, STAGE_ARCHIVED)


def reviewable_names():
    return [name for name in names() if reviewable(name)]


def requestable_names():
    """Stages a transition request may target: every stage but None."""
    return [name for name in names() if name != STAGE_NONE]


def next_position():
    """Where a stage defined without a position goes: after Production and the custom
    stages already there, before Archived."""
    last = Stage.objects.order_by("-position").first()
    return min(max(200, last.position if last else 0) + 1, LAST_CUSTOM_POSITION)
