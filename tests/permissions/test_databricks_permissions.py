"""The Databricks permissions API through the real databricks-sdk against a live Modelgate:
the model's id and the caller's level, permission levels, PUT (replace all direct grants),
PATCH (merge), GET, the registry-wide ACL ("root"), denials, and one activity per change that
names who granted what to whom."""

import pytest
from databricks.sdk import errors as sdk_errors
from databricks.sdk.service import iam, ml
from django.contrib.auth.models import Group

from accounts import policies as access
from accounts.levels import DESCRIPTIONS, Level
from accounts.models import User
from audit import events
from audit.models import Activity
from tests.conftest import last_seq

pytestmark = pytest.mark.e2e


def model_acl(*entries):
    """[(kind, name, level)] -> the SDK's request objects for a model ACL."""
    return [
        ml.RegisteredModelAccessControlRequest(
            **{kind: name}, permission_level=ml.RegisteredModelPermissionLevel(level)
        )
        for kind, name, level in entries
    ]


def direct(permissions):
    """{principal: level} of the grants made on the object itself (not inherited)."""
    found = {}
    for entry in permissions.access_control_list:
        name = entry.user_name or entry.group_name or entry.service_principal_name
        for perm in entry.all_permissions:
            if not perm.inherited:
                found[name] = perm.permission_level.value
    return found


def inherited(permissions):
    found = {}
    for entry in permissions.access_control_list:
        name = entry.user_name or entry.group_name or entry.service_principal_name
        for perm in entry.all_permissions:
            if perm.inherited:
                found[name] = (perm.permission_level.value, perm.inherited_from_object)
    return found


def permission_activities(after_seq=0):
    return list(
        Activity.objects.filter(
            event__in=[events.MODEL_PERMISSIONS_CHANGED, events.REGISTRY_PERMISSIONS_CHANGED],
            seq__gt=after_seq,
        ).order_by("seq")
    )


def entries(acl):
    """An ACL (a list, or an activity's {"access_control_list": [...]}) as a set of entries."""
    if isinstance(acl, dict):
        acl = acl["access_control_list"]
    return {frozenset(entry.items()) for entry in acl}


def level_of(user, model):
    return access.effective_level(User.objects.get(pk=user.pk), model)


@pytest.fixture
def team(reviewer):
    group = Group.objects.create(name="risk-team")
    reviewer.groups.add(group)
    return group


def test_get_model_gives_the_id_and_the_callers_own_level(
    no_default_level, build, grant, owner, reviewer, workspace_as
):
    model = build("fraud")
    grant(model, reviewer, level="CAN_MANAGE_STAGING_VERSIONS")

    as_owner = workspace_as(owner).model_registry.get_model("fraud").registered_model_databricks
    as_reviewer = workspace_as(reviewer).model_registry.get_model("fraud").registered_model_databricks

    assert (as_owner.id, as_owner.name) == (model.uid, "fraud")
    assert as_owner.permission_level is ml.PermissionLevel.CAN_MANAGE
    assert as_reviewer.id == model.uid
    assert as_reviewer.permission_level is ml.PermissionLevel.CAN_MANAGE_STAGING_VERSIONS
    assert [v.version for v in as_reviewer.latest_versions] == ["1"]


def test_permission_levels_of_a_model_and_of_the_registry(no_default_level, build, owner, admin_user,
                                                          workspace_as):
    model = build("fraud")
    on_model = workspace_as(owner).model_registry.get_permission_levels(model.uid)
    # The SDK's enums have no CAN_CREATE_REGISTERED_MODEL (it parses as None): read it raw.
    on_root = workspace_as(admin_user).api_client.do(
        "GET", "/api/2.0/permissions/registered-models/root/permissionLevels"
    )

    assert [(p.permission_level.value, p.description) for p in on_model.permission_levels] == [
        (lv.name, DESCRIPTIONS[lv.name]) for lv in list(Level)[1:]
    ]
    assert [p["permission_level"] for p in on_root["permission_levels"]] == [
        *(lv.name for lv in list(Level)[1:]), "CAN_CREATE_REGISTERED_MODEL"
    ]


def test_set_replaces_every_direct_grant_and_update_merges(
    no_default_level, build, grant, owner, reviewer, outsider, ci_bot, team, admin_user, workspace_as
):
    model = build("fraud")
    grant(model, reviewer, level="CAN_EDIT")
    registry = workspace_as(owner).model_registry
    seq_before = last_seq()

    # PATCH merges: adds the team and the bot, changes the reviewer, keeps the owner.
    patched = registry.update_permissions(model.uid, access_control_list=model_acl(
        ("group_name", "risk-team", "CAN_READ"),
        ("service_principal_name", "ci-bot", "CAN_MANAGE_PRODUCTION_VERSIONS"),
        ("user_name", "reviewer", "CAN_MANAGE_STAGING_VERSIONS"),
    ))
    assert direct(patched) == {
        "owner": "CAN_MANAGE", "reviewer": "CAN_MANAGE_STAGING_VERSIONS", "risk-team": "CAN_READ",
        "ci-bot": "CAN_MANAGE_PRODUCTION_VERSIONS",
    }
    assert patched.object_id == f"/registered-models/{model.uid}"
    assert patched.object_type == "registered-model"
    # Registry admins hold CAN_MANAGE on every model, inherited from the root.
    assert inherited(patched) == {"admin": ("CAN_MANAGE", ["/registered-models/"])}

    # PUT replaces all direct grants: whoever is not listed loses theirs.
    replaced = registry.set_permissions(model.uid, access_control_list=model_acl(
        ("user_name", "owner", "CAN_MANAGE"), ("user_name", "outsider", "CAN_EDIT"),
    ))
    assert direct(replaced) == {"owner": "CAN_MANAGE", "outsider": "CAN_EDIT"}
    assert direct(registry.get_permissions(model.uid)) == direct(replaced)
    assert level_of(reviewer, model) is Level.NONE
    assert level_of(ci_bot, model) is Level.NONE
    assert level_of(outsider, model) is Level.CAN_EDIT

    # One activity per change, naming who granted what to whom, before and after.
    patch_row, put_row = permission_activities(after_seq=seq_before)
    assert (patch_row.event, patch_row.actor, patch_row.model_uid, patch_row.target) == (
        events.MODEL_PERMISSIONS_CHANGED, "owner", model.uid, "update"
    )
    assert patch_row.before == {"access_control_list": [
        {"permission_level": "CAN_EDIT", "user_name": "reviewer"},
        {"permission_level": "CAN_MANAGE", "user_name": "owner"},
    ]}
    assert entries(patch_row.after) == entries([
        {"permission_level": "CAN_MANAGE", "user_name": "owner"},
        {"permission_level": "CAN_MANAGE_STAGING_VERSIONS", "user_name": "reviewer"},
        {"permission_level": "CAN_READ", "group_name": "risk-team"},
        {"permission_level": "CAN_MANAGE_PRODUCTION_VERSIONS", "service_principal_name": "ci-bot"},
    ])
    assert (put_row.event, put_row.actor, put_row.target) == (
        events.MODEL_PERMISSIONS_CHANGED, "owner", "replace"
    )
    assert put_row.before == patch_row.after
    assert entries(put_row.after) == entries([
        {"permission_level": "CAN_MANAGE", "user_name": "owner"},
        {"permission_level": "CAN_EDIT", "user_name": "outsider"},
    ])


def test_a_manager_who_replaces_the_acl_without_themselves_gets_the_new_acl(
    no_default_level, build, grant, owner, reviewer, workspace_as
):
    model = build("fraud")
    grant(model, reviewer, level="CAN_MANAGE")

    replaced = workspace_as(reviewer).model_registry.set_permissions(
        model.uid, access_control_list=model_acl(("user_name", "owner", "CAN_MANAGE"))
    )

    assert direct(replaced) == {"owner": "CAN_MANAGE"}
    assert level_of(reviewer, model) is Level.NONE
    assert len(permission_activities()) == 2  # the fixture's grant, and this one


def test_non_managers_cannot_change_a_models_permissions(
    no_default_level, build, grant, reviewer, outsider, workspace_as
):
    model = build("fraud")
    grant(model, reviewer, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    changes_before = len(permission_activities())
    acl = model_acl(("user_name", "outsider", "CAN_MANAGE"))

    with pytest.raises(sdk_errors.PermissionDenied) as denied:
        workspace_as(reviewer).model_registry.set_permissions(model.uid, access_control_list=acl)
    assert "requires CAN_MANAGE" in str(denied.value)
    with pytest.raises(sdk_errors.PermissionDenied):
        workspace_as(reviewer).model_registry.update_permissions(model.uid, access_control_list=acl)
    # Without even read access the model does not exist, for reading and for writing.
    with pytest.raises(sdk_errors.ResourceDoesNotExist):
        workspace_as(outsider).model_registry.update_permissions(model.uid, access_control_list=acl)
    with pytest.raises(sdk_errors.ResourceDoesNotExist):
        workspace_as(outsider).model_registry.get_permissions(model.uid)
    with pytest.raises(sdk_errors.ResourceDoesNotExist):
        workspace_as(outsider).model_registry.get_model("fraud")

    assert len(permission_activities()) == changes_before
    assert level_of(outsider, model) is Level.NONE


def test_registry_admin_reads_and_replaces_the_root_acl(
    no_default_level, build, owner, reviewer, ci_bot, team, admin_user, workspace_as
):
    model = build("fraud")
    w = workspace_as(admin_user)

    root = w.permissions.get("registered-models", "root")
    assert root.object_id == "/registered-models/"
    assert {e.user_name: [p.permission_level.value for p in e.all_permissions]
            for e in root.access_control_list} == {"admin": ["CAN_MANAGE"]}

    w.permissions.update("registered-models", "root", access_control_list=[
        iam.AccessControlRequest(user_name="owner", permission_level=iam.PermissionLevel.CAN_MANAGE),
    ])
    replaced = w.permissions.set("registered-models", "root", access_control_list=[
        iam.AccessControlRequest(
            service_principal_name="ci-bot", permission_level=iam.PermissionLevel.CAN_READ
        ),
        iam.AccessControlRequest(group_name="risk-team", permission_level=iam.PermissionLevel.CAN_EDIT),
    ])
    levels = {
        (e.user_name or e.group_name or e.service_principal_name):
            sorted(p.permission_level.value for p in e.all_permissions)
        for e in replaced.access_control_list
    }
    assert levels == {
        "admin": ["CAN_MANAGE"], "ci-bot": ["CAN_READ"], "risk-team": ["CAN_EDIT"],
    }
    # The root grant reaches every model, shown there as inherited from the root.
    assert level_of(ci_bot, model) is Level.CAN_READ
    on_model = workspace_as(owner).model_registry.get_permissions(model.uid)
    assert inherited(on_model)["ci-bot"] == ("CAN_READ", ["/registered-models/"])
    # PUT replaced the owner's root CAN_MANAGE; their own grant on the model stays.
    assert access.registry_wide_level(User.objects.get(pk=owner.pk)) is Level.NONE
    assert level_of(owner, model) is Level.CAN_MANAGE

    update_row, set_row = [
        a for a in permission_activities() if a.event == events.REGISTRY_PERMISSIONS_CHANGED
    ]
    assert (update_row.actor, update_row.target, update_row.model_uid) == ("admin", "update", "")
    assert update_row.before == {"access_control_list": []}
    assert update_row.after == {"access_control_list": [
        {"permission_level": "CAN_MANAGE", "user_name": "owner"},
    ]}
    assert (set_row.actor, set_row.target) == ("admin", "replace")
    assert set_row.before == update_row.after
    assert entries(set_row.after) == entries([
        {"permission_level": "CAN_READ", "service_principal_name": "ci-bot"},
        {"permission_level": "CAN_EDIT", "group_name": "risk-team"},
    ])


def test_only_registry_admins_change_the_root_acl(no_default_level, grant_root, reviewer, workspace_as):
    grant_root(reviewer, "CAN_MANAGE")
    changes_before = len(permission_activities())
    acl = [iam.AccessControlRequest(user_name="reviewer", permission_level=iam.PermissionLevel.CAN_MANAGE)]

    with pytest.raises(sdk_errors.PermissionDenied):
        workspace_as(reviewer).permissions.set("registered-models", "root", access_control_list=acl)
    with pytest.raises(sdk_errors.PermissionDenied):
        workspace_as(reviewer).permissions.update("registered-models", "root", access_control_list=acl)
    assert len(permission_activities()) == changes_before


def test_a_bad_acl_is_refused_and_changes_nothing(no_default_level, build, owner, workspace_as):
    model = build("fraud")
    changes_before = len(permission_activities())
    registry = workspace_as(owner).model_registry

    with pytest.raises(sdk_errors.InvalidParameterValue, match="does not exist"):
        registry.update_permissions(model.uid, access_control_list=model_acl(
            ("user_name", "nobody", "CAN_READ")
        ))
    # The registry-wide create right cannot be granted on one model (the SDK has no enum
    # value for it, so the body goes raw).
    with pytest.raises(sdk_errors.InvalidParameterValue, match="registry-wide"):
        workspace_as(owner).api_client.do(
            "PATCH", f"/api/2.0/permissions/registered-models/{model.uid}",
            body={"access_control_list": [
                {"user_name": "owner", "permission_level": "CAN_CREATE_REGISTERED_MODEL"}
            ]},
        )
    assert direct(registry.get_permissions(model.uid)) == {"owner": "CAN_MANAGE"}
    assert len(permission_activities()) == changes_before
