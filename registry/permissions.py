"""Reading and writing access-control lists (grants of levels to users and teams), on one
registered model or registry-wide ("root"). Writes are called only from registry.actions."""

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from accounts.levels import CREATE_MODELS, CREATE_MODELS_CODENAME, GRANTABLE, Level
from accounts.models import User
from audit.errors import InvalidParameterValue

from .models import RegisteredModel

ROOT_OBJECT_ID = "/registered-models/"
PRINCIPAL_KEYS = ("user_name", "group_name", "service_principal_name")


@dataclass(frozen=True)
class Grant:
    principal: object  # a User or a Group
    level: str  # a Level name, or CAN_CREATE_REGISTERED_MODEL (root only)

    @property
    def key(self):
        return (type(self.principal).__name__, self.principal.pk)


def _level_codenames():
    return [level.codename for level in GRANTABLE]


def _permissions(codenames):
    content_type = ContentType.objects.get_for_model(RegisteredModel)
    return Permission.objects.filter(content_type=content_type, codename__in=codenames)


def parse_acl(entries, *, root):
    """Validate an access_control_list of the Databricks permissions API into Grants."""
    if not isinstance(entries, list):
        raise InvalidParameterValue("access_control_list must be a list.")
    grants = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise InvalidParameterValue("Each access control entry must be an object.")
        named = [k for k in PRINCIPAL_KEYS if entry.get(k)]
        if len(named) != 1:
            raise InvalidParameterValue(
                "Each access control entry needs exactly one of user_name, group_name or "
                "service_principal_name."
            )
        key = named[0]
        name = entry[key]
        level_name = str(entry.get("permission_level") or "").upper()
        if level_name == CREATE_MODELS:
            if not root:
                raise InvalidParameterValue(
                    f"{CREATE_MODELS} can only be granted registry-wide (root)."
                )
        elif Level.parse(level_name) is None:
            raise InvalidParameterValue(
                f"Invalid permission_level '{entry.get('permission_level')}'; expected one of "
                f"{', '.join(level.name for level in GRANTABLE)}"
                + (f", {CREATE_MODELS}." if root else ".")
            )
        if key == "group_name":
            principal = Group.objects.filter(name=name).first()
        else:
            principal = User.objects.filter(
                username=name, is_service_account=(key == "service_principal_name")
            ).first()
        if principal is None:
            kind = {"user_name": "User", "group_name": "Group",
                    "service_principal_name": "Service principal"}[key]
            raise InvalidParameterValue(f"{kind} '{name}' does not exist.")
        grants.append(Grant(principal, level_name))
    return grants


def model_grants(model):
    """Direct grants on a model: [Grant], one per principal (its highest level)."""
    codenames = _level_codenames()
    best = {}
    user_rows = UserObjectPermission.objects.filter(
        content_type=ContentType.objects.get_for_model(RegisteredModel),
        object_pk=str(model.pk), permission__codename__in=codenames,
    ).select_related("user", "permission")
    group_rows = GroupObjectPermission.objects.filter(
        content_type=ContentType.objects.get_for_model(RegisteredModel),
        object_pk=str(model.pk), permission__codename__in=codenames,
    ).select_related("group", "permission")
    for principal, codename in [(r.user, r.permission.codename) for r in user_rows] + [
        (r.group, r.permission.codename) for r in group_rows
    ]:
        level = Level[codename.upper()]
        grant = Grant(principal, level.name)
        if grant.key not in best or Level[best[grant.key].level] < level:
            best[grant.key] = grant
    return list(best.values())


def root_grants():
    """Registry-wide grants: [Grant] (a principal may hold a level and the create right)."""
    grants = []
    for perm in _permissions([*_level_codenames(), CREATE_MODELS_CODENAME]).prefetch_related(
        "user_set", "group_set"
    ):
        level = CREATE_MODELS if perm.codename == CREATE_MODELS_CODENAME else perm.codename.upper()
        grants += [Grant(user, level) for user in perm.user_set.all()]
        grants += [Grant(group, level) for group in perm.group_set.all()]
    return grants


def managers(model):
    """(users, teams) holding CAN_MANAGE on `model`, directly or registry-wide."""
    grants = [g for g in model_grants(model) + root_grants() if g.level == Level.CAN_MANAGE.name]
    return (
        [g.principal for g in grants if isinstance(g.principal, User)],
        [g.principal for g in grants if isinstance(g.principal, Group)],
    )


def lock_root():
    """Serialise registry-wide changes: lock the level permission rows themselves."""
    list(_permissions([*_level_codenames(), CREATE_MODELS_CODENAME]).select_for_update())


def forget_model(model):
    content_type = ContentType.objects.get_for_model(RegisteredModel)
    for rows in (UserObjectPermission.objects, GroupObjectPermission.objects):
        rows.filter(content_type=content_type, object_pk=str(model.pk)).delete()


def _revoke_model(principal, model):
    for codename in _level_codenames():
        remove_perm(codename, principal, model)


def grant_to_creator(user, model):
    """CAN_MANAGE on a model just created, for who created it: one insert. (guardian's
    assign_perm first looks for the grant, with a savepoint, which a new model cannot have;
    that was a quarter of a model's creation. Its save() reads the model and the content type
    back to check them: bulk_create inserts without it.)"""
    permission = _permissions([Level.CAN_MANAGE.codename]).get()
    UserObjectPermission.objects.bulk_create([UserObjectPermission(
        permission=permission, content_type_id=permission.content_type_id, object_pk=str(model.pk), user=user,
    )])


def apply_model_grants(model, grants, *, replace):
    if replace:
        content_type = ContentType.objects.get_for_model(RegisteredModel)
        for rows in (UserObjectPermission.objects, GroupObjectPermission.objects):
            rows.filter(
                content_type=content_type, object_pk=str(model.pk),
                permission__codename__in=_level_codenames(),
            ).delete()
    for grant in grants:
        if not replace:
            _revoke_model(grant.principal, model)
        assign_perm(Level[grant.level].codename, grant.principal, model)


def _root_perm_set(principal):
    return principal.user_permissions if isinstance(principal, User) else principal.permissions


def apply_root_grants(grants, *, replace):
    level_perms = list(_permissions(_level_codenames()))
    create_perm = _permissions([CREATE_MODELS_CODENAME]).get()
    if replace:
        for perm in [*level_perms, create_perm]:
            perm.user_set.clear()
            perm.group_set.clear()
    for grant in grants:
        perms = _root_perm_set(grant.principal)
        if grant.level == CREATE_MODELS:
            perms.add(create_perm)
            continue
        if not replace:
            perms.remove(*level_perms)
        perms.add(next(p for p in level_perms if p.codename == Level[grant.level].codename))


def acl_snapshot(grants):
    """A stable, JSON-able view of grants for the activity log."""
    return sorted(
        (
            {
                ("group_name" if isinstance(g.principal, Group) else
                 "service_principal_name" if g.principal.is_service_account else "user_name"):
                    g.principal.name if isinstance(g.principal, Group) else g.principal.username,
                "permission_level": g.level,
            }
            for g in grants
        ),
        key=lambda e: (sorted(e.items())),
    )
