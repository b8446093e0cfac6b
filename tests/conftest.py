"""Shared fixtures. The suite runs on the real PostgreSQL (and Redis where needed); under
CI=true a missing service fails the run instead of skipping."""

import json
import os
import socket

import pytest
from rest_framework.test import APIClient

from accounts.actions import token_create
from accounts.ctx import Ctx
from accounts.models import User


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


@pytest.fixture
def ctx_for():
    """ctx_for(user) -> a Ctx acting as that user through the API."""
    return lambda user, via="api": Ctx(user=user, via=via, client_ip="127.0.0.1")


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
