"""Fixtures for the approval-workflow suite: models built and levels granted through the real
actions (the only write path), plus the real clients (mlflow, databricks-sdk) and plain HTTP
pointed at a live Modelgate with one principal's token.

The registry default level is CAN_READ (settings), so every authenticated user may read and
request; anything more is granted here explicitly.
"""

import os
import warnings

import pytest

from accounts.actions import token_create
from accounts.ctx import Ctx
from accounts.models import User
from registry import actions
from registry.models import Activity, ModelVersion

SOURCE = "s3://bucket/fraud/model"


def last_seq():
    return Activity.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def stage_of(number, name="fraud"):
    return ModelVersion.objects.get(model__name=name, version=number).current_stage


def events_since(seq, **filters):
    rows = Activity.objects.filter(seq__gt=seq, **filters).order_by("seq")
    return list(rows.values_list("event", flat=True))


@pytest.fixture
def owner_ctx(ctx_for, owner):
    return ctx_for(owner)


@pytest.fixture
def make_user(db):
    """make_user(name) -> a plain user (CAN_READ through the registry default)."""

    def make(username, **extra):
        return User.objects.create_user(username=username, password=f"{username}-pw-123", **extra)

    return make


@pytest.fixture
def grant(ctx_for, owner):
    """grant(model, *users, level=...): direct grants on one model, made by its owner through
    the action every API path uses (PATCH semantics: other grants stay)."""

    def give(model, *users, level):
        acl = [
            {
                "service_principal_name" if u.is_service_account else "user_name": u.username,
                "permission_level": level,
            }
            for u in users
        ]
        actions.model_permissions_change(ctx_for(owner), uid=model.uid, access_control_list=acl, replace=False)

    return give


@pytest.fixture
def build(ctx_for, owner):
    """build(name, stages=[...], aliases={...}) -> a model made by `owner`, one version per
    entry of `stages`, moved there directly (before any policy exists)."""

    def make(name="fraud", *, stages=("None",), aliases=None):
        ctx = ctx_for(owner, via="cli")
        model = actions.model_create(ctx, name=name)
        for number, stage in enumerate(stages, start=1):
            actions.version_create(ctx, name=name, source=f"{SOURCE}/{number}")
            if stage != "None":
                actions.version_transition(ctx, name=name, version=number, stage=stage)
        for alias, number in (aliases or {}).items():
            actions.alias_set(ctx, name=name, alias=alias, version=number)
        model.refresh_from_db()
        return model

    return make


@pytest.fixture
def modelgate_as(api_as):
    """modelgate_as(user) -> the HTTP test client on /api/2.0/modelgate/ as that user."""
    return lambda user: api_as(user, prefix="/api/2.0/modelgate/")


# Real clients against a live server ----------------------------------------------------------


@pytest.fixture
def issue_token():
    """issue_token(user) -> a fresh raw API token for that user."""
    return lambda user: token_create(Ctx.cli(user), user=user, name="workflows")[1]


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory):
    """A tracking store nobody uses: MlflowClient opens one eagerly and creating its SQLite
    schema costs seconds, so one file serves the session (the client caches it per URI)."""
    from mlflow import MlflowClient

    uri = "sqlite:///" + str(tmp_path_factory.mktemp("mlflow-tracking") / "mlflow.db")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        MlflowClient(tracking_uri=uri, registry_uri=uri)
    return uri


@pytest.fixture
def client_env(monkeypatch, tracking_uri):
    # Settings that would change where or as whom the real clients talk are cleared, so the
    # developer's own shell cannot leak into a test.
    for name in [n for n in os.environ if n.startswith(("MLFLOW_", "DATABRICKS_"))]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    # The client would retry a 5xx for minutes; a server error must fail fast and visibly.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    return monkeypatch


@pytest.fixture
def mlflow_as(live_server, client_env, issue_token):
    """mlflow_as(user) -> the real MlflowClient on the live server as `user`. The client reads
    MLFLOW_TRACKING_TOKEN on every request, so the latest call decides who acts."""
    from mlflow import MlflowClient

    def make(user):
        client_env.setenv("MLFLOW_TRACKING_TOKEN", issue_token(user))
        return MlflowClient(registry_uri=live_server.url)

    return make


@pytest.fixture
def workspace_as(live_server, client_env, issue_token):
    """workspace_as(user) -> a databricks-sdk WorkspaceClient on the live server as `user`."""
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.core import Config

    def make(user):
        # A short retry window: the SDK retries 429/503 and connection errors until it ends.
        return WorkspaceClient(config=Config(
            host=live_server.url, token=issue_token(user), auth_type="pat",
            retry_timeout_seconds=10, http_timeout_seconds=30,
        ))

    return make
