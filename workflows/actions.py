"""Every governance write: transition and alias requests, reviews, cancellations, comments,
checks and policies. Each locks the registered model (the per-model mutex shared with the
registry's actions), re-checks state under the lock and ends with exactly one record()."""

import copy
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.levels import Level
from audit import events
from audit.activity import record
from audit.errors import (
    InvalidParameterValue,
    PermissionDenied,
    ResourceAlreadyExists,
    ResourceConflict,
    ResourceDoesNotExist,
    model_not_found,
    version_not_found,
)
from registry import policies as registry_policies
from registry import stages as lifecycle
from registry import transitions, validators
from registry.models import STAGE_NONE, RegisteredModel

from . import policies, render
from .models import AliasPolicy, Check, Comment, Review, StagePolicy, TransitionRequest

MAX_COMMENT_LENGTH = 65_535


@dataclass
class Outcome:
    """What a review did: the request as it now stands and the activity it wrote."""

    request: TransitionRequest
    activity: object
    applied: bool = False
    closed: bool = False


def _lock_model(ctx, name):
    model = RegisteredModel.objects.select_for_update().filter(name=name).first()
    if model is None:
        raise model_not_found(name)
    registry_policies.require_read(ctx, model)
    return model


def _version(model, number, *, live=True):
    qs = model.versions.all() if not live else model.versions.live()
    mv = qs.filter(version=validators.version_number(number)).first()
    if mv is None:
        raise version_not_found(model.name, number)
    return mv


def _target(stage, alias):
    if bool(stage) == bool(alias):
        raise InvalidParameterValue("A request targets exactly one of a stage or an alias.")
    if stage:
        return {"to_stage": validators.stage(stage), "alias": ""}
    return {"to_stage": "", "alias": validators.alias_name(alias)}


def _comment(text):
    text = text or ""
    if len(text) > MAX_COMMENT_LENGTH:
        raise InvalidParameterValue(f"Comments must be at most {MAX_COMMENT_LENGTH} characters.")
    return text


def _request_snapshot(req):
    return {
        "request_id": req.pk, "to_stage": req.to_stage, "alias": req.alias,
        "from_stage": req.from_stage, "requested_by": req.created_by.username, "status": req.status,
    }


def transition_request_create(ctx, *, name, version, stage="", alias="", comment=""):
    """Ask for a version to move to a stage (or an alias to point at it). Needs CAN_READ; at
    most one pending request per version and target."""
    target = _target(stage, alias)
    comment = _comment(comment)
    if target["to_stage"] == STAGE_NONE:
        *others, last = lifecycle.requestable_names()
        raise InvalidParameterValue(f"A transition request must target {', '.join(others)} or {last}.")
    with transaction.atomic():
        model = _lock_model(ctx, name)
        mv = _version(model, version)
        lifecycle.hold(target["to_stage"])
        if target["to_stage"] and mv.current_stage == target["to_stage"]:
            raise InvalidParameterValue(
                f"Model version {mv.version} of '{model.name}' is already in {target['to_stage']}."
            )
        if TransitionRequest.objects.filter(version=mv, status=TransitionRequest.PENDING, **target).exists():
            raise ResourceAlreadyExists(
                f"A pending request to move version {mv.version} of '{model.name}' to "
                f"{target['to_stage'] or '@' + target['alias']} already exists."
            )
        try:
            with transaction.atomic():
                req = TransitionRequest.objects.create(
                    model=model, version=mv, from_stage=mv.current_stage, comment=comment,
                    created_by=ctx.user, **target,
                )
        except IntegrityError:
            raise ResourceAlreadyExists("A pending request for this version and target already exists.") from None
        record(
            ctx, event=events.TRANSITION_REQUEST_CREATED, version=mv,
            target=req.target_label, comment=comment, after=_request_snapshot(req),
        )
    return req


def _pending_request(model, mv, target, *, creator=None):
    qs = TransitionRequest.objects.select_for_update(of=("self",)).select_related("created_by", "model", "version")
    qs = qs.filter(version=mv, **target)
    pending = qs.filter(status=TransitionRequest.PENDING)
    if creator is not None:
        pending = pending.filter(created_by__username=creator)
    req = pending.first()
    if req is not None:
        return req
    decided = qs.exclude(status=TransitionRequest.PENDING).order_by("-decided_at", "-pk").first()
    label = target["to_stage"] or "@" + target["alias"]
    if decided is not None and creator is None:
        by = decided.decided_by.username if decided.decided_by else "the system"
        raise ResourceConflict(
            f"The request to move version {mv.version} of '{model.name}' to {label} is no longer "
            f"pending: it was {decided.status.lower()} by {by}."
        )
    raise ResourceDoesNotExist(
        f"No pending request to move version {mv.version} of '{model.name}' to {label}"
        + (f" created by {creator}." if creator else ".")
    )


def _decide(req, status, by, *, system_comment=""):
    """End a pending request: approved, rejected, cancelled (by a user) or closed (system)."""
    req.status = status
    req.decided_by = by
    req.system_comment = system_comment
    req.decided_at = req.updated_at = timezone.now()
    req.save(update_fields=["status", "decided_by", "system_comment", "decided_at", "updated_at"])


def _close_if_stale(ctx, req):
    """Close a stale request (policies.stale_reason) by the system rather than apply it.
    Returns the Outcome, or None if the request still holds."""
    why = policies.stale_reason(req)
    if not why:
        return None
    _decide(req, TransitionRequest.CLOSED, None, system_comment=f"Closed by the system: {why}.")
    activity = record(
        ctx, event=events.TRANSITION_REQUEST_CLOSED, version=req.version, target=req.target_label,
        comment=req.system_comment, before={"status": TransitionRequest.PENDING},
        after=_request_snapshot(req),
    )
    return Outcome(req, activity, closed=True)


def transition_request_close_stale(ctx, *, request_id):
    """Close one pending request that has gone stale (policies.stale_reason) with a system
    comment. The system runs this for every stale request (workflows.tasks.close_stale_requests);
    a review of a stale request closes it too.
    Returns the Outcome, or None when the request is no longer pending or still holds."""
    with transaction.atomic():
        req = TransitionRequest.objects.select_related("model").filter(pk=request_id).first()
        if req is None:
            raise ResourceDoesNotExist(f"Transition request {request_id} not found")
        model = _lock_model(ctx, req.model.name)
        req = (
            TransitionRequest.objects.select_for_update(of=("self",))
            .select_related("created_by", "model", "version").get(pk=request_id)
        )
        if req.model_id != model.pk or not req.is_pending:
            return None
        return _close_if_stale(ctx, req)


def transition_approve(ctx, *, name, version, stage="", alias="", archive_existing_versions=False, comment=""):
    """Approve a pending request. Reviewers must hold the target's level (or be in the policy's
    approver team); with separation of duties the requester may not approve. Distinct approvers
    are counted; the approval that reaches the quorum applies the move, and only if every
    required check is `success`. Concurrent approvals serialise on the model lock: exactly one
    applies, the others get RESOURCE_CONFLICT."""
    target = _target(stage, alias)
    comment = _comment(comment)
    with transaction.atomic():
        model = _lock_model(ctx, name)
        mv = _version(model, version, live=False)
        req = _pending_request(model, mv, target)
        policy = policies.policy_for(req)
        policies.require_can_review(ctx, req, policy, approving=True)
        if Review.objects.filter(request=req, reviewer=ctx.user).exists():
            raise ResourceConflict(f"You have already reviewed request {req.pk}; each reviewer counts once.")
        stale = _close_if_stale(ctx, req)
        if stale is not None:
            return stale
        count, needed = policies.approval_count(req) + 1, policies.approvals_needed(policy)
        if count < needed:
            Review.objects.create(request=req, reviewer=ctx.user, decision=Review.APPROVE, comment=comment)
            req.updated_at = timezone.now()
            req.save(update_fields=["updated_at"])
            activity = record(
                ctx, event=events.TRANSITION_REQUEST_REVIEWED, version=mv, target=req.target_label,
                comment=comment, after={**_request_snapshot(req), "approvals": count, "required": needed},
            )
            return Outcome(req, activity)
        unmet = policies.unmet_checks(req, getattr(policy, "required_checks", None) or [])
        if unmet:
            listed = ", ".join(f"{n} is {s or 'missing'}" for n, s in sorted(unmet.items()))
            raise ResourceConflict(
                f"Required checks are not passing ({listed}; only reports by service accounts other "
                "than the requester, or by Modelgate's Jenkins integration, count); this approval "
                "would apply the request, so it is refused until they pass. The request stays pending."
            )
        Review.objects.create(request=req, reviewer=ctx.user, decision=Review.APPROVE, comment=comment)
        applied = {}
        if req.to_stage:
            archive = bool(archive_existing_versions) or getattr(policy, "archive_existing_on_approval", False)
            archive = archive and lifecycle.is_active(req.to_stage)
            applied["archived_versions"] = transitions.move_to_stage(model, mv, req.to_stage, archive_existing=archive)
            alias_name = getattr(policy, "move_alias_on_approval", "")
            if alias_name:
                applied["alias_moved"] = {
                    "alias": alias_name, "from_version": transitions.point_alias(model, mv, alias_name),
                    "to_version": mv.version,
                }
        else:
            applied["alias_moved"] = {
                "alias": req.alias, "from_version": transitions.point_alias(model, mv, req.alias),
                "to_version": mv.version,
            }
        _decide(req, TransitionRequest.APPROVED, ctx.user)
        activity = record(
            ctx, event=events.TRANSITION_REQUEST_APPROVED, version=mv, target=req.target_label,
            comment=comment, before={"stage": req.from_stage},
            after={**_request_snapshot(req), "stage": mv.current_stage, "approvals": count, **applied},
        )
    return Outcome(req, activity, applied=True)


def transition_reject(ctx, *, name, version, stage="", alias="", comment=""):
    """Reject a pending request: any eligible reviewer closes it."""
    target = _target(stage, alias)
    comment = _comment(comment)
    with transaction.atomic():
        model = _lock_model(ctx, name)
        mv = _version(model, version, live=False)
        req = _pending_request(model, mv, target)
        policies.require_can_review(ctx, req, policies.policy_for(req), approving=False)
        Review.objects.update_or_create(
            request=req, reviewer=ctx.user, defaults={"decision": Review.REJECT, "comment": comment}
        )
        _decide(req, TransitionRequest.REJECTED, ctx.user)
        activity = record(
            ctx, event=events.TRANSITION_REQUEST_REJECTED, version=mv, target=req.target_label,
            comment=comment, before={"status": TransitionRequest.PENDING}, after=_request_snapshot(req),
        )
    return Outcome(req, activity)


def transition_request_cancel(ctx, *, name, version, stage="", alias="", creator, comment=""):
    """Cancel a pending request, named by its creator (Databricks semantics): by the creator
    or a CAN_MANAGE holder."""
    target = _target(stage, alias)
    comment = _comment(comment)
    with transaction.atomic():
        model = _lock_model(ctx, name)
        mv = _version(model, version, live=False)
        req = _pending_request(model, mv, target, creator=creator)
        policies.require_can_cancel(ctx, req)
        _decide(req, TransitionRequest.CANCELLED, ctx.user)
        activity = record(
            ctx, event=events.TRANSITION_REQUEST_CANCELLED, version=mv, target=req.target_label,
            comment=comment, before={"status": TransitionRequest.PENDING}, after=_request_snapshot(req),
        )
    return Outcome(req, activity)


# Comments --------------------------------------------------------------------------------------

def comment_create(ctx, *, name, version, comment):
    """Comment on a version (CAN_READ suffices: it is how CI and reviewers talk)."""
    if not comment:
        raise InvalidParameterValue("Missing value for required parameter 'comment'.")
    comment = _comment(comment)
    with transaction.atomic():
        model = _lock_model(ctx, name)
        mv = _version(model, version)
        row = Comment.objects.create(version=mv, user=ctx.user, comment=comment)
        record(
            ctx, event=events.COMMENT_CREATED, version=mv, target=str(row.pk), comment=comment,
            after={"comment_id": row.pk},
        )
    return row


def _lock_comment(ctx, comment_id):
    try:
        pk = int(str(comment_id))
    except ValueError:
        raise InvalidParameterValue(f"Invalid comment id '{comment_id}'.") from None
    row = Comment.objects.select_related("version__model", "user").filter(pk=pk).first()
    # A comment on a model the caller cannot read is missing, in the same words.
    if row is None or not registry_policies.can_read(ctx.user, row.version.model):
        raise ResourceDoesNotExist(f"Comment {comment_id} not found")
    model = _lock_model(ctx, row.version.model.name)
    row = Comment.objects.select_for_update().select_related("version__model", "user").get(pk=pk)
    return model, row


def comment_update(ctx, *, comment_id, comment):
    """Edit a comment: only its author."""
    if not comment:
        raise InvalidParameterValue("Missing value for required parameter 'comment'.")
    comment = _comment(comment)
    with transaction.atomic():
        _, row = _lock_comment(ctx, comment_id)
        if ctx.user is None or row.user_id != ctx.user.pk:
            raise PermissionDenied("Permission denied: only the author may edit a comment.")
        before = row.comment
        row.comment = comment
        row.updated_at = timezone.now()
        row.save(update_fields=["comment", "updated_at"])
        record(
            ctx, event=events.COMMENT_UPDATED, version=row.version, target=str(row.pk), comment=comment,
            before={"comment": before}, after={"comment": comment},
        )
    return row


def comment_delete(ctx, *, comment_id):
    """Delete a comment: its author, or a CAN_MANAGE holder."""
    with transaction.atomic():
        model, row = _lock_comment(ctx, comment_id)
        if ctx.user is None or row.user_id != ctx.user.pk:
            registry_policies.require_level(ctx, model, Level.CAN_MANAGE, "deleting someone else's comment")
        record(
            ctx, event=events.COMMENT_DELETED, version=row.version, target=str(row.pk),
            before={"comment": row.comment, "author": row.user.username},
        )
        row.delete()


# Checks ----------------------------------------------------------------------------------------

def check_report(ctx, *, name, version, check, status, details_url="", summary=""):
    """Record a CI result on a version; the latest report per check name wins. Reported by a
    service account holding CAN_EDIT, or by the system (policies.require_can_report_check)."""
    if not check or len(check) > 200:
        raise InvalidParameterValue("Check name must be 1 to 200 characters.")
    status = (status or "").lower()
    if status not in {Check.PENDING, Check.SUCCESS, Check.FAILURE}:
        raise InvalidParameterValue("Check status must be one of pending, success, failure.")
    if details_url and not details_url.startswith(("http://", "https://")):
        raise InvalidParameterValue("details_url must be an http(s) URL.")
    with transaction.atomic():
        model = _lock_model(ctx, name)
        registry_policies.require_level(ctx, model, Level.CAN_EDIT, "reporting a check")
        mv = _version(model, version)
        policies.require_can_report_check(ctx, mv, check)
        previous = policies.check_states(mv, [check])[check]
        row = Check.objects.create(
            version=mv, name=check, status=status, details_url=details_url or "",
            summary=summary or "", reported_by=ctx.user,
        )
        record(
            ctx, event=events.CHECK_REPORTED, version=mv, target=check, comment=summary or "",
            before=None if previous is None else {"status": previous},
            after={"check": check, "status": status, "details_url": details_url or ""},
        )
    return row


# Policies --------------------------------------------------------------------------------------

def _policy_scope(ctx, name):
    """A model's own policies need CAN_MANAGE on it; registry-wide ones a registry admin."""
    if not name:
        registry_policies.require_registry_admin(ctx, "changing registry-wide policies")
        return None
    model = _lock_model(ctx, name)
    registry_policies.require_level(ctx, model, Level.CAN_MANAGE, "changing policies")
    return model


def _validate(policy):
    try:
        policy.full_clean()
    except ValidationError as exc:
        field, problems = next(iter(exc.message_dict.items()))
        raise InvalidParameterValue(f"Invalid policy: {field}: {problems[0]}") from None
    checks = policy.required_checks
    if not isinstance(checks, list) or not all(isinstance(c, str) and c for c in checks):
        raise InvalidParameterValue("required_checks must be a list of check names.")


def _save_policy(ctx, name, policy_class, key, fields, event, to_json):
    """Create or replace the policy of `policy_class` identified by `key` on a model (or
    registry-wide), recorded with its before and after."""
    with transaction.atomic():
        model = _policy_scope(ctx, name)
        current = policy_class.objects.select_for_update().filter(model=model, **key).first()
        before = None if current is None else to_json(current)
        policy = copy.copy(current) if current is not None else policy_class(model=model, **key)
        for field, value in fields.items():
            setattr(policy, field, value)
        policy.updated_at = timezone.now()
        _validate(policy)
        policies.require_may_set(ctx, policy, current)
        # Once a registry admin sets a model's policy, it stays theirs (its managers may only add).
        policy.set_by_registry_admin = policies.is_registry_admin(ctx.user) or bool(
            current and current.set_by_registry_admin
        )
        policy.save()
        record(ctx, event=event, model=model, target=next(iter(key.values())), before=before, after=to_json(policy))
    return policy


def _delete_policy(ctx, name, policy_class, key, event, to_json):
    with transaction.atomic():
        model = _policy_scope(ctx, name)
        policy = policy_class.objects.select_for_update().filter(model=model, **key).first()
        if policy is None:
            return
        policies.require_may_delete(ctx, policy)
        before = to_json(policy)
        policy.delete()
        record(ctx, event=event, model=model, target=next(iter(key.values())), before=before)


def stage_policy_set(ctx, *, name="", stage, **fields):
    """Create or replace the policy for moves into `stage` (a model's, or registry-wide)."""
    stage = validators.stage(stage)
    if not lifecycle.reviewable(stage):
        raise InvalidParameterValue(f"Stage policies apply to {', '.join(lifecycle.reviewable_names())}.")
    with transaction.atomic():
        lifecycle.hold(stage)
        return _save_policy(ctx, name, StagePolicy, {"stage": stage}, fields,
                            events.STAGE_POLICY_CHANGED, render.stage_policy_json)


def stage_policy_delete(ctx, *, name="", stage):
    _delete_policy(ctx, name, StagePolicy, {"stage": validators.stage(stage)},
                   events.STAGE_POLICY_CHANGED, render.stage_policy_json)


def alias_policy_set(ctx, *, name="", pattern, **fields):
    """Protect alias names matching `pattern` (fnmatch, e.g. `champion`, `prod-*`)."""
    if not pattern or len(pattern) > 255:
        raise InvalidParameterValue("Alias pattern must be 1 to 255 characters.")
    if "required_level" in fields:
        level = Level.parse(fields["required_level"])
        if level is None:
            raise InvalidParameterValue(f"Invalid required_level '{fields['required_level']}'.")
        fields = {**fields, "required_level": level.name}
    return _save_policy(ctx, name, AliasPolicy, {"pattern": pattern}, fields,
                        events.ALIAS_POLICY_CHANGED, render.alias_policy_json)


def alias_policy_delete(ctx, *, name="", pattern):
    _delete_policy(ctx, name, AliasPolicy, {"pattern": pattern},
                   events.ALIAS_POLICY_CHANGED, render.alias_policy_json)

