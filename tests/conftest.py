"""Shared fixtures. The suite runs on the real PostgreSQL (and Redis where needed); under
CI=true a missing service fails the run instead of skipping."""

import json
import os
import socket

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts.actions import token_create
from accounts.models import User
from audit.ctx import Ctx
from audit.models import Activity
from registry import actions


def _reachable(host, port):
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def pytest_sessionstart(session):
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise pytest.UsageError("The test suite runs on PostgreSQL; set DATABASE_URL to one.")
    if not _reachable(db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)):
        raise pytest.UsageError(
            f"PostgreSQL is not reachable at {db.get('HOST')}:{db.get('PORT')}; start it "
            "(see README) or set DATABASE_URL."
        )



# What the log says and what the API answered ------------------------------------------------------

def last_seq():
    """The activity log's last sequence number (0 when empty)."""
    return Activity.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def events_since(seq, **filters):
    """The events recorded after `seq`, in order. Tokens a test issues to its callers along
    the way are the test's doing, not the call's, so they are left out."""
    rows = Activity.objects.filter(seq__gt=seq, **filters).exclude(event__startswith="api_token.")
    return list(rows.order_by("seq").values_list("event", flat=True))


def assert_error(response, status, error_code, message_part=""):
    """An API error in MLflow's format: the status, the JSON body's code and (part of) its message."""
    assert response.status_code == status, response.json_body
    assert response["Content-Type"].startswith("application/json")
    assert response.json_body["error_code"] == error_code
    assert message_part in response.json_body["message"]


@pytest.fixture(autouse=True)
def _forget_sign_in_failures():
    """Failed sign-ins are counted per username and address (127.0.0.1 here) in the shared
    cache: without this, one test's wrong passwords would lock the next test's `owner` out.
    Only the sign-in keys go: the cache's Redis database also carries other state."""
    yield
    from django.core.cache import cache

    from redis.exceptions import ConnectionError as RedisDown

    try:
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{cache.key_prefix}*sign-in:*"))
        if keys:
            client.delete(*keys)
    except RedisDown:
        pass  # no Redis, no counters to forget (the tests that need Redis say so)


@pytest.fixture
def ctx_for():
    """ctx_for(user) -> a Ctx acting as that user through the API."""
    return lambda user, via="api": Ctx(user=user, via=via, client_ip="127.0.0.1")


@pytest.fixture
def owner_ctx(ctx_for, owner):
    return ctx_for(owner)


def _user(username, **extra):
    user = User.objects.create_user(username=username, password=f"{username}-pw-123", **extra)
    return user


@pytest.fixture
def owner(db):
    return _user("owner")


@pytest.fixture
def reviewer(db):
    return _user("reviewer")


@pytest.fixture
def outsider(db):
    return _user("outsider")


@pytest.fixture
def ci_bot(db):
    user = User(username="ci-bot", is_service_account=True)
    user.set_unusable_password()
    user.save()
    return user


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("admin", "admin@example.com", "admin-pw-123")


def access_entry(principal, level):
    """An access-control entry of the permissions API naming a user, team or service account."""
    if isinstance(principal, Group):
        return {"group_name": principal.name, "permission_level": level}
    key = "service_principal_name" if principal.is_service_account else "user_name"
    return {key: principal.username, "permission_level": level}


@pytest.fixture
def grant(ctx_for, owner):
    """grant(model, *principals, level=...): direct grants on one model (users, teams, service
    accounts), made by its owner through the action every API path uses (PATCH semantics:
    other grants stay)."""

    def give(model, *principals, level):
        actions.model_permissions_change(
            ctx_for(owner), uid=model.uid, access_control_list=[access_entry(p, level) for p in principals],
            replace=False,
        )

    return give


class MlflowApi:
    """A test client that speaks the MLflow wire format: GET with query strings, other
    methods with JSON bodies, and answers parsed as JSON."""

    def __init__(self, client, prefix="/api/2.0/mlflow/"):
        self.client = client
        self.prefix = prefix

    def call(self, method, path, body=None):
        url = self.prefix + path
        if method == "GET":
            response = self.client.get(url, body or {})
        else:
            response = getattr(self.client, method.lower())(
                url, data=json.dumps(body or {}), content_type="application/json"
            )
        response.json_body = json.loads(response.content) if response.content else None
        return response

    def get(self, path, **params):
        return self.call("GET", path, params)

    def post(self, path, **body):
        return self.call("POST", path, body)

    def patch(self, path, **body):
        return self.call("PATCH", path, body)

    def delete(self, path, **body):
        return self.call("DELETE", path, body)


@pytest.fixture
def api_as():
    """api_as(user) -> an MlflowApi authenticated with a fresh bearer token of that user."""

    def make(user, prefix="/api/2.0/mlflow/"):
        _, raw = token_create(Ctx.cli(user), user=user, name="test")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return MlflowApi(client, prefix)

    return make


@pytest.fixture
def api(api_as, owner):
    """The MLflow API as `owner`."""
    return api_as(owner)


@pytest.fixture(scope="session")
def redis_url():
    url = os.environ["REDIS_URL"]
    from urllib.parse import urlparse

    parsed = urlparse(url)
    if not _reachable(parsed.hostname or "127.0.0.1", parsed.port or 6379):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {url} (CI=true: failing, not skipping).")
        pytest.skip(f"Redis is not reachable at {url}")
    return url


# Real clients against a live server -------------------------------------------------------------

@pytest.fixture
def issue_token():
    """issue_token(user) -> a fresh raw API token for that user."""
    return lambda user, name="test": token_create(Ctx.cli(user), user=user, name=name)[1]


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory):
    """A tracking store nobody uses: MlflowClient opens one eagerly (the default ./mlflow.db
    would land in the repository) and creating its SQLite schema costs seconds, so one file
    serves the session (the client caches the store per URI)."""
    import warnings

    from mlflow import MlflowClient

    uri = "sqlite:///" + str(tmp_path_factory.mktemp("mlflow-tracking") / "mlflow.db")
    with warnings.catch_warnings():
        # mlflow's own SQLAlchemy store trips SQLAlchemy deprecations; not ours to fix.
        warnings.simplefilter("ignore", DeprecationWarning)
        MlflowClient(tracking_uri=uri, registry_uri=uri)
    return uri


@pytest.fixture
def client_env(monkeypatch, tracking_uri):
    """A clean environment for the real clients: the developer's MLFLOW_*/DATABRICKS_* settings
    cannot leak in, a harmless tracking URI, and no retries (the mlflow client would retry a
    5xx for about four minutes; a server error must fail fast and visibly)."""
    for name in [n for n in os.environ if n.startswith(("MLFLOW_", "DATABRICKS_"))]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
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
    """workspace_as(user) -> databricks-sdk's WorkspaceClient on the live server as `user`."""
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.core import Config

    def make(user):
        # A short retry window: the SDK retries 429/503 and connection errors until it ends.
        return WorkspaceClient(config=Config(
            host=live_server.url, token=issue_token(user), auth_type="pat",
            retry_timeout_seconds=10, http_timeout_seconds=30,
        ))

    return make


# The action contract ------------------------------------------------------------------------------

class SubscriberDown(Exception):
    """Raised by `failing_subscriber`: the activity could not be handed on."""


@pytest.fixture
def failing_subscriber():
    """A subscriber of activity_recorded (where the webhook outbox hooks in) that fails, for
    one test: an action whose activity cannot be handed on must change nothing. Yields the
    events it saw."""
    from audit.activity import activity_recorded

    calls = []

    def refuse(activity, **kwargs):
        calls.append(activity.event)
        raise SubscriberDown(f"cannot take {activity.event}")

    activity_recorded.connect(refuse, dispatch_uid="tests.failing_subscriber")
    yield calls
    activity_recorded.disconnect(dispatch_uid="tests.failing_subscriber")
