"""The activity log in words: describe(activity) turns one audit Activity row into a sentence
("parker requested Production", "marygrace approved a transition to Production: offline
metrics verified", "jenkins reported jenkins/validation: success").

Each event's before/after shape is the one its action records (registry/actions.py,
workflows/actions.py, webhooks/actions.py, accounts/actions.py). The log is append-only and
outlives the code that wrote it, so a row whose shape is not the expected one still gets a
plain sentence, never an error. Which model (and version) a row is about is shown beside the
sentence by the page, so request and review sentences do not repeat it.
"""

from audit import events


def _plural(count, word, words=None):
    return f"{count} {word}" if count == 1 else f"{count} {words or word + 's'}"


def _versions(numbers):
    numbers = [str(n) for n in numbers or []]
    if not numbers:
        return ""
    if len(numbers) == 1:
        return f"version {numbers[0]}"
    return "versions " + ", ".join(numbers[:-1]) + " and " + numbers[-1]


def _with_comment(sentence, comment):
    comment = (comment or "").strip()
    return f"{sentence}: {comment}" if comment else sentence


def _on(row):
    """"on version 2" for a version's row, "on fraud" for a model's."""
    if row.version is not None:
        return f"on version {row.version}"
    return f"on {row.model_name}" if row.model_name else ""


def _target(row, after):
    """The request's target as the log names it: "Production" or "@champion"."""
    if row.target:
        return row.target
    if after.get("to_stage"):
        return after["to_stage"]
    return f"@{after['alias']}" if after.get("alias") else "a new stage"


def _request_kind(target):
    return f"a move of alias {target}" if target.startswith("@") else f"a transition to {target}"


def _applied(row, after):
    """What an approval that reached its quorum changed, in words."""
    done = []
    if after.get("to_stage") and after.get("stage"):
        done.append(f"version {row.version} moved to {after['stage']}")
    archived = _versions(after.get("archived_versions"))
    if archived:
        done.append(f"{archived} archived")
    moved = after.get("alias_moved") or {}
    if moved.get("alias"):
        alias, to, frm = moved["alias"], moved.get("to_version") or row.version, moved.get("from_version")
        done.append(
            f"@{alias} moved from version {frm} to version {to}" if frm else f"@{alias} set to version {to}"
        )
    return done


def _approvals(after):
    if after.get("approvals") and after.get("required"):
        return f"{after['approvals']} of {after['required']} approvals"
    return ""


def _tag(before, after, target):
    key = after.get("key") or before.get("key") or target or "a tag"
    return key, after.get("value")


def _policy_scope(row):
    return f"for {row.model_name}" if row.model_name else "registry-wide"


def _policy_terms(policy):
    terms = []
    approvals = policy.get("required_approvals")
    if approvals:
        terms.append(_plural(approvals, "approval"))
    if policy.get("require_request"):
        terms.append("requests required")
    if policy.get("approver_team"):
        terms.append(f"approver team {policy['approver_team']}")
    if policy.get("required_checks"):
        terms.append("checks " + ", ".join(policy["required_checks"]))
    if policy.get("required_level"):
        terms.append(f"needs {policy['required_level']}")
    if policy.get("archive_existing_on_approval"):
        terms.append("archives the current versions")
    if policy.get("move_alias_on_approval"):
        terms.append(f"moves @{policy['move_alias_on_approval']}")
    return f" ({', '.join(terms)})" if terms else ""


def _policy(row, before, after, what):
    name = f"{what} policy {_policy_scope(row)}"
    if not after:
        return f"removed the {name}"
    verb = "set" if not before else "changed"
    return f"{verb} the {name}{_policy_terms(after)}"


def _webhook_name(row, before, after):
    """A webhook by its name and id; never its URL or Jenkins job (for readers the export
    redacts those: a URL may carry credentials or name internal hosts)."""
    name = (after or before).get("name") or ""
    ident = row.target or (after or before).get("id") or ""
    return f"webhook {name} ({ident})" if name and ident else f"webhook {name or ident}".rstrip()


def _sentence(row, before, after):  # noqa: C901 -- one branch per event, read top to bottom
    e, target = row.event, row.target
    # Registered models.
    if e == events.MODEL_CREATED:
        return f"created the model {after.get('name') or row.model_name}"
    if e == events.MODEL_UPDATED:
        return "changed the model's description" if after.get("description") else "cleared the model's description"
    if e == events.MODEL_RENAMED:
        return f"renamed the model from {before.get('name')} to {after.get('name')}"
    if e == events.MODEL_DELETED:
        return f"deleted the model {row.model_name}"
    if e in (events.MODEL_TAG_SET, events.VERSION_TAG_SET):
        key, value = _tag(before, after, target)
        return f"set tag {key} = {value} {_on(row)}".rstrip()
    if e in (events.MODEL_TAG_DELETED, events.VERSION_TAG_DELETED):
        key, _ = _tag(before, after, target)
        return f"removed tag {key} {_on(row)}".rstrip()
    # Versions.
    if e == events.VERSION_CREATED:
        return f"registered version {after.get('version') or row.version}"
    if e == events.VERSION_UPDATED:
        what = "changed" if after.get("description") else "cleared"
        return f"{what} the description of version {row.version}"
    if e == events.VERSION_DELETED:
        return f"deleted version {row.version}"
    if e == events.VERSION_LINEAGE_RESOLVED:
        return f"found the run of version {row.version}: {after.get('run_id') or 'none'}"
    if e == events.VERSION_LINEAGE_UNAVAILABLE:
        return f"could not find the run of version {row.version}: {after.get('reason') or 'no reason given'}"
    if e == events.VERSION_STAGE_TRANSITIONED:
        sentence = f"moved version {row.version} to {after.get('stage')}"
        archived = _versions(after.get("archived_versions"))
        if archived:
            sentence += f" ({archived} archived)"
        return _with_comment(sentence, row.comment)
    # Aliases.
    if e == events.ALIAS_CREATED:
        return f"set alias @{target or after.get('alias')} to version {after.get('version') or row.version}"
    if e == events.ALIAS_MOVED:
        moved_from = f" from version {before['version']}" if before.get("version") else ""
        return f"moved alias @{target or after.get('alias')}{moved_from} to version {after.get('version') or row.version}"
    if e == events.ALIAS_DELETED:
        return f"removed alias @{target or before.get('alias')} from version {before.get('version') or row.version}"
    # Permissions.
    if e == events.MODEL_PERMISSIONS_CHANGED:
        return f"changed who may access {row.model_name}"
    if e == events.REGISTRY_PERMISSIONS_CHANGED:
        return "changed the registry-wide permissions"
    # The lifecycle.
    if e == events.STAGE_CREATED:
        return f"defined stage {target or after.get('name')} ({after.get('required_level')}, {'active' if after.get('active') else 'not active'})"
    if e == events.STAGE_DELETED:
        return f"deleted stage {target or before.get('name')}"
    # Accounts.
    if e == events.TOKEN_CREATED:
        owner = after.get("user")
        return f"created API token {after.get('name') or target}" + (f" for {owner}" if owner else "")
    if e == events.TOKEN_REVOKED:
        owner = before.get("user")
        return f"revoked API token {before.get('name') or target}" + (f" of {owner}" if owner else "")
    # Transition and alias requests.
    if e == events.TRANSITION_REQUEST_CREATED:
        target = _target(row, after)
        if target.startswith("@"):
            return _with_comment(f"asked to point {target} at version {row.version}", row.comment)
        return _with_comment(f"requested {target}", row.comment)
    if e == events.TRANSITION_REQUEST_REVIEWED:
        count = _approvals(after)
        sentence = f"approved {_request_kind(_target(row, after))}" + (f" ({count})" if count else "")
        return _with_comment(sentence, row.comment)
    if e == events.TRANSITION_REQUEST_APPROVED:
        done = _applied(row, after)
        sentence = f"approved {_request_kind(_target(row, after))}" + (f" ({'; '.join(done)})" if done else "")
        return _with_comment(sentence, row.comment)
    if e == events.TRANSITION_REQUEST_REJECTED:
        return _with_comment(f"rejected {_request_kind(_target(row, after))}", row.comment)
    if e == events.TRANSITION_REQUEST_CANCELLED:
        return _with_comment(f"cancelled the request for {_target(row, after)}", row.comment)
    if e == events.TRANSITION_REQUEST_CLOSED:
        why = (row.comment or "").removeprefix("Closed by the system: ").rstrip(".")
        return _with_comment(f"closed the request for {_target(row, after)}", why)
    # Comments and checks.
    if e == events.COMMENT_CREATED:
        return _with_comment("commented", row.comment)
    if e == events.COMMENT_UPDATED:
        return _with_comment("edited a comment", row.comment)
    if e == events.COMMENT_DELETED:
        author = before.get("author")
        return "deleted a comment" + (f" by {author}" if author and author != row.actor else "")
    if e == events.CHECK_REPORTED:
        sentence = f"reported {after.get('check') or target}: {after.get('status') or 'a result'}"
        summary = (row.comment or "").strip()
        return f"{sentence} ({summary})" if summary else sentence
    # Policies.
    if e == events.STAGE_POLICY_CHANGED:
        return _policy(row, before, after, f"{target or after.get('stage') or before.get('stage')}")
    if e == events.ALIAS_POLICY_CHANGED:
        return _policy(row, before, after, f"alias '{target or after.get('pattern') or before.get('pattern')}'")
    # Webhooks.
    if e == events.WEBHOOK_CREATED:
        return f"created {_webhook_name(row, before, after)}"
    if e == events.WEBHOOK_UPDATED:
        return f"changed {_webhook_name(row, before, after)}"
    if e == events.WEBHOOK_DELETED:
        return f"deleted {_webhook_name(row, before, after)}"
    if e == events.WEBHOOK_TESTED:
        # The status code, not the error text: an error names the host (redacted for readers).
        code = after.get("status_code")
        outcome = f"HTTP {code}" if code else ("failed" if after.get("error") else "")
        return f"sent a test event to webhook {target}" + (f" ({outcome})" if outcome else "")
    if e == events.WEBHOOK_DISABLED:
        return _with_comment(f"disabled {_webhook_name(row, before, after)}", (row.comment or "").removeprefix("Disabled: ").rstrip("."))
    # Notifications.
    if e == events.NOTIFICATION_SETTINGS_CHANGED:
        words = {"immediate": "each event at once", "digest": "a daily digest", "off": "no email"}
        return f"chose {words.get(after.get('delivery'), after.get('delivery') or 'new')} for their notifications"
    if e == events.MODEL_SUBSCRIPTION_CHANGED:
        state = after.get("state")
        verb = {"follow": "followed", "mute": "muted"}.get(state, "went back to the default notifications for")
        return f"{verb} {target or 'a model'}"
    if e == events.DELIVERIES_REDELIVERED:
        count = len(after.get("delivery_ids") or [])
        return f"sent {_plural(count, 'delivery', 'deliveries')} of webhook {target} again"
    return _newer_sentence(row, before, after)


# Events other apps are adding (people, teams, lockouts, log checkpoints): looked up by
# constant name, so this module also works with an events.py that does not define them yet.
_NEWER_SENTENCES = {
    "USER_CREATED": "created the account {target}",
    "USER_UPDATED": "changed the account {target}",
    "USER_PASSWORD_CHANGED": "changed the password of {target}",
    "USER_DELETED": "deleted the account {target}",
    "TEAM_CREATED": "created the team {target}",
    "TEAM_UPDATED": "changed the team {target}",
    "TEAM_DELETED": "deleted the team {target}",
    "SIGN_IN_LOCKED_OUT": "locked password sign-in for {target} after {failures} failed attempts",
    "ACTIVITY_CHECKPOINTED": "signed a checkpoint of the activity log ({covers})",
}


def _newer_sentence(row, before, after):
    """None for an event this module has no words for."""
    for constant, words in _NEWER_SENTENCES.items():
        if row.event == getattr(events, constant, None):
            return words.format(
                target=row.target or "someone", failures=after.get("failures") or "repeated",
                covers=after.get("covers") or f"up to row {row.target}",
            )
    return None


def _fallback(row):
    """An event (or shape) this module has no words for: still who, what and on what."""
    sentence = f"recorded {row.event}"
    if row.target:
        sentence += f" ({row.target})"
    return _with_comment(sentence, row.comment)


def describe(activity):
    """One activity row as a sentence that starts with who acted."""
    before = activity.before if isinstance(activity.before, dict) else {}
    after = activity.after if isinstance(activity.after, dict) else {}
    try:
        sentence = _sentence(activity, before, after)
    except (AttributeError, KeyError, TypeError, ValueError):
        # A row written by an older (or newer) shape of its action: say it plainly.
        sentence = None
    return f"{activity.actor or 'system'} {sentence or _fallback(activity)}"
