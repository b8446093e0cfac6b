"""The ability matrix of the Databricks model ACL docs (reference §4.3): one case per ability
and level.

The registry's default level is NONE here, so each column means exactly that level (granted
directly on the model) and the first column means no grant at all. A caller below the needed
level gets PERMISSION_DENIED naming the needed level, unless it cannot even read the model:
then the model answers RESOURCE_DOES_NOT_EXIST as if it did not exist, and searches and lists
leave it out. A denied call changes nothing.

Two passes:
- the full matrix over HTTP (the Django test client speaking the wire format, every endpoint),
  fast because each case rolls back;
- the same rules through the real clients (mlflow's MlflowClient, databricks-sdk's
  WorkspaceClient) against a live server, for one ability per needed level plus the
  Databricks-only calls, at each level that decides the outcome (no grant, the level just below
  the needed one, the needed one). A live-server case costs a database flush (~0.5 s), so the
  full matrix through real clients took about three minutes.

Not covered, because not built yet: requesting a stage transition, approving/rejecting one,
cancelling one (the transition-request rows of the table), and the Databricks-only
databricks/model-versions/transition-stage path.
"""

from dataclasses import dataclass
from typing import Callable

import pytest
from databricks.sdk.errors import DatabricksError
from databricks.sdk.service import iam, ml
from guardian.models import GroupObjectPermission, UserObjectPermission
from mlflow.exceptions import MlflowException

from accounts import policies as access
from accounts.levels import CREATE_MODELS, Level
from accounts.models import User
from audit.models import Activity
from registry import permissions
from registry.models import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)

from .conftest import SOURCE

ALLOWED = "allowed"
HIDDEN = "hidden"  # a search or list that simply leaves the model out
NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
DENIED = "PERMISSION_DENIED"
STATUS = {NOT_FOUND: 404, DENIED: 403}

LEVELS = list(Level)  # NONE (no grant) first, then every grantable level
ROOT_LEVELS = [*LEVELS, CREATE_MODELS]

# The model every case starts from: four versions, one per stage, tags and an alias.
STATE = dict(
    stages=("None", "Staging", "Production", "Archived"),
    model_tags={"team": "risk"},
    version_tags={"k": "v"},
    aliases={"champion": 1},
)


def expected_outcome(needed, level, listing=False):
    if level >= needed:
        return ALLOWED
    if level is Level.NONE:
        return HIDDEN if listing else NOT_FOUND
    return DENIED


def registry_rows():
    """Everything a registry write may change, for "a denied call changes nothing". The
    activity of tokens issued to the test's callers along the way is not the call's doing."""
    return [
        list(table.objects.order_by("pk").values())
        for table in (
            RegisteredModel, ModelVersion, RegisteredModelTag, ModelVersionTag,
            RegisteredModelAlias, UserObjectPermission, GroupObjectPermission,
        )
    ] + [list(Activity.objects.exclude(event__startswith="api_token.").order_by("pk").values())]


def level_of(user, model):
    return access.effective_level(User.objects.get(pk=user.pk), model)


# What an allowed call must have done, read back from the database.

def stage_of(model, number):
    return ModelVersion.objects.get(model=model, version=number).current_stage


def stages(**expected):
    return lambda model: {k: stage_of(model, int(k[1:])) for k in expected} == expected


def model_tags(model):
    return dict(RegisteredModelTag.objects.filter(model=model).values_list("key", "value"))


def version_tags(model):
    return dict(
        ModelVersionTag.objects.filter(version__model=model, version__version=1)
        .values_list("key", "value")
    )


def aliases(model):
    return dict(
        RegisteredModelAlias.objects.filter(model=model).values_list("alias", "version__version")
    )


def live_versions(model):
    return sorted(ModelVersion.objects.live().filter(model=model).values_list("version", flat=True))


def direct_grants(model):
    return {
        g.principal.username: g.level for g in permissions.model_grants(model)
        if isinstance(g.principal, User)
    }


# The full matrix over HTTP ------------------------------------------------------------------


@dataclass
class Call:
    """One ability as the wire sees it. Paths are under /api/2.0/; `body` may use the model."""

    id: str
    needed: Level
    method: str
    path: str
    body: Callable  # model -> dict (query for GET, JSON otherwise)
    check: Callable  # (response json, model, level) -> bool: did it do what it says?
    listing: Callable = None  # response json -> names listed (searches and lists)


def _models(body):
    return [m["name"] for m in body.get("registered_models", [])]


NAME = {"name": "fraud"}
V1 = {"name": "fraud", "version": "1"}

HTTP_ABILITIES = [
    # View model details and versions, and use the versions: CAN_READ.
    Call("get registered model", Level.CAN_READ, "GET", "mlflow/registered-models/get",
         lambda m: NAME,
         lambda r, m, lv: r["registered_model"]["name"] == "fraud"
         and len(r["registered_model"]["latest_versions"]) == 4),
    Call("get model version", Level.CAN_READ, "GET", "mlflow/model-versions/get",
         lambda m: {"name": "fraud", "version": "2"},
         lambda r, m, lv: r["model_version"]["current_stage"] == "Staging"),
    Call("get latest versions", Level.CAN_READ, "POST", "mlflow/registered-models/get-latest-versions",
         lambda m: {"name": "fraud", "stages": ["Production"]},
         lambda r, m, lv: [v["version"] for v in r["model_versions"]] == ["3"]),
    Call("get version by alias", Level.CAN_READ, "GET", "mlflow/registered-models/alias",
         lambda m: {"name": "fraud", "alias": "champion"},
         lambda r, m, lv: r["model_version"]["version"] == "1"),
    Call("get download uri", Level.CAN_READ, "GET", "mlflow/model-versions/get-download-uri",
         lambda m: V1,
         lambda r, m, lv: r["artifact_uri"] == f"{SOURCE}/1"),
    Call("search registered models", Level.CAN_READ, "GET", "mlflow/registered-models/search",
         lambda m: {},
         lambda r, m, lv: _models(r) == ["fraud"],
         listing=_models),
    Call("search model versions", Level.CAN_READ, "GET", "mlflow/model-versions/search",
         lambda m: {"filter": "name='fraud'"},
         lambda r, m, lv: sorted(v["version"] for v in r["model_versions"]) == ["1", "2", "3", "4"],
         listing=lambda r: [v["name"] for v in r.get("model_versions", [])]),
    Call("list models (databricks)", Level.CAN_READ, "GET", "mlflow/registered-models/list",
         lambda m: {},
         lambda r, m, lv: _models(r) == ["fraud"],
         listing=_models),
    Call("get model with id and level (databricks)", Level.CAN_READ, "GET",
         "mlflow/databricks/registered-models/get",
         lambda m: NAME,
         lambda r, m, lv: (r["registered_model_databricks"]["id"],
                           r["registered_model_databricks"]["permission_level"]) == (m.uid, lv.name)),
    Call("get permissions", Level.CAN_READ, "GET", "permissions/registered-models/{uid}",
         lambda m: {},
         lambda r, m, lv: r["object_id"] == f"/registered-models/{m.uid}"),
    Call("get permission levels", Level.CAN_READ, "GET",
         "permissions/registered-models/{uid}/permissionLevels",
         lambda m: {},
         lambda r, m, lv: [p["permission_level"] for p in r["permission_levels"]]
         == [lv.name for lv in LEVELS[1:]]),
    # Add versions; edit descriptions, tags and aliases: CAN_EDIT.
    Call("create model version", Level.CAN_EDIT, "POST", "mlflow/model-versions/create",
         lambda m: {"name": "fraud", "source": f"{SOURCE}/5"},
         lambda r, m, lv: r["model_version"]["version"] == "5" and live_versions(m) == [1, 2, 3, 4, 5]),
    Call("update model description", Level.CAN_EDIT, "PATCH", "mlflow/registered-models/update",
         lambda m: {"name": "fraud", "description": "edited"},
         lambda r, m, lv: RegisteredModel.objects.get(pk=m.pk).description == "edited"),
    Call("update version description", Level.CAN_EDIT, "PATCH", "mlflow/model-versions/update",
         lambda m: {**V1, "description": "edited"},
         lambda r, m, lv: ModelVersion.objects.get(model=m, version=1).description == "edited"),
    Call("set model tag", Level.CAN_EDIT, "POST", "mlflow/registered-models/set-tag",
         lambda m: {"name": "fraud", "key": "tier", "value": "gold"},
         lambda r, m, lv: model_tags(m) == {"team": "risk", "tier": "gold"}),
    Call("delete model tag", Level.CAN_EDIT, "DELETE", "mlflow/registered-models/delete-tag",
         lambda m: {"name": "fraud", "key": "team"},
         lambda r, m, lv: model_tags(m) == {}),
    Call("set version tag", Level.CAN_EDIT, "POST", "mlflow/model-versions/set-tag",
         lambda m: {**V1, "key": "tier", "value": "gold"},
         lambda r, m, lv: version_tags(m) == {"k": "v", "tier": "gold"}),
    Call("delete version tag", Level.CAN_EDIT, "DELETE", "mlflow/model-versions/delete-tag",
         lambda m: {**V1, "key": "k"},
         lambda r, m, lv: version_tags(m) == {}),
    Call("set alias", Level.CAN_EDIT, "POST", "mlflow/registered-models/alias",
         lambda m: {"name": "fraud", "alias": "challenger", "version": "2"},
         lambda r, m, lv: aliases(m) == {"champion": 1, "challenger": 2}),
    Call("delete alias", Level.CAN_EDIT, "DELETE", "mlflow/registered-models/alias",
         lambda m: {"name": "fraud", "alias": "champion"},
         lambda r, m, lv: aliases(m) == {}),
    # Stage transitions among None/Staging/Archived: CAN_MANAGE_STAGING_VERSIONS.
    Call("transition None to Staging", Level.CAN_MANAGE_STAGING_VERSIONS, "POST",
         "mlflow/model-versions/transition-stage",
         lambda m: {**V1, "stage": "Staging"},
         lambda r, m, lv: stages(v1="Staging", v2="Staging")(m)),
    Call("transition Staging to Archived", Level.CAN_MANAGE_STAGING_VERSIONS, "POST",
         "mlflow/model-versions/transition-stage",
         lambda m: {"name": "fraud", "version": "2", "stage": "Archived"},
         lambda r, m, lv: stages(v2="Archived")(m)),
    Call("transition Archived to None", Level.CAN_MANAGE_STAGING_VERSIONS, "POST",
         "mlflow/model-versions/transition-stage",
         lambda m: {"name": "fraud", "version": "4", "stage": "None"},
         lambda r, m, lv: stages(v4="None")(m)),
    Call("transition Staging to Staging archiving the others", Level.CAN_MANAGE_STAGING_VERSIONS,
         "POST", "mlflow/model-versions/transition-stage",
         lambda m: {**V1, "stage": "Staging", "archive_existing_versions": True},
         lambda r, m, lv: stages(v1="Staging", v2="Archived", v3="Production")(m)),
    # Any transition touching Production: CAN_MANAGE_PRODUCTION_VERSIONS.
    Call("transition None to Production", Level.CAN_MANAGE_PRODUCTION_VERSIONS, "POST",
         "mlflow/model-versions/transition-stage",
         lambda m: {**V1, "stage": "Production"},
         lambda r, m, lv: stages(v1="Production", v3="Production")(m)),
    Call("transition Production to Archived", Level.CAN_MANAGE_PRODUCTION_VERSIONS, "POST",
         "mlflow/model-versions/transition-stage",
         lambda m: {"name": "fraud", "version": "3", "stage": "Archived"},
         lambda r, m, lv: stages(v3="Archived")(m)),
    Call("transition Staging to Production archiving the old one",
         Level.CAN_MANAGE_PRODUCTION_VERSIONS, "POST", "mlflow/model-versions/transition-stage",
         lambda m: {"name": "fraud", "version": "2", "stage": "Production",
                    "archive_existing_versions": True},
         lambda r, m, lv: stages(v2="Production", v3="Archived")(m)),
    # Rename, delete, modify permissions: CAN_MANAGE.
    Call("rename model", Level.CAN_MANAGE, "POST", "mlflow/registered-models/rename",
         lambda m: {"name": "fraud", "new_name": "fraud-v2"},
         lambda r, m, lv: RegisteredModel.objects.get(pk=m.pk).name == "fraud-v2"),
    Call("delete model", Level.CAN_MANAGE, "DELETE", "mlflow/registered-models/delete",
         lambda m: NAME,
         lambda r, m, lv: not RegisteredModel.objects.filter(pk=m.pk).exists()),
    Call("delete model version", Level.CAN_MANAGE, "DELETE", "mlflow/model-versions/delete",
         lambda m: {"name": "fraud", "version": "4"},
         lambda r, m, lv: live_versions(m) == [1, 2, 3]),
    Call("update permissions (PATCH)", Level.CAN_MANAGE, "PATCH", "permissions/registered-models/{uid}",
         lambda m: {"access_control_list": [{"user_name": "outsider", "permission_level": "CAN_EDIT"}]},
         lambda r, m, lv: direct_grants(m)
         == {"owner": "CAN_MANAGE", "reviewer": lv.name, "outsider": "CAN_EDIT"}),
    Call("set permissions (PUT)", Level.CAN_MANAGE, "PUT", "permissions/registered-models/{uid}",
         lambda m: {"access_control_list": [
             {"user_name": "reviewer", "permission_level": "CAN_MANAGE"},
             {"user_name": "outsider", "permission_level": "CAN_READ"}]},
         lambda r, m, lv: direct_grants(m) == {"reviewer": "CAN_MANAGE", "outsider": "CAN_READ"}),
]


@pytest.mark.parametrize("level", LEVELS, ids=[lv.name for lv in LEVELS])
@pytest.mark.parametrize("ability", HTTP_ABILITIES, ids=[a.id.replace(" ", "-") for a in HTTP_ABILITIES])
def test_ability_matrix(ability, level, no_default_level, build, grant, reviewer, outsider, api_as):
    model = build("fraud", **STATE)
    if level is not Level.NONE:
        grant(model, reviewer, level=level.name)
    assert level_of(reviewer, model) is level
    api = api_as(reviewer, prefix="/api/2.0/")
    before = registry_rows()

    response = api.call(ability.method, ability.path.format(uid=model.uid), ability.body(model))
    body = response.json_body
    outcome = ALLOWED if response.status_code == 200 else body.get("error_code")
    if ability.listing is not None and outcome == ALLOWED and not ability.listing(body):
        outcome = HIDDEN

    assert outcome == expected_outcome(ability.needed, level, ability.listing is not None), body
    if outcome == ALLOWED:
        assert ability.check(body, model, level), body
        return
    if outcome in STATUS:
        assert response.status_code == STATUS[outcome]
    if outcome == DENIED:
        # The error names the level the caller would need, and the one they have.
        assert f"requires {ability.needed.name} (you have {level.name})" in body["message"], body
    assert registry_rows() == before


def test_matrix_covers_every_ability_row_at_every_level():
    needed = {a.needed for a in HTTP_ABILITIES}
    assert needed == set(LEVELS[1:])
    assert len(HTTP_ABILITIES) * len(LEVELS) == 32 * 6


# Creating models, and changing registry-wide permissions: root abilities ---------------------


def _root_name(level):
    return level if isinstance(level, str) else level.name


@pytest.mark.parametrize("root_level", ROOT_LEVELS, ids=[_root_name(lv) for lv in ROOT_LEVELS])
def test_create_model_needs_root_create_or_manage_when_not_open_to_all(
    root_level, no_default_level, grant_root, reviewer, api_as
):
    no_default_level.MODELGATE_DEFAULT_CAN_CREATE = False
    if root_level is not Level.NONE:
        grant_root(reviewer, _root_name(root_level))
    before = registry_rows()

    response = api_as(reviewer).post("registered-models/create", name="fraud")

    if _root_name(root_level) in {CREATE_MODELS, "CAN_MANAGE"}:
        assert response.status_code == 200, response.json_body
        # The creator manages what they create.
        assert level_of(reviewer, RegisteredModel.objects.get(name="fraud")) is Level.CAN_MANAGE
    else:
        assert response.status_code == 403, response.json_body
        assert response.json_body["error_code"] == DENIED
        assert CREATE_MODELS in response.json_body["message"]
        assert registry_rows() == before


def test_create_model_is_open_to_every_authenticated_user_by_default(no_default_level, reviewer, api_as):
    response = api_as(reviewer).post("registered-models/create", name="fraud")
    assert response.status_code == 200, response.json_body
    assert level_of(reviewer, RegisteredModel.objects.get(name="fraud")) is Level.CAN_MANAGE


ROOT_CHANGE = {"access_control_list": [{"user_name": "outsider", "permission_level": "CAN_MANAGE"}]}


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("root_level", ROOT_LEVELS, ids=[_root_name(lv) for lv in ROOT_LEVELS])
def test_root_permissions_change_needs_a_registry_admin(
    root_level, method, no_default_level, grant_root, build, reviewer, outsider, api_as
):
    # Not even CAN_MANAGE on every model (root) or on a model of one's own is enough.
    build("fraud")
    if root_level is not Level.NONE:
        grant_root(reviewer, _root_name(root_level))
    before = registry_rows()

    response = api_as(reviewer, prefix="/api/2.0/").call(
        method, "permissions/registered-models/root", ROOT_CHANGE
    )

    assert response.status_code == 403, response.json_body
    assert response.json_body["error_code"] == DENIED
    assert "registry admin" in response.json_body["message"]
    assert registry_rows() == before
    assert access.registry_wide_level(User.objects.get(pk=outsider.pk)) is Level.NONE


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_registry_admin_changes_root_permissions(method, no_default_level, admin_user, outsider, api_as):
    response = api_as(admin_user, prefix="/api/2.0/").call(
        method, "permissions/registered-models/root", ROOT_CHANGE
    )
    assert response.status_code == 200, response.json_body
    assert access.registry_wide_level(User.objects.get(pk=outsider.pk)) is Level.CAN_MANAGE


# The same rules through the real clients against a live server -------------------------------


class Clients:
    """The real clients as one principal, built on first use (each costs a round trip)."""

    def __init__(self, user, mlflow_as, workspace_as):
        self.user = user
        self._mlflow_as, self._workspace_as = mlflow_as, workspace_as
        self._mlflow = self._sdk = None

    @property
    def mlflow(self):
        if self._mlflow is None:
            self._mlflow = self._mlflow_as(self.user)
        return self._mlflow

    @property
    def sdk(self):
        if self._sdk is None:
            self._sdk = self._workspace_as(self.user)
        return self._sdk


def attempt(call):
    """Run a real-client call: (ALLOWED, result) or (error_code, the exception)."""
    try:
        return ALLOWED, call()
    except MlflowException as exc:
        return exc.error_code, exc
    except DatabricksError as exc:
        return exc.error_code, exc


@dataclass
class ClientAbility:
    id: str
    needed: Level
    act: Callable  # (clients, model) -> result
    check: Callable  # (result, model, level) -> bool
    listing: bool = False


def _sdk_acl(*entries):
    return [
        ml.RegisteredModelAccessControlRequest(
            user_name=user, permission_level=ml.RegisteredModelPermissionLevel(level)
        )
        for user, level in entries
    ]


CLIENT_ABILITIES = [
    ClientAbility(
        "mlflow get registered model", Level.CAN_READ,
        lambda c, m: c.mlflow.get_registered_model("fraud"),
        lambda r, m, lv: (r.name, r.tags, sorted(v.version for v in r.latest_versions))
        == ("fraud", {"team": "risk"}, ["1", "2", "3", "4"]),
    ),
    ClientAbility(
        "mlflow get version by alias", Level.CAN_READ,
        lambda c, m: c.mlflow.get_model_version_by_alias("fraud", "champion"),
        lambda r, m, lv: r.version == "1",
    ),
    ClientAbility(
        "mlflow search registered models", Level.CAN_READ,
        lambda c, m: [x.name for x in c.mlflow.search_registered_models()],
        lambda r, m, lv: r == ["fraud"],
        listing=True,
    ),
    ClientAbility(
        "sdk get model with id and level", Level.CAN_READ,
        lambda c, m: c.sdk.model_registry.get_model("fraud").registered_model_databricks,
        lambda r, m, lv: (r.id, r.permission_level.value) == (m.uid, lv.name),
    ),
    ClientAbility(
        "sdk get permission levels", Level.CAN_READ,
        lambda c, m: c.sdk.model_registry.get_permission_levels(m.uid),
        lambda r, m, lv: len(r.permission_levels) == 5,
    ),
    ClientAbility(
        "mlflow create model version", Level.CAN_EDIT,
        lambda c, m: c.mlflow.create_model_version("fraud", f"{SOURCE}/5"),
        lambda r, m, lv: r.version == "5" and live_versions(m) == [1, 2, 3, 4, 5],
    ),
    ClientAbility(
        "mlflow set model tag", Level.CAN_EDIT,
        lambda c, m: c.mlflow.set_registered_model_tag("fraud", "tier", "gold"),
        lambda r, m, lv: model_tags(m) == {"team": "risk", "tier": "gold"},
    ),
    ClientAbility(
        "mlflow transition None to Staging", Level.CAN_MANAGE_STAGING_VERSIONS,
        lambda c, m: c.mlflow.transition_model_version_stage("fraud", "1", "Staging"),
        lambda r, m, lv: r.current_stage == "Staging" and stages(v1="Staging", v2="Staging")(m),
    ),
    ClientAbility(
        "mlflow transition Staging to Production", Level.CAN_MANAGE_PRODUCTION_VERSIONS,
        lambda c, m: c.mlflow.transition_model_version_stage(
            "fraud", "2", "Production", archive_existing_versions=True
        ),
        lambda r, m, lv: r.current_stage == "Production" and stages(v2="Production", v3="Archived")(m),
    ),
    ClientAbility(
        "mlflow delete model version", Level.CAN_MANAGE,
        lambda c, m: c.mlflow.delete_model_version("fraud", "4"),
        lambda r, m, lv: live_versions(m) == [1, 2, 3],
    ),
    ClientAbility(
        "sdk update permissions", Level.CAN_MANAGE,
        lambda c, m: c.sdk.model_registry.update_permissions(
            m.uid, access_control_list=_sdk_acl(("outsider", "CAN_EDIT"))
        ),
        lambda r, m, lv: direct_grants(m)
        == {"owner": "CAN_MANAGE", "reviewer": "CAN_MANAGE", "outsider": "CAN_EDIT"},
    ),
]


def _deciding_levels(needed):
    """No grant, the level just below the needed one, and the needed one."""
    return sorted({Level.NONE, Level(needed - 1), needed})


CLIENT_CASES = [
    pytest.param(ability, level, id=f"{ability.id.replace(' ', '-')}-{level.name}")
    for ability in CLIENT_ABILITIES
    for level in _deciding_levels(ability.needed)
]


@pytest.fixture
def clients_for(mlflow_as, workspace_as):
    return lambda user: Clients(user, mlflow_as, workspace_as)


@pytest.mark.e2e
@pytest.mark.filterwarnings("ignore:.*[Ss]tage.*:FutureWarning")
@pytest.mark.parametrize(("ability", "level"), CLIENT_CASES)
def test_ability_through_real_clients(ability, level, no_default_level, build, grant, reviewer,
                                      outsider, clients_for):
    model = build("fraud", **STATE)
    if level is not Level.NONE:
        grant(model, reviewer, level=level.name)
    clients = clients_for(reviewer)
    before = registry_rows()

    outcome, result = attempt(lambda: ability.act(clients, model))
    if ability.listing and outcome == ALLOWED and not result:
        outcome = HIDDEN

    assert outcome == expected_outcome(ability.needed, level, ability.listing), result
    if outcome == ALLOWED:
        assert ability.check(result, model, level), result
        return
    if outcome == DENIED:
        assert f"requires {ability.needed.name} (you have {level.name})" in str(result), str(result)
    assert registry_rows() == before


@pytest.mark.e2e
def test_create_model_through_the_mlflow_client_needs_the_root_create_right(
    no_default_level, grant_root, reviewer, outsider, mlflow_as
):
    no_default_level.MODELGATE_DEFAULT_CAN_CREATE = False
    grant_root(reviewer, CREATE_MODELS)

    outcome, error = attempt(lambda: mlflow_as(outsider).create_registered_model("fraud"))
    assert (outcome, CREATE_MODELS in str(error)) == (DENIED, True)
    assert not RegisteredModel.objects.exists()

    created = mlflow_as(reviewer).create_registered_model("fraud")
    assert created.name == "fraud"
    assert level_of(reviewer, RegisteredModel.objects.get(name="fraud")) is Level.CAN_MANAGE


@pytest.mark.e2e
def test_root_permissions_through_the_sdk_need_a_registry_admin(
    no_default_level, grant_root, admin_user, reviewer, outsider, workspace_as
):
    grant_root(reviewer, "CAN_MANAGE")
    change = [iam.AccessControlRequest(user_name="outsider", permission_level=iam.PermissionLevel.CAN_MANAGE)]

    outcome, error = attempt(lambda: workspace_as(reviewer).permissions.update(
        "registered-models", "root", access_control_list=change
    ))
    assert outcome == DENIED, error
    assert access.registry_wide_level(User.objects.get(pk=outsider.pk)) is Level.NONE

    workspace_as(admin_user).permissions.update("registered-models", "root", access_control_list=change)
    assert access.registry_wide_level(User.objects.get(pk=outsider.pk)) is Level.CAN_MANAGE
