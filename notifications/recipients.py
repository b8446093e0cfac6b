"""Who hears of an activity, and why (the defaults of docs/ARCHITECTURE.md, "Notifications"):

- a new transition or alias request: everyone who may decide it (the level its target needs,
  or the policy's approver team), but its requester;
- its requester, when it is approved, rejected or closed by the system, and when a check its
  approval requires fails;
- a new comment: the others who commented on the same version;
- a model's followers: every notable event on it (FOLLOWED_EVENTS; of checks, failures).

Never the person who acted, a service account, an inactive person, someone without an email
address, someone who can no longer read the model, someone who muted the model, or someone
who chose no email."""

from dataclasses import dataclass

from accounts import policies as access
from accounts.models import User
from audit import events
from registry import permissions
from registry import policies as registry_policies
from registry.models import RegisteredModel
from workflows import policies as workflow_policies
from workflows.models import Check, Comment, TransitionRequest

from .models import Preference, Subscription

FOLLOWED_EVENTS = frozenset({
    events.VERSION_CREATED, events.VERSION_STAGE_TRANSITIONED, events.VERSION_DELETED,
    events.ALIAS_CREATED, events.ALIAS_MOVED, events.ALIAS_DELETED,
    events.TRANSITION_REQUEST_CREATED, events.TRANSITION_REQUEST_APPROVED,
    events.TRANSITION_REQUEST_REJECTED, events.TRANSITION_REQUEST_CANCELLED,
    events.TRANSITION_REQUEST_CLOSED, events.COMMENT_CREATED, events.CHECK_REPORTED,
})
DECIDED_EVENTS = frozenset({
    events.TRANSITION_REQUEST_APPROVED, events.TRANSITION_REQUEST_REJECTED, events.TRANSITION_REQUEST_CLOSED,
})


@dataclass
class Recipient:
    user: object
    reason: str
    delivery: str  # Preference.IMMEDIATE or DIGEST


@dataclass
class Subject:
    """What an activity is about, loaded once for the recipients and the message."""

    activity: object
    model: object
    request: object = None
    comment: object = None
    failed_requests: tuple = ()  # pending requests whose required check just failed


def subject_of(activity, model=None):
    """`model` is the one record() was given, when it is the activity's (saves reading it again)."""
    if model is None or model.uid != activity.model_uid:
        model = RegisteredModel.objects.filter(uid=activity.model_uid).first() if activity.model_uid else None
    if model is None:
        return None
    subject = Subject(activity, model)
    after = activity.after if isinstance(activity.after, dict) else {}
    if activity.event.startswith("transition_request.") and after.get("request_id"):
        subject.request = (
            TransitionRequest.objects.select_related("created_by", "model", "version", "decided_by")
            .filter(pk=after["request_id"]).first()
        )
    elif activity.event == events.COMMENT_CREATED and after.get("comment_id"):
        subject.comment = Comment.objects.select_related("version", "user").filter(pk=after["comment_id"]).first()
    elif activity.event == events.CHECK_REPORTED and after.get("status") == Check.FAILURE:
        pending = (
            TransitionRequest.objects.select_related("created_by", "model", "version")
            .filter(model=model, version__version=activity.version, status=TransitionRequest.PENDING)
        )
        subject.failed_requests = tuple(
            req for req in pending
            if after.get("check") in (getattr(workflow_policies.policy_for(req), "required_checks", None) or [])
        )
    return subject


def _decider_reason(user, req, policy):
    level = workflow_policies.reviewer_level(req, policy)
    if access.has_level(user, req.model, level):
        held = access.effective_level(user, req.model)
        return f"you may decide requests to move '{req.model.name}' to {req.target_label} (you hold {held.name})"
    return (f"you may decide requests to move '{req.model.name}' to {req.target_label} "
            f"(you are in the approver team '{policy.approver_team.name}')")


def _people_with_email():
    return User.objects.filter(is_active=True, is_service_account=False).exclude(email="")


def _possible_deciders(req, policy):
    """People with an address who might decide `req`, narrowed in SQL to those a grant, the
    approver team or registry admin reaches (unless the default level already decides), so a
    new request costs queries per grantee, not per account."""
    people = _people_with_email().exclude(pk=req.created_by_id).order_by("pk")
    if access.default_level() >= workflow_policies.reviewer_level(req, policy):
        return people
    reached = set(User.objects.filter(is_superuser=True).values_list("pk", flat=True))
    for grant in [*permissions.model_grants(req.model), *permissions.root_grants()]:
        if isinstance(grant.principal, User):
            reached.add(grant.principal.pk)
        else:
            reached |= set(grant.principal.user_set.values_list("pk", flat=True))
    if getattr(policy, "approver_team_id", None):
        reached |= set(User.objects.filter(groups=policy.approver_team_id).values_list("pk", flat=True))
    return people.filter(pk__in=reached)


def _candidates(subject, followers):
    """(user, reason) in order of precedence: the first reason found for a person is theirs."""
    activity, model = subject.activity, subject.model
    req = subject.request
    if activity.event == events.TRANSITION_REQUEST_CREATED and req is not None:
        policy = workflow_policies.policy_for(req)
        for user in _possible_deciders(req, policy):
            if workflow_policies.is_eligible_reviewer(user, req, policy):
                yield user, _decider_reason(user, req, policy)
    if activity.event in DECIDED_EVENTS and req is not None:
        yield req.created_by, f"you asked to move '{model.name}' version {req.version.version} to {req.target_label}"
    for failed in subject.failed_requests:
        yield failed.created_by, (
            f"you asked to move '{model.name}' version {failed.version.version} to {failed.target_label}, "
            f"and its approval requires the check that failed"
        )
    if subject.comment is not None:
        thread = Comment.objects.filter(version=subject.comment.version).exclude(pk=subject.comment.pk)
        for user in User.objects.filter(pk__in=thread.values("user_id")).order_by("pk"):
            yield user, f"you commented on '{model.name}' version {subject.comment.version.version}"
    quiet_check = activity.event == events.CHECK_REPORTED and (activity.after or {}).get("status") != Check.FAILURE
    if activity.event in FOLLOWED_EVENTS and not quiet_check:
        for sub in followers:
            yield sub.user, f"you follow '{model.name}'"


def recipients(subject):
    """The people to tell about `subject`, each once, with why and how (immediate or digest)."""
    activity, model = subject.activity, subject.model
    # One read of the model's subscriptions, both kinds: this runs inside every change's transaction.
    subscriptions = list(Subscription.objects.filter(model=model).select_related("user").order_by("user_id"))
    muted = {sub.user_id for sub in subscriptions if sub.state == Subscription.MUTE}
    followers = [sub for sub in subscriptions if sub.state == Subscription.FOLLOW]
    seen, found = set(), []
    for user, reason in _candidates(subject, followers):
        if user.pk in seen:
            continue
        seen.add(user.pk)
        if (user.pk == activity.actor_id or user.pk in muted or not user.email or not user.is_active
                or user.is_service_account or not registry_policies.can_read(user, model)):
            continue
        preference = Preference.objects.filter(user=user).first()
        delivery = preference.delivery if preference is not None else Preference.IMMEDIATE
        if delivery == Preference.OFF:
            continue
        found.append(Recipient(user, reason, delivery))
    return found
