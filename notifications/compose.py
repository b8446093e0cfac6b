"""The words of a notice and of the emails that carry them: plain text, absolute links built
from MODELGATE_PUBLIC_URL, and always why the person got it and how to stop it."""

from django.conf import settings
from django.urls import reverse

from audit import events
from workflows import policies as workflow_policies

PREFIX = "[Modelgate]"


def absolute(path):
    return settings.MODELGATE_PUBLIC_URL.rstrip("/") + path


def model_link(name):
    return absolute(reverse("ui:model", args=[name]))


def version_link(name, number, anchor=""):
    return absolute(reverse("ui:version", args=[name, number])) + (f"#{anchor}" if anchor else "")


def settings_link():
    return absolute(reverse("ui:notifications"))


def stop_text(model_name):
    return (
        f"To stop these: mute '{model_name}' on its page, {model_link(model_name)}, or choose "
        f"what email you get (at once, a daily digest, or none) at {settings_link()}."
    )


def _checks_line(req):
    names = getattr(workflow_policies.policy_for(req), "required_checks", None) or []
    if not names:
        return "none required"
    states = workflow_policies.check_states(req.version, names, for_request=req)
    return ", ".join(f"{name}: {states[name] or 'not reported'}" for name in sorted(names))


def _request_facts(req, activity):
    policy = workflow_policies.policy_for(req)
    lines = [
        f"Model:        {req.model.name}",
        f"Version:      {req.version.version} (now in {req.version.current_stage})",
        f"Target:       {req.target_label}",
        f"Requested by: {req.created_by.username}",
        f"Comment:      {req.comment or '(none)'}",
        f"Checks:       {_checks_line(req)}",
        f"Approvals:    {workflow_policies.approval_count(req)} of {workflow_policies.approvals_needed(policy)}",
    ]
    return "\n".join(lines)


def notice_text(subject):
    """(subject line, body) for one activity, the same for every recipient of it."""
    activity, model, req = subject.activity, subject.model, subject.request
    who, name, number = activity.actor, model.name, activity.version
    event = activity.event
    if req is not None:
        link = version_link(name, req.version.version, f"request-{req.pk}")
        head = f"{name} v{req.version.version} → {req.target_label}"
        if event == events.TRANSITION_REQUEST_CREATED:
            return (f"{PREFIX} Review requested: {head} by {who}",
                    f"{who} asks to move version {req.version.version} of '{name}' to {req.target_label}.\n\n"
                    f"{_request_facts(req, activity)}\n\nReview the request: {link}")
        if event == events.TRANSITION_REQUEST_APPROVED:
            return (f"{PREFIX} Approved: {head}",
                    f"{who} approved the request to move version {req.version.version} of '{name}' to "
                    f"{req.target_label}; it is applied (the version is in {req.version.current_stage}).\n"
                    f"Comment: {activity.comment or '(none)'}\n\nThe version: {link}")
        if event == events.TRANSITION_REQUEST_REJECTED:
            return (f"{PREFIX} Rejected: {head}",
                    f"{who} rejected the request to move version {req.version.version} of '{name}' to "
                    f"{req.target_label}.\nComment: {activity.comment or '(none)'}\n\nThe request: {link}")
        if event == events.TRANSITION_REQUEST_CLOSED:
            return (f"{PREFIX} Closed: {head}",
                    f"The system closed the request to move version {req.version.version} of '{name}' to "
                    f"{req.target_label}.\n{activity.comment}\n\nThe request: {link}")
        if event == events.TRANSITION_REQUEST_CANCELLED:
            return (f"{PREFIX} Cancelled: {head}",
                    f"{who} cancelled the request to move version {req.version.version} of '{name}' to "
                    f"{req.target_label}.\n\nThe request: {link}")
    if subject.comment is not None:
        c = subject.comment
        return (f"{PREFIX} {who} commented on {name} v{c.version.version}",
                f"{who} commented on version {c.version.version} of '{name}':\n\n{c.comment}\n\n"
                f"Reply: {version_link(name, c.version.version, 'h-comments')}")
    after = activity.after if isinstance(activity.after, dict) else {}
    if event == events.CHECK_REPORTED:
        lines = [f"Check {after.get('check')} is {after.get('status')} on version {number} of '{name}' "
                 f"(reported by {who})."]
        if activity.comment:
            lines.append(f"Summary: {activity.comment}")
        if after.get("details_url"):
            lines.append(f"Details: {after['details_url']}")
        for failed in subject.failed_requests:
            lines.append(f"The request to move it to {failed.target_label} needs this check to pass.")
        lines.append(f"\nThe version: {version_link(name, number)}")
        return f"{PREFIX} Check {after.get('check')} {after.get('status')}: {name} v{number}", "\n".join(lines)
    what = {
        events.VERSION_CREATED: f"{who} registered version {number} of '{name}'.",
        events.VERSION_DELETED: f"{who} deleted version {number} of '{name}'.",
        events.VERSION_STAGE_TRANSITIONED:
            f"{who} moved version {number} of '{name}' to {after.get('stage') or activity.target}.",
        events.ALIAS_CREATED: f"{who} pointed alias @{activity.target} of '{name}' at version {number}.",
        events.ALIAS_MOVED: f"{who} moved alias @{activity.target} of '{name}' to version {number}.",
        events.ALIAS_DELETED: f"{who} removed alias @{activity.target} of '{name}'.",
    }.get(event, f"{who}: {event} on '{name}'" + (f" version {number}." if number else "."))
    link = version_link(name, number) if number and event != events.VERSION_DELETED else model_link(name)
    return f"{PREFIX} {what.rstrip('.')}", f"{what}\n\n{link}"


def footer(reason, stop):
    return f"\n\n--\nWhy you got this: {reason}.\n{stop}\n"


def immediate_body(notice):
    return notice.text + footer(notice.reason, notice.stop)


def digest(notices):
    """(subject, body) of one digest email gathering `notices` (oldest first)."""
    count = len(notices)
    subject = f"{PREFIX} Your digest: {count} update{'s' if count != 1 else ''}"
    parts = [f"What happened since your last digest ({count} update{'s' if count != 1 else ''}):"]
    for number, notice in enumerate(notices, 1):
        title = notice.subject.removeprefix(PREFIX).strip()
        indented = "\n".join(f"   {line}" if line else "" for line in notice.text.splitlines())
        parts.append(f"{number}. {title}\n{indented}\n   Why you got this: {notice.reason}.")
    body = "\n\n".join(parts)
    body += (f"\n\n--\nYou get this digest once a day because you chose a daily digest.\n"
             f"To stop: mute a model on its page, or choose what email you get at {settings_link()}.\n")
    return subject, body
