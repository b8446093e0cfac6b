"""Who may do what on a registered model. Pure decisions (levels and querysets); the apps that
own a verb turn a "no" into their error (registry/policies.py).

A principal's effective level on a model is the highest of: its own grant on the model, its
teams' grants on the model, its and its teams' registry-wide grants, and the default level for
every authenticated user (MODELGATE_DEFAULT_LEVEL). Superusers are registry admins (CAN_MANAGE
everywhere); the system itself (ctx.user None) acts unrestricted.
"""

from django.conf import settings
from guardian.core import ObjectPermissionChecker
from guardian.shortcuts import get_objects_for_user

from .levels import CREATE_MODELS_CODENAME, GRANTABLE, Level


def default_level():
    return Level.parse(getattr(settings, "MODELGATE_DEFAULT_LEVEL", "CAN_READ")) or Level.NONE


def _highest(codenames):
    levels = [level for level in GRANTABLE if level.codename in codenames]
    return max(levels, default=Level.NONE)


def _global_codenames(user):
    # ModelBackend caches these on the user object for the request.
    return {perm.split(".", 1)[1] for perm in user.get_all_permissions() if perm.startswith("registry.")}


def registry_wide_level(user):
    if user is None:
        return Level.CAN_MANAGE
    if not user.is_active:
        return Level.NONE
    if user.is_superuser:
        return Level.CAN_MANAGE
    return max(default_level(), _highest(_global_codenames(user)))


def effective_level(user, model):
    """The highest level `user` holds on `model`."""
    level = registry_wide_level(user)
    if level is Level.CAN_MANAGE or user is None or not user.is_active:
        return level
    checker = getattr(user, "_modelgate_perm_checker", None)
    if checker is None:
        checker = user._modelgate_perm_checker = ObjectPermissionChecker(user)
    return max(level, _highest(set(checker.get_perms(model))))


def has_level(user, model, needed):
    # Cheap paths first, so the hot read path (alias lookups) costs no permission query while
    # the default level grants reading.
    if user is None:
        return True
    if not user.is_active:
        return False
    if user.is_superuser or default_level() >= needed:
        return True
    if registry_wide_level(user) >= needed:
        return True
    return effective_level(user, model) >= needed


def can_create_models(user):
    if user is None or user.is_superuser:
        return user is None or user.is_active
    if not user.is_active:
        return False
    if getattr(settings, "MODELGATE_DEFAULT_CAN_CREATE", True):
        return True
    codenames = _global_codenames(user)
    return CREATE_MODELS_CODENAME in codenames or Level.CAN_MANAGE.codename in codenames


def reads_everything(user):
    """Whether `user` may read every model (so reads need no per-model filter)."""
    if user is not None and user.is_active and default_level() >= Level.CAN_READ:
        return True
    return registry_wide_level(user) >= Level.CAN_READ


def is_registry_admin(user):
    """Registry admins (superusers) and the system itself manage people and teams, and make
    tokens of any lifetime."""
    return user is None or (user.is_active and user.is_superuser)


def may_set_password(actor, user):
    """Registry admins set anyone's password; a person sets their own."""
    return is_registry_admin(actor) or (actor.is_active and actor.pk == user.pk)


def latest_token_expiry(user, making_token):
    """The latest a new token of `user` may expire when `making_token` (the token the request
    came with, or None) asks for it: None for no limit. A token never outlives the token that
    made it, unless a registry admin makes it, so a leaked short-lived token stays short-lived."""
    if making_token is None or is_registry_admin(user):
        return None
    return making_token.expires_at


def readable(user, queryset):
    """Filter a RegisteredModel queryset to what `user` may read, in SQL (paging stays right)."""
    if reads_everything(user):
        return queryset
    return get_objects_for_user(
        user,
        [level.codename for level in GRANTABLE],
        klass=queryset,
        any_perm=True,
        with_superuser=True,
        accept_global_perms=False,
    )
