"""Writes on accounts: API tokens; people, their flags, teams and passwords; teams and their
members; sign-in lockouts. Each is recorded in the activity log, never a secret."""

from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from guardian.models import GroupObjectPermission, UserObjectPermission

from audit import events
from audit.activity import record
from audit.errors import (
    InvalidParameterValue,
    PermissionDenied,
    ResourceAlreadyExists,
    ResourceConflict,
    ResourceDoesNotExist,
)

from . import policies, signin
from .models import ApiToken, User, hash_token


def _snapshot(token):
    return {
        "token_id": token.pk, "name": token.name, "prefix": token.prefix, "user": token.user.username,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
    }


def token_create(ctx, *, user, name, expires_at=None):
    """Create a token for `user`. Returns (token, raw); only the raw value's SHA-256 is
    stored, and the log records the token's prefix. Made with a token (ctx.token_id), it
    expires no later than that token: without an expiry it gets that token's."""
    raw = ApiToken.generate_raw()
    with transaction.atomic():
        making_token = ApiToken.objects.filter(pk=ctx.token_id).first() if ctx.token_id else None
        latest = policies.latest_token_expiry(ctx.user, making_token)
        if latest is not None:
            if expires_at is None:
                expires_at = latest
            elif expires_at > latest:
                raise InvalidParameterValue(
                    f"A token cannot outlive the token that creates it, which expires at "
                    f"{latest.isoformat()}: ask for a shorter lifetime."
                )
        token = ApiToken.objects.create(
            user=user,
            name=name or "default",
            prefix=raw[:12],
            token_hash=hash_token(raw),
            expires_at=expires_at,
        )
        record(ctx, event=events.TOKEN_CREATED, target=token.prefix, after=_snapshot(token))
    return token, raw


def token_revoke(ctx, *, token):
    """Revoke a token; revoking twice is harmless (and recorded once)."""
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        token.refresh_from_db()
        if updated:
            record(ctx, event=events.TOKEN_REVOKED, target=token.prefix, before=_snapshot(token))
    return updated == 1


# People and teams ------------------------------------------------------------------------------

# What user_update may change besides `teams`. The flags and the teams decide who may approve
# and what; the names say who someone is.
USER_FIELDS = (
    "username", "first_name", "last_name", "email",
    "is_active", "is_staff", "is_superuser", "is_service_account",
)


def _person(user):
    return {
        **{field: getattr(user, field) for field in USER_FIELDS},
        "teams": sorted(user.groups.values_list("name", flat=True)),
        "has_password": user.has_usable_password(),
    }


def _team(team):
    return {"name": team.name, "members": sorted(team.user_set.values_list("username", flat=True))}


def _grants(object_grants, registry_wide):
    """A principal's grants, which deleting it deletes with it."""
    return {
        "grants": sorted(
            ({"model": str(g.content_object), "permission": g.permission.codename}
             for g in object_grants.select_related("permission")),
            key=lambda g: (g["model"], g["permission"]),
        ),
        "registry_wide": sorted(registry_wide.values_list("codename", flat=True)),
    }


def _record_changes(ctx, *, event, target, before, after):
    """Record the fields that changed, before and after; nothing when nothing did."""
    keys = [key for key in after if after[key] != before[key]]
    if keys:
        record(ctx, event=event, target=target,
               before={key: before[key] for key in keys}, after={key: after[key] for key in keys})


def _require_registry_admin(ctx, doing):
    if not policies.is_registry_admin(ctx.user):
        raise PermissionDenied(f"Only a registry admin may {doing}.")


def _locked(queryset, pk, what):
    found = queryset.select_for_update().filter(pk=pk).first()
    if found is None:
        raise ResourceDoesNotExist(f"{what} not found.")
    return found


def _check_username(username, *, other_than=None):
    try:
        User._meta.get_field("username").run_validators(username)
        if not username:
            raise ValidationError("A username is required.")
    except ValidationError as exc:
        raise InvalidParameterValue(f"Invalid username {username!r}: {' '.join(exc.messages)}") from None
    if User.objects.filter(username=username).exclude(pk=other_than).exists():
        raise ResourceAlreadyExists(f"A user named {username!r} already exists.")


def _check_team_name(name, *, other_than=None):
    if not name or len(name) > Group._meta.get_field("name").max_length:
        raise InvalidParameterValue("A team needs a name of 1 to 150 characters.")
    if Group.objects.filter(name=name).exclude(pk=other_than).exists():
        raise ResourceAlreadyExists(f"A team named {name!r} already exists.")


def _set_password(user, password):
    if password is None:
        user.set_unusable_password()
        return
    if user.is_service_account:
        raise InvalidParameterValue("Service accounts have no password: they authenticate with tokens.")
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise InvalidParameterValue(" ".join(exc.messages)) from None
    user.set_password(password)


def user_create(ctx, *, username, password=None, email="", first_name="", last_name="",
                is_staff=False, is_superuser=False, is_service_account=False, teams=()):
    """Create a person or a service account. Without a password (always, for a service
    account) it has no password sign-in. Registry admins and the system only."""
    with transaction.atomic():
        _require_registry_admin(ctx, "create users")
        _check_username(username)
        user = User(
            username=username, email=email, first_name=first_name, last_name=last_name,
            is_staff=is_staff, is_superuser=is_superuser, is_service_account=is_service_account,
        )
        _set_password(user, None if is_service_account else password)
        user.save()
        user.groups.set(teams)
        record(ctx, event=events.USER_CREATED, target=user.username, after=_person(user))
    return user


def user_update(ctx, *, user, **changes):
    """Change a user's names, flags (USER_FIELDS) and `teams` (the full list of Groups).
    Records the fields that changed, before and after; a change that changes nothing records
    nothing. A service account keeps no password. Registry admins and the system only."""
    unknown = sorted(set(changes) - set(USER_FIELDS) - {"teams"})
    if unknown:
        raise InvalidParameterValue(f"Users have no field(s) {', '.join(unknown)}.")
    teams = changes.pop("teams", None)
    with transaction.atomic():
        _require_registry_admin(ctx, "change users")
        user = _locked(User.objects, user.pk, "User")
        if "username" in changes:
            _check_username(changes["username"], other_than=user.pk)
        before = _person(user)
        for field, value in changes.items():
            setattr(user, field, value)
        if user.is_service_account:
            user.set_unusable_password()
        user.save()
        if teams is not None:
            user.groups.set(teams)
        _record_changes(ctx, event=events.USER_UPDATED, target=user.username, before=before, after=_person(user))
    return user


def user_password_set(ctx, *, user, password):
    """Set a user's password, or none (`password=None`: no password sign-in). Registry admins
    set anyone's, a person their own. The log says that it changed, never what to; the
    Basic-auth memo is keyed on the stored hash, so the old password stops working at once."""
    with transaction.atomic():
        user = _locked(User.objects, user.pk, "User")
        if not policies.may_set_password(ctx.user, user):
            raise PermissionDenied("Only a registry admin may set another user's password.")
        before = {"has_password": user.has_usable_password()}
        _set_password(user, password)
        user.save(update_fields=["password"])
        record(ctx, event=events.USER_PASSWORD_CHANGED, target=user.username, before=before,
               after={"has_password": user.has_usable_password()})
    return user


def user_delete(ctx, *, user):
    """Delete a user with their tokens and grants (the log keeps what they held). Someone whose
    requests, reviews or comments are on record cannot be deleted: deactivate them instead."""
    with transaction.atomic():
        _require_registry_admin(ctx, "delete users")
        user = _locked(User.objects, user.pk, "User")
        held = _grants(UserObjectPermission.objects.filter(user=user), user.user_permissions)
        before = {**_person(user), **held}
        try:
            user.delete()
        except ProtectedError:
            raise ResourceConflict(
                f"{user.username} has requests, reviews or comments on record: deactivate them instead."
            ) from None
        record(ctx, event=events.USER_DELETED, target=before["username"], before=before)


def team_create(ctx, *, name, members=()):
    """Create a team (a Django group) with these members. Registry admins and the system only."""
    with transaction.atomic():
        _require_registry_admin(ctx, "create teams")
        _check_team_name(name)
        team = Group.objects.create(name=name)
        team.user_set.set(members)
        record(ctx, event=events.TEAM_CREATED, target=team.name, after=_team(team))
    return team


def team_update(ctx, *, team, name=None, members=None):
    """Rename a team and/or set its members (the full list; None leaves them). Records what
    changed, before and after. Registry admins and the system only."""
    with transaction.atomic():
        _require_registry_admin(ctx, "change teams")
        team = _locked(Group.objects, team.pk, "Team")
        before = _team(team)
        if name is not None and name != team.name:
            _check_team_name(name, other_than=team.pk)
            team.name = name
            team.save(update_fields=["name"])
        if members is not None:
            team.user_set.set(members)
        _record_changes(ctx, event=events.TEAM_UPDATED, target=team.name, before=before, after=_team(team))
    return team


def team_delete(ctx, *, team):
    """Delete a team with its grants (the log keeps its members and what it held)."""
    with transaction.atomic():
        _require_registry_admin(ctx, "delete teams")
        team = _locked(Group.objects, team.pk, "Team")
        held = _grants(GroupObjectPermission.objects.filter(group=team), team.permissions)
        before = {**_team(team), **held}
        team.delete()
        record(ctx, event=events.TEAM_DELETED, target=before["name"], before=before)


# Sign-in lockouts ------------------------------------------------------------------------------

def sign_in_lock(ctx, *, scope, username, address, failures, path=""):
    """Lock password sign-ins for a username or a client address (`scope`, accounts.signin)
    after `failures` failed ones, and record it. Returns False, recording nothing, if another
    process locked it first. Taken by the system (ctx: no user, the client's address)."""
    value = username if scope == signin.USER else address
    seconds = signin.lock(scope, value)
    if not seconds:
        return False
    try:
        with transaction.atomic():
            record(ctx, event=events.SIGN_IN_LOCKED_OUT, target=value, after={
                "scope": scope, "username": username, "address": address, "failures": failures,
                "locked_for_seconds": seconds, "path": path,
            })
    except BaseException:
        signin.unlock(scope, value)  # no lockout that is not on the record
        raise
    return True
