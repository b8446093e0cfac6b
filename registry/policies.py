"""The registry's rules on who may do what, turning accounts.policies' decisions into errors.

A model the caller cannot read answers exactly as a missing one (404), so names do not leak;
a model the caller can read but not change answers PERMISSION_DENIED naming the level needed.
"""

from accounts import policies as access
from accounts.levels import Level
from audit.errors import InvalidParameterValue, PermissionDenied, model_not_found

from . import stages


def can_read(user, model):
    return access.has_level(user, model, Level.CAN_READ)


def require_read(ctx_or_user, model):
    user = getattr(ctx_or_user, "user", ctx_or_user)
    if not can_read(user, model):
        raise model_not_found(model.name)


def require_level(ctx, model, needed, doing):
    """Raise unless ctx.user holds `needed` on `model`."""
    if access.has_level(ctx.user, model, needed):
        return
    require_read(ctx, model)
    have = access.effective_level(ctx.user, model)
    raise PermissionDenied(
        f"Permission denied: {doing} on registered model '{model.name}' requires {needed.name} "
        f"(you have {have.name})."
    )


def transition_level(from_stage, to_stage):
    """The level a move between two stages needs (registry/stages.py says which)."""
    return stages.transition_level(from_stage, to_stage)


# Rules other apps add on top of the levels (workflows adds stage and alias policies). The
# registry cannot import them, so they register here from their AppConfig.ready().
_transition_rules = []
_alias_rules = []
_stage_delete_rules = []


def add_transition_rule(rule):
    """rule(ctx, model, version, from_stage, to_stage) raises to refuse a direct transition."""
    if rule not in _transition_rules:
        _transition_rules.append(rule)


def add_alias_rule(rule):
    """rule(ctx, model, alias) raises to refuse moving or deleting an alias directly."""
    if rule not in _alias_rules:
        _alias_rules.append(rule)


def add_stage_delete_rule(rule):
    """rule(ctx, stage_name) raises while something of its app still uses the stage."""
    if rule not in _stage_delete_rules:
        _stage_delete_rules.append(rule)


def require_stage_unused(ctx, name, versions_in_it):
    if versions_in_it:
        raise InvalidParameterValue(
            f"Stage '{name}' cannot be deleted: {versions_in_it} model version(s) are in it. "
            f"Move them to another stage first."
        )
    for rule in _stage_delete_rules:
        rule(ctx, name)


def require_transition(ctx, model, version, from_stage, to_stage):
    """A direct stage change: the level for the move, then the registered rules."""
    require_level(
        ctx, model, transition_level(from_stage, to_stage),
        f"moving a version from {from_stage} to {to_stage}",
    )
    for rule in _transition_rules:
        rule(ctx, model, version, from_stage, to_stage)


def require_alias_change(ctx, model, alias):
    for rule in _alias_rules:
        rule(ctx, model, alias)


def require_create_model(ctx):
    if not access.can_create_models(ctx.user):
        raise PermissionDenied(
            "Permission denied: creating registered models requires CAN_CREATE_REGISTERED_MODEL "
            "on the registry (root)."
        )


def is_registry_admin(user):
    """Registry admins are active superusers; the system (no user) acts as one."""
    return user is None or (user.is_active and user.is_superuser)


def require_registry_admin(ctx, doing):
    if not is_registry_admin(ctx.user):
        raise PermissionDenied(f"Permission denied: {doing} requires a registry admin.")


def require_may_take_deleted_name(ctx, tombstone):
    """Taking a deleted model's name (creating or renaming onto it) needs CAN_MANAGE on the
    deleted model as it was when deleted, or a registry admin: whoever takes the name serves
    every consumer still loading `models:/<name>@...`."""
    user = ctx.user
    if is_registry_admin(user):
        return
    if tombstone.managers.filter(pk=user.pk).exists() or tombstone.manager_teams.filter(user=user).exists():
        return
    raise PermissionDenied(
        f"Permission denied: a registered model named '{tombstone.name}' was deleted (or renamed "
        "away); taking its name again requires CAN_MANAGE on that model (held when it left the "
        "name) or a registry admin, so nobody else can serve what its consumers load."
    )
