"""Every endpoint of the registry and the token API refuses someone: anonymous callers always
(401), and authenticated callers without the right level (403 PERMISSION_DENIED, or 404 / left
out of a listing when they cannot even read the model). The URLconf is read, so an endpoint
added to `registry` or `accounts` without a denial here fails the suite.

Endpoints of the workflows and webhooks apps, and the admin's pages, are their owners' to test;
the public ones (/.well-known/databricks-config, the OpenAPI schema and docs) are public by
design.
"""

from dataclasses import dataclass, field

import pytest
from django.urls import URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.actions import token_create
from accounts.ctx import Ctx
from registry import actions
from registry.models import Activity, RegisteredModel
from tests.conftest import MlflowApi

OWNED_VIEW_MODULES = ("registry.", "accounts.")
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

DENIALS = [
    *[Denial(d.method, prefix + d.path, d.params, d.who, d.expect, d.settings)
      for prefix in MLFLOW_PREFIXES for d in MLFLOW_DENIALS],
    *PERMISSION_DENIALS,
]

# Every authenticated caller may create and list their own tokens: only anonymous callers are
# refused (below); tokens/revoke refuses someone else's token (test_tokens.py, and here).
TOKEN_ROUTES = {
    ("api/2.0/modelgate/tokens/create", "POST"),
    ("api/2.0/modelgate/tokens/list", "GET"),
    ("api/2.0/modelgate/tokens/revoke", "POST"),
}


def _route_of(path):
    return (
        path.replace("{uid}", "<str:registered_model_id>")
        .replace("/root", "/<str:registered_model_id>")
    )


def test_every_registry_and_token_endpoint_has_a_denial_here():
    denied = {(_route_of(d.path), d.method) for d in DENIALS} | TOKEN_ROUTES
    assert owned_routes() == denied


@pytest.fixture
def fraud(no_default_level, build, grant, reviewer):
    model = build("fraud", stages=("None", "Staging"), model_tags={"team": "risk"},
                  version_tags={"k": "v"}, aliases={"champion": 1})
    grant(model, reviewer, "CAN_READ")
    return model


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

    response = api.call(denial.method, denial.path.format(uid=fraud.uid), denial.params)

    if denial.expect == HIDDEN:
        assert (response.status_code, response.json_body) == (200, {})
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
    {(_route_of(d.path).replace("<str:registered_model_id>", "{uid}"), d.method) for d in DENIALS}
    | {(route, method) for route, method in TOKEN_ROUTES}
    | {("api/2.0/permissions/registered-models/root", "GET"),
       ("api/2.0/permissions/registered-models/root/permissionLevels", "GET")}
)


@pytest.mark.parametrize(("path", "method"), ANONYMOUS_CASES, ids=[f"{m}-{p}" for p, m in ANONYMOUS_CASES])
def test_endpoint_refuses_anonymous_callers(path, method, db, owner, ctx_for):
    model = actions.model_create(ctx_for(owner), name="fraud")
    before = _snapshot()

    response = MlflowApi(APIClient(), "/").call(method, path.format(uid=model.uid), {"name": "fraud"})

    assert response.status_code == 401, response.json_body
    assert response.json_body["error_code"] == "UNAUTHENTICATED"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "fraud" not in response.content.decode()
    assert _snapshot() == before
