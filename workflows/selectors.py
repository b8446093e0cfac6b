"""Governance reads, filtered to what the viewer may read (the system's sweep has no viewer)."""

from itertools import islice

from django.db.models import Q
from guardian.shortcuts import get_objects_for_user

from accounts import policies as access
from accounts.levels import Level
from audit import events
from audit.errors import PermissionDenied, ResourceDoesNotExist, model_not_found
from audit.models import Activity
from registry import policies as registry_policies
from registry import selectors as registry_selectors
from registry import stages as lifecycle
from registry import validators
from registry.models import RegisteredModel

from . import policies as workflow_policies
from . import render
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


def manageable_models(viewer):
    """The models whose own policies `viewer` may manage: those it holds CAN_MANAGE on."""
    models = RegisteredModel.objects.all()
    if access.registry_wide_level(viewer) >= Level.CAN_MANAGE:
        return models
    return get_objects_for_user(viewer, [Level.CAN_MANAGE.codename], klass=models, accept_global_perms=False)


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
    """Activity-log lines for auditors, oldest first: one model's (by its current name, or a
    past name in the log), or the whole registry's for registry-wide managers. Streamed as
    read; redacted (render.activity_export_json) for anyone but a registry admin."""
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
    redact = not workflow_policies.is_registry_admin(viewer)
    return (render.activity_export_json(row, redact=redact) for row in qs.order_by("seq").iterator(chunk_size=1000))


# For the pages (ui) ------------------------------------------------------------------------------

def request_review_state(viewer, req):
    """What a page shows `viewer` about one pending request: the policy it is reviewed under,
    approvals so far and needed, the required checks as its approval counts them ({name:
    status or None}), the reviews, whether the viewer may approve, reject or cancel it and,
    when not, why in a few words."""
    policy = workflow_policies.policy_for(req)
    reviews = list(req.reviews.select_related("reviewer"))
    mine = next((r for r in reviews if viewer is not None and r.reviewer_id == viewer.pk), None)
    why_not_approve = workflow_policies.why_cannot_review(viewer, req, policy, approving=True)
    if not why_not_approve and mine is not None:
        why_not_approve = "you have reviewed this already"
    return {
        "request": req,
        "policy": policy,
        "approvals": workflow_policies.approval_count(req),
        "needed": workflow_policies.approvals_needed(policy),
        "checks": workflow_policies.check_states(
            req.version, getattr(policy, "required_checks", None) or [], for_request=req
        ),
        "reviews": reviews,
        "why_not_approve": why_not_approve,
        "why_not_reject": workflow_policies.why_cannot_review(viewer, req, policy, approving=False),
        "may_cancel": "CANCEL_TRANSITION_REQUEST" in workflow_policies.available_actions(viewer, req),
        "stale": stale_reason(req),
        # Approving may archive the versions in the target stage: an active stage only.
        "may_archive": bool(req.to_stage) and lifecycle.is_active(req.to_stage),
    }


def decidable_requests(viewer):
    """The pending requests `viewer` may decide (approve or reject) other than their own, oldest
    first: the reviewer's queue."""
    return [
        req for req in pending_requests(viewer)
        if req.created_by_id != viewer.pk
        and not workflow_policies.why_cannot_review(viewer, req, workflow_policies.policy_for(req), approving=False)
    ]


def my_requests(viewer):
    """The requests `viewer` made on models they may still read: pending first (oldest first),
    then the decided ones, latest decision first."""
    mine = (
        TransitionRequest.objects.filter(created_by=viewer, model__in=readable_models(viewer))
        .select_related("created_by", "decided_by", "model", "version").prefetch_related("reviews")
    )
    pending = list(mine.filter(status=TransitionRequest.PENDING).order_by("created_at"))
    decided = list(mine.exclude(status=TransitionRequest.PENDING).order_by("-decided_at", "-pk"))
    return pending + decided


def reads_whole_activity_log(viewer):
    """Whether `viewer` reads (and exports) the whole registry's activity, as activity_export
    decides: registry-wide managers."""
    return access.registry_wide_level(viewer) >= Level.CAN_MANAGE


def activity_feed(viewer, *, name="", actor="", event=""):
    """The activity log as `viewer` may read it, newest first: every row for registry-wide
    managers, otherwise the rows of the models they may read. Narrowed to one model (its current
    name; a past or deleted model's name for registry-wide managers), to who acted, to an event."""
    qs = Activity.objects.all()
    everything = reads_whole_activity_log(viewer)
    if name:
        model = RegisteredModel.objects.filter(name=name).first()
        if model is not None and registry_policies.can_read(viewer, model):
            qs = qs.filter(model_uid=model.uid)
        elif everything:
            qs = qs.filter(model_name=name)
        else:
            raise model_not_found(name)
    elif not everything:
        qs = qs.filter(model_uid__in=readable_models(viewer).values("uid"))
    if actor:
        qs = qs.filter(actor=actor)
    if event:
        qs = qs.filter(event=event)
    return qs.order_by("-seq")


def request_get(viewer, request_id):
    """One transition or alias request on a model `viewer` may read; missing otherwise."""
    req = TransitionRequest.objects.select_related("created_by", "model", "version").filter(pk=request_id).first()
    if req is None or not registry_policies.can_read(viewer, req.model):
        raise ResourceDoesNotExist(f"Request {request_id} not found")
    return req
