"""Approval rules: which policy governs a target, who may review, what a request needs before
it applies, and the rules workflows adds to the registry's direct stage and alias changes."""

from fnmatch import fnmatchcase

from django.db.models import Q

from accounts import policies as access
from accounts.levels import Level
from audit.errors import PermissionDenied
from registry import policies as registry_policies
from registry.models import STAGE_PRODUCTION

from .models import AliasPolicy, Check, Review, StagePolicy


def stage_policy(model, stage):
    """The model's own policy for `stage`, else the registry-wide one, else the defaults
    (one approval; separation of duties for Production; direct transitions allowed)."""
    policies = {
        p.model_id: p
        for p in StagePolicy.objects.filter(Q(model=model) | Q(model__isnull=True), stage=stage)
    }
    policy = policies.get(model.pk) or policies.get(None)
    if policy is None:
        policy = StagePolicy(stage=stage, separation_of_duties=(stage == STAGE_PRODUCTION))
    return policy


def alias_policy(model, alias):
    """The policy protecting `alias` on `model` (the model's own first), or None."""
    candidates = AliasPolicy.objects.filter(Q(model=model) | Q(model__isnull=True))
    ordered = sorted(candidates, key=lambda p: (p.model_id is None, p.pk))
    return next((p for p in ordered if fnmatchcase(alias, p.pattern)), None)


def policy_for(request):
    if request.to_stage:
        return stage_policy(request.model, request.to_stage)
    return alias_policy(request.model, request.alias)


def reviewer_level(request, policy):
    """The level a reviewer needs: the stage move's level, or the alias policy's."""
    if request.to_stage:
        return registry_policies.transition_level(request.from_stage, request.to_stage)
    if policy is None:
        return Level.CAN_EDIT
    return Level.parse(policy.required_level) or Level.CAN_MANAGE_PRODUCTION_VERSIONS


def is_eligible_reviewer(user, request, policy):
    if user is None:
        return True
    if access.has_level(user, request.model, reviewer_level(request, policy)):
        return True
    team = getattr(policy, "approver_team_id", None)
    return bool(team) and user.groups.filter(pk=team).exists()


def require_can_review(ctx, request, policy, *, approving):
    if not is_eligible_reviewer(ctx.user, request, policy):
        team = f" or membership of team '{policy.approver_team.name}'" if getattr(policy, "approver_team", None) else ""
        raise PermissionDenied(
            f"Permission denied: reviewing a request to move '{request.model.name}' version "
            f"{request.version.version} to {request.target_label} requires "
            f"{reviewer_level(request, policy).name}{team}."
        )
    separation = policy.separation_of_duties if policy is not None else False
    if approving and separation and ctx.user is not None and ctx.user.pk == request.created_by_id:
        raise PermissionDenied(
            f"Permission denied: separation of duties: the requester may not approve their own "
            f"request to move to {request.target_label}."
        )


def require_can_cancel(ctx, request):
    if ctx.user is not None and ctx.user.pk == request.created_by_id:
        return
    registry_policies.require_level(ctx, request.model, Level.CAN_MANAGE, "cancelling someone else's request")


def check_states(version, names):
    """{name: latest status or None} for the given check names."""
    states = {name: None for name in names}
    for check in Check.objects.filter(version=version, name__in=list(names)).order_by("id"):
        states[check.name] = check.status
    return states


def unmet_checks(version, names):
    return {name: status for name, status in check_states(version, names).items() if status != Check.SUCCESS}


def approvals_needed(policy):
    return max(1, policy.required_approvals) if policy is not None else 1


def available_actions(user, request):
    if not request.is_pending:
        return []
    policy = policy_for(request)
    result = []
    if is_eligible_reviewer(user, request, policy):
        own = user is not None and user.pk == request.created_by_id
        if not (own and getattr(policy, "separation_of_duties", False)):
            result.append("APPROVE_TRANSITION_REQUEST")
        result.append("REJECT_TRANSITION_REQUEST")
    if (user is not None and user.pk == request.created_by_id) or access.has_level(
        user, request.model, Level.CAN_MANAGE
    ):
        result.append("CANCEL_TRANSITION_REQUEST")
    return result


def approval_count(request):
    return Review.objects.filter(request=request, decision=Review.APPROVE).count()


def stale_reason(request):
    """Why a pending request can no longer be applied as asked, or "" while it still holds: its
    version was deleted, or (a stage request) moved from the stage it was requested from. An
    alias request does not depend on the version's stage. The system closes a stale request
    (at its next review, or the beat's sweep) instead of applying it."""
    version = request.version
    if version.deleted_at is not None:
        return f"version {version.version} was deleted"
    if request.to_stage and version.current_stage != request.from_stage:
        return (
            f"version {version.version} moved from {request.from_stage} to {version.current_stage} "
            "after the request was made"
        )
    return ""


# Rules added to the registry's direct changes (connected in WorkflowsConfig.ready()) -------

def direct_transition_rule(ctx, model, version, from_stage, to_stage):
    if to_stage not in {"Staging", "Production"}:
        return
    policy = stage_policy(model, to_stage)
    if policy.require_request:
        raise PermissionDenied(
            f"Permission denied: the {to_stage} policy for '{model.name}' requires an approved "
            f"transition request; direct transitions to {to_stage} are not allowed. Create one "
            "with transition-requests/create."
        )


def protected_alias_rule(ctx, model, alias):
    policy = alias_policy(model, alias)
    if policy is None:
        return
    needed = Level.parse(policy.required_level) or Level.CAN_MANAGE_PRODUCTION_VERSIONS
    if not access.has_level(ctx.user, model, needed):
        raise PermissionDenied(
            f"Permission denied: alias '{alias}' on '{model.name}' is protected by alias policy "
            f"'{policy.pattern}' ({'model' if policy.model_id else 'registry-wide'}); moving or "
            f"deleting it requires {needed.name}, or an approved alias request "
            "(/api/2.0/modelgate/alias-requests/create)."
        )


# The same rules as short reasons, for the pages (ui): why someone may not do a thing ---------

def why_cannot_review(user, request, policy, *, approving):
    """Why `user` may not approve (approving) or reject `request`, in a few words: "needs
    CAN_MANAGE_PRODUCTION_VERSIONS", "you requested this"; "" when they may. The rules are
    require_can_review's."""
    if not is_eligible_reviewer(user, request, policy):
        team = getattr(policy, "approver_team", None)
        return f"needs {reviewer_level(request, policy).name}" + (f" or membership of team {team.name}" if team else "")
    separation = getattr(policy, "separation_of_duties", False)
    if approving and separation and user is not None and user.pk == request.created_by_id:
        return "you requested this (separation of duties)"
    return ""


def why_no_direct_transition(user, model, from_stage, to_stage):
    """Why `user` may not move a version of `model` from `from_stage` to `to_stage` directly:
    the level the move needs, or a stage policy that requires a request; "" when they may."""
    needed = registry_policies.transition_level(from_stage, to_stage)
    if not access.has_level(user, model, needed):
        return f"needs {needed.name}"
    if to_stage in {"Staging", "Production"} and stage_policy(model, to_stage).require_request:
        return f"the {to_stage} policy requires an approved request"
    return ""


def alias_change_needs_request(user, model, alias):
    """The alias policy that keeps `user` from pointing or removing `alias` directly (they may
    ask for it with an alias request instead), or None. protected_alias_rule's rule."""
    policy = alias_policy(model, alias)
    if policy is None or access.has_level(user, model, Level.parse(policy.required_level) or Level.CAN_MANAGE_PRODUCTION_VERSIONS):
        return None
    return policy
