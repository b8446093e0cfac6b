"""Fixtures for the permission suite: levels granted through the real actions, a registry with
no default level (so only explicit grants count), and the real clients (mlflow, databricks-sdk)
pointed at a live Modelgate with one principal's token."""

import os

import pytest
from django.contrib.auth.models import Group

from accounts.actions import token_create
from accounts.ctx import Ctx
from registry import actions

SOURCE = "s3://bucket/fraud/model"

@pytest.fixture
def no_default_level(settings):
    """Authenticated users get nothing by default: only grants (and superuser) count."""
    settings.MODELGATE_DEFAULT_LEVEL = "NONE"
    return settings


def access_entry(principal, level):
    """An access-control entry of the permissions API naming a user, team or service account."""
    if isinstance(principal, Group):
        return {"group_name": principal.name, "permission_level": level}
    key = "service_principal_name" if principal.is_service_account else "user_name"
    return {key: principal.username, "permission_level": level}


@pytest.fixture
def grant(ctx_for, owner):
    """grant(model, principal, level): a direct grant on one model, made by its owner through
    the action every API path uses (PATCH semantics: other grants stay)."""

    def give(model, principal, level):
        actions.model_permissions_change(
            ctx_for(owner), uid=model.uid, access_control_list=[access_entry(principal, level)],
            replace=False,
        )

    return give


@pytest.fixture
def grant_root(ctx_for, admin_user):
    """grant_root(principal, level): a registry-wide grant, made by a registry admin."""

    def give(principal, level):
        actions.registry_permissions_change(
            ctx_for(admin_user), access_control_list=[access_entry(principal, level)], replace=False,
        )

    return give


@pytest.fixture
def issue_token():
    """issue_token(user) -> a fresh raw API token for that user."""

    def make(user, name="permissions"):
        return token_create(Ctx.cli(user), user=user, name=name)[1]

    return make


def _pairs(tags):
    return [{"key": k, "value": v} for k, v in (tags or {}).items()]


@pytest.fixture
def build(ctx_for, owner):
    """build(name, ...) -> a model made by `owner` through the actions, with versions and
    optional tags and aliases. stages=[...] gives one version per entry, in that stage."""

    def make(name="fraud", *, stages=("None",), model_tags=None, version_tags=None, aliases=None):
        ctx = ctx_for(owner, via="cli")
        model = actions.model_create(ctx, name=name, tags=_pairs(model_tags))
        for number, stage in enumerate(stages, start=1):
            actions.version_create(ctx, name=name, source=f"{SOURCE}/{number}", tags=_pairs(version_tags))
            if stage != "None":
                actions.version_transition(ctx, name=name, version=number, stage=stage)
        for alias, number in (aliases or {}).items():
            actions.alias_set(ctx, name=name, alias=alias, version=number)
        model.refresh_from_db()
        return model

    return make


# Real clients against a live server ----------------------------------------------------------


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory):
    """A tracking store nobody uses: MlflowClient opens one eagerly, and creating the SQLite
    schema costs seconds, so one file serves the session (the client caches it per URI)."""
    return "sqlite:///" + str(tmp_path_factory.mktemp("mlflow-tracking") / "mlflow.db")


@pytest.fixture
def client_env(monkeypatch, tracking_uri):
    # Settings that would change where or as whom the real clients talk: cleared, so the
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
    """mlflow_as(user) -> the real MlflowClient talking to the live server as `user` (the
    client reads MLFLOW_TRACKING_TOKEN on every request, so the last call wins)."""
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
        # Short retry window: the SDK retries 429/503 and connection errors until it ends.
        return WorkspaceClient(config=Config(
            host=live_server.url, token=issue_token(user), auth_type="pat",
            retry_timeout_seconds=10, http_timeout_seconds=30,
        ))

    return make
