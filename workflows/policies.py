"""Approval rules: which policy governs a target, who may review, what a request needs before
it applies, who may set policies and report checks, and the rules workflows adds to the
registry's direct stage and alias changes."""

import copy
from fnmatch import fnmatchcase

from django.db.models import Q

from accounts import policies as access
from accounts.levels import Level
from audit.errors import InvalidParameterValue, PermissionDenied
from registry import policies as registry_policies
from registry import stages as lifecycle
from registry import validators

from .models import AliasPolicy, Check, Review, StagePolicy, TransitionRequest

# Checks Modelgate's Jenkins integration reports from the builds it starts (webhooks.jenkins).
JENKINS_CHECK_PREFIX = "jenkins/"


def is_registry_admin(user):
    """As registry.policies.require_registry_admin decides: superusers, and the system."""
    return user is None or (user.is_active and user.is_superuser)


def _default_stage_policy(stage):
    """The registry's policy for a stage nobody set one for: one approval, separation of
    duties for Production (and custom stages at its level), direct transitions allowed."""
    production = lifecycle.get(stage).required_level >= Level.CAN_MANAGE_PRODUCTION_VERSIONS
    return StagePolicy(stage=stage, separation_of_duties=production)


def _alias_level(policy):
    return Level.parse(policy.required_level) or Level.CAN_MANAGE_PRODUCTION_VERSIONS


def _effective(floor, own):
    """A model's own policy on top of the registry-wide floor: every requirement at the
    stricter of the two. One a registry admin set stands alone (an admin's exception)."""
    if own is None or floor is None or own.set_by_registry_admin:
        return own or floor
    policy = copy.copy(own)  # an unsaved combination, never written back
    policy.required_approvals = max(own.required_approvals, floor.required_approvals)
    policy.separation_of_duties = own.separation_of_duties or floor.separation_of_duties
    policy.required_checks = list(own.required_checks) + [
        c for c in floor.required_checks if c not in own.required_checks
    ]
    # An approver team lets its members approve without the level: only a team both name does.
    if own.approver_team_id != floor.approver_team_id:
        policy.approver_team = None
    if isinstance(own, StagePolicy):
        policy.require_request = own.require_request or floor.require_request
    else:
        policy.required_level = max(_alias_level(own), _alias_level(floor)).name
    return policy


def stage_policy(model, stage):
    """The policy moves of `model` into `stage` are reviewed under: the registry-wide one (or
    the defaults) combined with the model's own (_effective)."""
    policies = {
        p.model_id: p
        for p in StagePolicy.objects.filter(Q(model=model) | Q(model__isnull=True), stage=stage)
    }
    return _effective(policies.get(None) or _default_stage_policy(stage), policies.get(model.pk))


def alias_policy(model, alias):
    """The policy protecting `alias` on `model`: the first matching registry-wide policy
    combined with the first matching one of the model's own (_effective), or None."""
    candidates = sorted(AliasPolicy.objects.filter(Q(model=model) | Q(model__isnull=True)), key=lambda p: p.pk)
    # Compared as match keys (NFKC, Latin look-alikes folded, case ignored), so `chаmpion`
    # with a Cyrillic а is protected by the `champion` policy too.
    key = validators.alias_match_key(alias)
    matching = [p for p in candidates if fnmatchcase(key, validators.alias_match_key(p.pattern))]
    own = next((p for p in matching if p.model_id is not None), None)
    floor = next((p for p in matching if p.model_id is None), None)
    return _effective(floor, own)


# Setting policies ------------------------------------------------------------------------------

def weakened(policy, reference):
    """What `policy` requires less of than `reference`, field by field (empty: nothing)."""
    weaker = []
    if policy.required_approvals < reference.required_approvals:
        weaker.append(f"required_approvals {policy.required_approvals} < {reference.required_approvals}")
    if reference.separation_of_duties and not policy.separation_of_duties:
        weaker.append("separation_of_duties off")
    if isinstance(policy, StagePolicy) and reference.require_request and not policy.require_request:
        weaker.append("require_request off")
    if isinstance(policy, AliasPolicy) and _alias_level(policy) < _alias_level(reference):
        weaker.append(f"required_level {_alias_level(policy).name} < {_alias_level(reference).name}")
    dropped = [c for c in reference.required_checks if c not in policy.required_checks]
    if dropped:
        weaker.append(f"required_checks without {', '.join(dropped)}")
    if policy.approver_team_id and policy.approver_team_id != reference.approver_team_id:
        weaker.append(f"approver_team '{policy.approver_team.name}', whose members would approve without the level")
    return weaker


def _patterns_overlap(a, b):
    a, b = validators.alias_match_key(a), validators.alias_match_key(b)
    return fnmatchcase(a, b) or fnmatchcase(b, a)


def _floors(policy):
    """The registry-wide policies a model's `policy` may only add to, with how to name them."""
    if isinstance(policy, StagePolicy):
        floor = StagePolicy.objects.filter(model__isnull=True, stage=policy.stage).first()
        return [(f"the registry-wide {policy.stage} policy", floor or _default_stage_policy(policy.stage))]
    overlapping = [
        p for p in AliasPolicy.objects.filter(model__isnull=True).order_by("pk")
        if _patterns_overlap(p.pattern, policy.pattern)
    ]
    return [(f"the registry-wide alias policy '{p.pattern}'", p) for p in overlapping]


def require_may_set(ctx, policy, current):
    """A model's managers may add to the registry's requirements, never take from them: refuse
    `policy` (a model's own, as it would be saved) if it requires less than the registry-wide
    floor, or than `current` (the policy as it stood) when a registry admin set that one.
    Registry admins set anything."""
    if policy.model_id is None or is_registry_admin(ctx.user):
        return
    if current is not None and current.set_by_registry_admin:
        bounds = [(f"the policy a registry admin set for '{policy.model.name}'", current)]
    else:
        bounds = _floors(policy)
    for label, reference in bounds:
        weaker = weakened(policy, reference)
        if weaker:
            raise PermissionDenied(
                f"Permission denied: this policy would require less than {label} "
                f"({'; '.join(weaker)}); a model's own policy may only add to it, and weakening it "
                "needs a registry admin."
            )


def require_may_delete(ctx, policy):
    if policy.model_id and policy.set_by_registry_admin and not is_registry_admin(ctx.user):
        raise PermissionDenied(
            f"Permission denied: a registry admin set this policy for '{policy.model.name}'; "
            "deleting it requires a registry admin."
        )


def may_manage_policy(user, policy, *, deleting=False):
    """The admin's question, decided as the policy actions decide it: registry-wide policies
    are the registry admins'; a model's own, its CAN_MANAGE holders' (who may not delete one a
    registry admin set)."""
    if is_registry_admin(user):
        return True
    if policy.model_id is None or not access.has_level(user, policy.model, Level.CAN_MANAGE):
        return False
    return not (deleting and policy.set_by_registry_admin)


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
    return _alias_level(policy)


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


# Checks ----------------------------------------------------------------------------------------

def require_can_report_check(ctx, version, check):
    """Checks are CI's word on a version: reported by service accounts, never by a person and
    never by whoever asked to move the version; `jenkins/*` only by Modelgate's Jenkins
    integration (the system, workflows.tasks.record_check). The level is asked for first."""
    user = ctx.user
    if user is None:
        return
    if check.startswith(JENKINS_CHECK_PREFIX):
        raise PermissionDenied(
            f"Permission denied: checks named {JENKINS_CHECK_PREFIX}* are reported only by Modelgate's "
            "Jenkins integration, from the builds its Jenkins webhooks start."
        )
    if not user.is_service_account:
        raise PermissionDenied(
            "Permission denied: checks are reported by service accounts (CI), not by people; "
            "report with a service account's token."
        )
    if TransitionRequest.objects.filter(version=version, status=TransitionRequest.PENDING, created_by=user).exists():
        raise PermissionDenied(
            f"Permission denied: {user.username} requested a pending move of version {version.version}; "
            "a request's requester may not report checks on its version."
        )


def check_states(version, names, *, for_request=None):
    """{name: latest status or None} for the given check names. For a request, only the reports
    its approval may rely on count: the system's and service accounts', never its requester's
    (who may have reported before asking)."""
    states = {name: None for name in names}
    reports = Check.objects.filter(version=version, name__in=list(names))
    if for_request is not None:
        reports = reports.filter(
            Q(reported_by__isnull=True) | Q(reported_by__is_service_account=True)
        ).exclude(reported_by_id=for_request.created_by_id)
    for check in reports.order_by("id"):
        states[check.name] = check.status
    return states


def unmet_checks(request, names):
    """The required checks not yet `success` as far as `request`'s approval may rely on."""
    states = check_states(request.version, names, for_request=request)
    return {name: status for name, status in states.items() if status != Check.SUCCESS}


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
    if not lifecycle.reviewable(to_stage):
        return
    policy = stage_policy(model, to_stage)
    if policy.require_request:
        raise PermissionDenied(
            f"Permission denied: the {to_stage} policy for '{model.name}' requires an approved "
            f"transition request; direct transitions to {to_stage} are not allowed. Create one "
            "with transition-requests/create."
        )


def stage_in_use_rule(ctx, stage):
    """A custom stage that pending requests move into or out of, or that policies govern,
    stays: deleting it would strand them."""
    pending = TransitionRequest.objects.filter(status=TransitionRequest.PENDING).filter(
        Q(to_stage=stage) | Q(from_stage=stage)
    ).count()
    if pending:
        raise InvalidParameterValue(
            f"Stage '{stage}' cannot be deleted: {pending} pending transition request(s) name it. "
            "Approve, reject or cancel them first."
        )
    governed = StagePolicy.objects.filter(stage=stage).count()
    if governed:
        raise InvalidParameterValue(
            f"Stage '{stage}' cannot be deleted: {governed} stage polic(y/ies) govern it. Delete them first."
        )


def protected_alias_rule(ctx, model, alias):
    policy = alias_policy(model, alias)
    if policy is None:
        return
    needed = _alias_level(policy)
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
    if lifecycle.reviewable(to_stage) and stage_policy(model, to_stage).require_request:
        return f"the {to_stage} policy requires an approved request"
    return ""


def alias_change_needs_request(user, model, alias):
    """The alias policy that keeps `user` from pointing or removing `alias` directly (they may
    ask for it with an alias request instead), or None. protected_alias_rule's rule."""
    policy = alias_policy(model, alias)
    if policy is None or access.has_level(user, model, _alias_level(policy)):
        return None
    return policy
