"""Governance reads, filtered to what the viewer may read (the system's sweep has no viewer)."""

from itertools import islice

from django.db.models import Q

from accounts import policies as access
from accounts.levels import Level
from audit import events
from audit.errors import PermissionDenied, model_not_found
from audit.models import Activity
from registry import policies as registry_policies
from registry import selectors as registry_selectors
from registry import validators
from registry.models import RegisteredModel

from .models import AliasPolicy, Check, Comment, StagePolicy, TransitionRequest
from .policies import stale_reason

VERSION_EVENTS_WITH_ARCHIVING = (events.VERSION_STAGE_TRANSITIONED, events.TRANSITION_REQUEST_APPROVED)


def open_requests(viewer, *, name, version=None, kind="stage"):
    """Pending requests on a model (or one version): stage requests, or alias requests."""
    model = registry_selectors.model_get(viewer, name)
    qs = TransitionRequest.objects.filter(model=model, status=TransitionRequest.PENDING)
    if version not in (None, ""):
        qs = qs.filter(version__version=validators.version_number(version))
    qs = qs.exclude(to_stage="") if kind == "stage" else qs.filter(to_stage="")
    return list(qs.select_related("created_by", "model", "version").order_by("created_at"))


def readable_models(viewer):
    return access.readable(viewer, RegisteredModel.objects.all())


def pending_requests(viewer):
    """Every open request the viewer may read, oldest first (the approvers' queue)."""
    readable = access.readable(viewer, RegisteredModel.objects.all())
    return (
        TransitionRequest.objects.filter(status=TransitionRequest.PENDING, model__in=readable)
        .select_related("created_by", "model", "version")
        .order_by("created_at")
    )


def stale_request_ids(limit=500):
    """For the system's sweep (no viewer): the pending requests that have gone stale
    (policies.stale_reason), oldest first, at most `limit`."""
    pending = (
        TransitionRequest.objects.filter(status=TransitionRequest.PENDING)
        .select_related("version").order_by("created_at")
    )
    return list(islice((req.pk for req in pending.iterator() if stale_reason(req)), limit))


def version_activity(viewer, *, name, version):
    """The Databricks activity feed of one version, from the activity log: its own events,
    plus the archivings other versions' promotions caused to it. Oldest first."""
    return version_activity_for(registry_selectors.version_get(viewer, name, version))


def version_activity_for(mv):
    """version_activity for a version the caller already may read."""
    own = Activity.objects.filter(model_uid=mv.model.uid, version=mv.version)
    archived_by_others = [
        row for row in Activity.objects.filter(
            model_uid=mv.model.uid, event__in=VERSION_EVENTS_WITH_ARCHIVING
        ).exclude(version=mv.version)
        if mv.version in ((row.after or {}).get("archived_versions") or [])
    ]
    return mv, list(own.order_by("seq")), archived_by_others


def comments(viewer, *, name, version):
    mv = registry_selectors.version_get(viewer, name, version)
    return list(Comment.objects.filter(version=mv).select_related("user", "version__model"))


def latest_checks(viewer, *, name, version):
    """The latest report per check name on a version."""
    mv = registry_selectors.version_get(viewer, name, version)
    latest = {}
    for check in Check.objects.filter(version=mv).select_related("reported_by").order_by("id"):
        latest[check.name] = check
    return mv, sorted(latest.values(), key=lambda c: c.name)


def policies(viewer, *, name=""):
    """Stage and alias policies: registry-wide, plus a model's own when a name is given."""
    scope = Q(model__isnull=True)
    if name:
        scope |= Q(model=registry_selectors.model_get(viewer, name))
    return (
        list(StagePolicy.objects.filter(scope).select_related("model", "approver_team")),
        list(AliasPolicy.objects.filter(scope).select_related("model", "approver_team")),
    )


def activity_export(viewer, *, name="", since=None, until=None):
    """Activity rows for auditors, oldest first: one model's (by its current name, or a past
    name in the log), or the whole registry's for registry admins."""
    qs = Activity.objects.all()
    if name:
        model = RegisteredModel.objects.filter(name=name).first()
        if model is not None:
            registry_policies.require_read(viewer, model)
            qs = qs.filter(model_uid=model.uid)
        elif access.registry_wide_level(viewer) >= Level.CAN_MANAGE:
            qs = qs.filter(model_name=name)  # a deleted model's history
        else:
            raise model_not_found(name)
    elif access.registry_wide_level(viewer) < Level.CAN_MANAGE:
        raise PermissionDenied(
            "Permission denied: exporting the whole registry's activity requires a registry admin; "
            "pass name= for one model."
        )
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    return qs.order_by("seq")
