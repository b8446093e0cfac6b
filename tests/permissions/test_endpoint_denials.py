"""Every API endpoint refuses someone: anonymous callers always (401), and authenticated
callers without the right level (403 PERMISSION_DENIED, or 404 / left out of a listing when
they cannot even read the model). The URLconf is read, so an endpoint added to any app
without a denial here fails the suite.

The admin's pages are tested with the admin; the public endpoints (/.well-known/
databricks-config, the OpenAPI schema and docs) are public by design.
"""

from dataclasses import dataclass, field

import pytest
from django.urls import URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.actions import token_create
from audit.ctx import Ctx
from audit.models import Activity
from registry import actions
from registry.models import RegisteredModel
from tests.conftest import MlflowApi

OWNED_VIEW_MODULES = ("audit.", "registry.", "accounts.", "workflows.", "webhooks.")
PUBLIC_ROUTES = {".well-known/databricks-config"}
MLFLOW_PREFIXES = ("api/2.0/mlflow/", "ajax-api/2.0/mlflow/")


def owned_routes():
    """{(route, METHOD)} of every view in registry and accounts, from the URLconf."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern.callback

    found = set()
    for route, view in walk(get_resolver().url_patterns):
        if route.startswith("admin/"):
            continue  # the admin's pages: staff sessions, tested with the admin
        if not view.__module__.startswith(OWNED_VIEW_MODULES) or route in PUBLIC_ROUTES:
            continue
        methods = getattr(view.cls, "http_method_names", [])
        found |= {(route, m.upper()) for m in methods if m != "options"}
    return found


@dataclass
class Denial:
    method: str
    path: str  # {uid} is the model's id
    params: dict
    who: str  # "reader" holds CAN_READ on the model; "stranger" holds nothing
    expect: tuple  # (status, error_code), or (200, "hidden") for a listing that leaves it out
    settings: dict = field(default_factory=dict)


M = {"name": "fraud"}
V = {"name": "fraud", "version": "1"}
DENIED, NOT_FOUND, HIDDEN = (403, "PERMISSION_DENIED"), (404, "RESOURCE_DOES_NOT_EXIST"), (200, "hidden")
# A 200 listing in which nothing of the fixture's model (its name, id, webhooks) appears.
ABSENT = (200, "absent")

MLFLOW_DENIALS = [
    Denial("POST", "registered-models/create", {"name": "new"}, "reader", DENIED,
           {"MODELGATE_DEFAULT_CAN_CREATE": False}),
    Denial("POST", "registered-models/rename", {**M, "new_name": "x"}, "reader", DENIED),
    Denial("PATCH", "registered-models/update", {**M, "description": "x"}, "reader", DENIED),
    Denial("DELETE", "registered-models/delete", M, "reader", DENIED),
    Denial("GET", "registered-models/get", M, "stranger", NOT_FOUND),
    Denial("GET", "registered-models/search", {}, "stranger", HIDDEN),
    Denial("GET", "registered-models/get-latest-versions", M, "stranger", NOT_FOUND),
    Denial("POST", "registered-models/get-latest-versions", M, "stranger", NOT_FOUND),
    Denial("POST", "registered-models/set-tag", {**M, "key": "k", "value": "v"}, "reader", DENIED),
    Denial("DELETE", "registered-models/delete-tag", {**M, "key": "team"}, "reader", DENIED),
    Denial("POST", "registered-models/alias", {**M, "alias": "a", "version": "1"}, "reader", DENIED),
    Denial("GET", "registered-models/alias", {**M, "alias": "champion"}, "stranger", NOT_FOUND),
    Denial("DELETE", "registered-models/alias", {**M, "alias": "champion"}, "reader", DENIED),
    Denial("POST", "model-versions/create", {**M, "source": "s3://b/m"}, "reader", DENIED),
    Denial("PATCH", "model-versions/update", {**V, "description": "x"}, "reader", DENIED),
    Denial("POST", "model-versions/transition-stage", {**V, "stage": "Staging"}, "reader", DENIED),
    Denial("DELETE", "model-versions/delete", V, "reader", DENIED),
    Denial("GET", "model-versions/get", V, "stranger", NOT_FOUND),
    Denial("GET", "model-versions/search", {}, "stranger", HIDDEN),
    Denial("GET", "model-versions/get-download-uri", V, "stranger", NOT_FOUND),
    Denial("POST", "model-versions/set-tag", {**V, "key": "k", "value": "v"}, "reader", DENIED),
    Denial("DELETE", "model-versions/delete-tag", {**V, "key": "k"}, "reader", DENIED),
    Denial("GET", "databricks/registered-models/get", M, "stranger", NOT_FOUND),
    Denial("GET", "registered-models/list", {}, "stranger", HIDDEN),
    # Databricks governance (workflows): requests on v1 by the owner are pending.
    Denial("POST", "transition-requests/create", {**V, "stage": "Staging"}, "stranger", NOT_FOUND),
    Denial("POST", "transition-requests/approve",
           {**V, "stage": "Production", "archive_existing_versions": False}, "reader", DENIED),
    Denial("POST", "transition-requests/reject", {**V, "stage": "Production"}, "reader", DENIED),
    Denial("GET", "transition-requests/list", V, "stranger", NOT_FOUND),
    Denial("DELETE", "transition-requests/delete", {**V, "stage": "Production", "creator": "owner"},
           "reader", DENIED),
    Denial("POST", "databricks/model-versions/transition-stage",
           {**V, "stage": "Staging", "archive_existing_versions": False}, "reader", DENIED),
    Denial("POST", "comments/create", {**V, "comment": "hi"}, "stranger", NOT_FOUND),
    Denial("PATCH", "comments/update", {"id": "{cid}", "comment": "edited"}, "reader", DENIED),
    Denial("DELETE", "comments/delete", {"id": "{cid}"}, "reader", DENIED),
    # Registry webhooks: the model's needs CAN_MANAGE, registry-wide ones a registry admin.
    Denial("POST", "registry-webhooks/create",
           {"events": ["MODEL_VERSION_CREATED"], "model_name": "fraud",
            "http_url_spec": {"url": "https://hooks.example.com/x"}}, "reader", DENIED),
    Denial("GET", "registry-webhooks/list", {}, "reader", ABSENT),
    Denial("PATCH", "registry-webhooks/update", {"id": "{wid}", "description": "x"}, "reader", DENIED),
    Denial("DELETE", "registry-webhooks/delete", {"id": "{wid}"}, "reader", DENIED),
    Denial("POST", "registry-webhooks/test", {"id": "{wid}"}, "reader", DENIED),
    Denial("POST", "webhooks", {"name": "x", "url": "https://hooks.example.com/x",
                                "events": [{"entity": "MODEL_VERSION", "action": "CREATED"}]}, "reader", DENIED),
    Denial("GET", "webhooks", {}, "reader", ABSENT),
    Denial("GET", "webhooks/{mwid}", {}, "reader", NOT_FOUND),
    Denial("PATCH", "webhooks/{mwid}", {"description": "x"}, "reader", DENIED),
    Denial("DELETE", "webhooks/{mwid}", {}, "reader", DENIED),
    Denial("POST", "webhooks/{mwid}/test", {}, "reader", DENIED),
]

ACL = {"access_control_list": [{"user_name": "outsider", "permission_level": "CAN_MANAGE"}]}
PERMISSION_DENIALS = [
    Denial("GET", "api/2.0/permissions/registered-models/{uid}", {}, "stranger", NOT_FOUND),
    Denial("PUT", "api/2.0/permissions/registered-models/{uid}", ACL, "reader", DENIED),
    Denial("PATCH", "api/2.0/permissions/registered-models/{uid}", ACL, "reader", DENIED),
    Denial("PUT", "api/2.0/permissions/registered-models/root", ACL, "reader", DENIED),
    Denial("PATCH", "api/2.0/permissions/registered-models/root", ACL, "reader", DENIED),
    Denial("GET", "api/2.0/permissions/registered-models/{uid}/permissionLevels", {}, "stranger",
           NOT_FOUND),
]

A = {**V, "alias": "challenger"}
MODELGATE_DENIALS = [
    Denial("POST", "alias-requests/create", A, "stranger", NOT_FOUND),
    Denial("POST", "alias-requests/approve", A, "reader", DENIED),
    Denial("POST", "alias-requests/reject", A, "reader", DENIED),
    Denial("DELETE", "alias-requests/delete", {**A, "creator": "owner"}, "reader", DENIED),
    Denial("GET", "alias-requests/list", V, "stranger", NOT_FOUND),
    Denial("POST", "checks/report", {**V, "check": "ci/unit", "status": "success"}, "reader", DENIED),
    Denial("GET", "checks/list", V, "stranger", NOT_FOUND),
    Denial("GET", "policies/list", M, "stranger", NOT_FOUND),
    Denial("POST", "policies/stage/set", {**M, "stage": "Production", "required_approvals": 2}, "reader", DENIED),
    Denial("DELETE", "policies/stage/delete", {**M, "stage": "Production"}, "reader", DENIED),
    Denial("POST", "policies/alias/set", {**M, "pattern": "champion"}, "reader", DENIED),
    Denial("DELETE", "policies/alias/delete", {**M, "pattern": "champion"}, "reader", DENIED),
    Denial("GET", "activity/list", V, "stranger", NOT_FOUND),
    Denial("GET", "activity/export", M, "stranger", NOT_FOUND),
    Denial("GET", "lineage/get", V, "stranger", NOT_FOUND),
    # The lifecycle: only registry admins define or delete stages.
    Denial("POST", "stages/create", {"name": "Shadow", "required_level": "CAN_MANAGE_STAGING_VERSIONS"},
           "reader", DENIED),
    Denial("DELETE", "stages/delete", {"name": "Staging"}, "reader", DENIED),
    Denial("POST", "webhooks/create", {"events": ["model_version.created"], "model_name": "fraud",
                                       "http_url_spec": {"url": "https://hooks.example.com/x"}}, "reader", DENIED),
    Denial("GET", "webhooks/list", {}, "reader", ABSENT),
    Denial("GET", "deliveries/list", {}, "reader", ABSENT),
    Denial("GET", "deliveries/get", {"id": "{did}"}, "reader", NOT_FOUND),
    Denial("POST", "deliveries/redeliver", {"webhook_id": "{wid}"}, "reader", DENIED),
]

DENIALS = [
    *[Denial(d.method, prefix + d.path, d.params, d.who, d.expect, d.settings)
      for prefix in MLFLOW_PREFIXES for d in MLFLOW_DENIALS],
    *[Denial(d.method, "api/2.0/preview/mlflow/" + d.path, d.params, d.who, d.expect, d.settings)
      for d in MLFLOW_DENIALS if d.path.startswith("registry-webhooks/")],
    *[Denial(d.method, "api/2.0/modelgate/" + d.path, d.params, d.who, d.expect, d.settings)
      for d in MODELGATE_DENIALS],
    *PERMISSION_DENIALS,
]

# Every authenticated caller may create and list their own tokens, and read the activity
# log's signed checkpoints and the lifecycle's stages: only anonymous callers are refused
# (below); tokens/revoke refuses someone else's token (test_tokens.py, and here).
TOKEN_ROUTES = {
    ("api/2.0/modelgate/tokens/create", "POST"),
    ("api/2.0/modelgate/tokens/list", "GET"),
    ("api/2.0/modelgate/tokens/revoke", "POST"),
    ("api/2.0/modelgate/activity/checkpoints", "GET"),
    ("api/2.0/modelgate/stages/list", "GET"),
}


def _route_of(path):
    return (
        path.replace("{uid}", "<str:registered_model_id>")
        .replace("/root", "/<str:registered_model_id>")
        .replace("{mwid}", "<str:webhook_id>")
    )


def test_every_registry_and_token_endpoint_has_a_denial_here():
    denied = {(_route_of(d.path), d.method) for d in DENIALS} | TOKEN_ROUTES
    assert owned_routes() == denied


@pytest.fixture
def fraud(no_default_level, build, grant, reviewer, owner, admin_user, ctx_for):
    """fraud (reviewer may only read it): v1 with a pending Production request and a pending
    alias request by the owner, and a comment; a model webhook with one delivery; and a
    registry-wide MLflow webhook. Ids the denials name are kept on the model as `refs`."""
    from webhooks.actions import webhook_create
    from webhooks.models import Delivery
    from workflows import actions as workflow_actions

    model = build("fraud", stages=("None", "Staging"), model_tags={"team": "risk"},
                  version_tags={"k": "v"}, aliases={"champion": 1})
    grant(model, reviewer, level="CAN_READ")
    ctx = ctx_for(owner)
    workflow_actions.transition_request_create(ctx, name="fraud", version="1", stage="Production")
    workflow_actions.transition_request_create(ctx, name="fraud", version="1", alias="challenger")
    comment = workflow_actions.comment_create(ctx, name="fraud", version="1", comment="owner's note")
    hook = webhook_create(ctx, flavor="databricks", model_name="fraud", events=["MODEL_VERSION_TAG_SET"],
                          url="https://hooks.example.com/fraud")
    mlflow_hook = webhook_create(ctx_for(admin_user), flavor="mlflow", name="all", events=["model_version.created"],
                                 url="https://hooks.example.com/all")
    actions.version_tag_set(ctx, name="fraud", version="1", key="reviewed", value="yes")
    model.refs = {"uid": model.uid, "cid": comment.pk, "wid": hook.pk, "mwid": mlflow_hook.pk,
                  "did": Delivery.objects.get(webhook=hook).pk}
    return model


def _fill(value, refs):
    if isinstance(value, str):
        return value.format(**refs) if "{" in value else value
    if isinstance(value, dict):
        return {k: _fill(v, refs) for k, v in value.items()}
    return value


def _snapshot():
    return (
        list(RegisteredModel.objects.order_by("pk").values()),
        Activity.objects.count(),
    )


@pytest.mark.parametrize("denial", DENIALS, ids=[f"{d.method}-{d.path}" for d in DENIALS])
def test_endpoint_refuses_a_caller_without_the_level(denial, fraud, reviewer, outsider, api_as, settings):
    for name, value in denial.settings.items():
        setattr(settings, name, value)
    caller = reviewer if denial.who == "reader" else outsider
    api = api_as(caller, prefix="/")
    before = _snapshot()

    response = api.call(denial.method, _fill(denial.path, fraud.refs), _fill(denial.params, fraud.refs))

    if denial.expect == HIDDEN:
        assert (response.status_code, response.json_body) == (200, {})
    elif denial.expect == ABSENT:
        body = response.content.decode()
        assert response.status_code == 200, body
        assert not any(str(ref) in body for ref in (fraud.uid, fraud.refs["wid"], fraud.refs["mwid"], "fraud"))
    else:
        assert (response.status_code, response.json_body["error_code"]) == denial.expect, response.json_body
    assert _snapshot() == before


def test_token_revoke_refuses_someone_elses_token(owner, reviewer, api_as):
    token, _ = token_create(Ctx.cli(reviewer), user=reviewer, name="reviewer's")

    response = api_as(owner, prefix="/api/2.0/modelgate/").post("tokens/revoke", token_id=token.pk)

    assert (response.status_code, response.json_body["error_code"]) == NOT_FOUND
    token.refresh_from_db()
    assert token.revoked_at is None


ANONYMOUS_CASES = sorted(
    {(d.path, d.method) for d in DENIALS}
    | {(route, method) for route, method in TOKEN_ROUTES}
    | {("api/2.0/permissions/registered-models/root", "GET"),
       ("api/2.0/permissions/registered-models/root/permissionLevels", "GET")}
)


@pytest.mark.parametrize(("path", "method"), ANONYMOUS_CASES, ids=[f"{m}-{p}" for p, m in ANONYMOUS_CASES])
def test_endpoint_refuses_anonymous_callers(path, method, db, owner, ctx_for):
    model = actions.model_create(ctx_for(owner), name="fraud")
    before = _snapshot()

    refs = {"uid": model.uid, "cid": "1", "wid": "w1", "mwid": "w1", "did": "d1"}
    response = MlflowApi(APIClient(), "/").call(method, _fill(path, refs), {"name": "fraud"})

    assert response.status_code == 401, response.json_body
    assert response.json_body["error_code"] == "UNAUTHENTICATED"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "fraud" not in response.content.decode()
    assert _snapshot() == before


# A NUL anywhere a caller can put one -------------------------------------------------------------

NUL = "\x00"
# What the denials above do not send: the routes open to every caller, and the root ACL's reads.
UNDENIED_PARAMS = {"api/2.0/modelgate/tokens/create": {"name": "ci"},
                   "api/2.0/modelgate/tokens/revoke": {"token_id": "1"}}
UNDENIED_CALLS = [
    *[Denial(method, path, UNDENIED_PARAMS.get(path, {}), "admin", (200, ""))
      for path, method in sorted(TOKEN_ROUTES)],
    Denial("GET", "api/2.0/permissions/registered-models/root", {}, "admin", (200, "")),
    Denial("GET", "api/2.0/permissions/registered-models/root/permissionLevels", {}, "admin", (200, "")),
]
EVERY_CALL = [*DENIALS, *UNDENIED_CALLS]
PATH_IDS_WITH_A_NUL = {"{uid}": "%00", "{mwid}": "%00", "/root": "/%00"}


def with_a_nul(value):
    """Every copy of `value` with a NUL added to one of its strings or keys, at any depth."""
    if isinstance(value, str):
        yield value + NUL
    elif isinstance(value, dict):
        for key, item in value.items():
            yield {**{k: v for k, v in value.items() if k != key}, key + NUL: item}
            for changed in with_a_nul(item):
                yield {**value, key: changed}
    elif isinstance(value, list):
        for i, item in enumerate(value):
            for changed in with_a_nul(item):
                yield [*value[:i], changed, *value[i + 1:]]


def nul_requests(call, refs):
    """(path, params) of `call` with a NUL in each string field, in an unknown field, and in
    each id its path carries."""
    path, params = _fill(call.path, refs), _fill(call.params, refs)
    yield from ((path, changed) for changed in with_a_nul(params))
    if params or call.method == "GET":
        # (A body that an endpoint taking none never reads cannot reach the database.)
        yield path, {**params, "note": NUL}
    for placeholder, with_nul in PATH_IDS_WITH_A_NUL.items():
        if placeholder in call.path:
            yield _fill(call.path.replace(placeholder, with_nul), refs), params


def test_every_endpoint_is_in_the_nul_check():
    assert owned_routes() <= {(_route_of(c.path), c.method) for c in EVERY_CALL}


@pytest.mark.parametrize("call", EVERY_CALL, ids=[f"{c.method}-{c.path}" for c in EVERY_CALL])
def test_a_nul_in_any_string_field_or_path_id_is_a_400_and_changes_nothing(call, fraud, admin_user, api_as):
    # As a registry admin, so no permission check stops the request before its input is used.
    api = api_as(admin_user, prefix="/")
    before = _snapshot()
    answers = []

    for path, params in nul_requests(call, fraud.refs):
        response = api.call(call.method, path, params)
        answers.append((path, params, response.status_code, (response.json_body or {}).get("error_code")))

    assert [a for a in answers if a[2:] != (400, "INVALID_PARAMETER_VALUE")] == []
    assert _snapshot() == before
