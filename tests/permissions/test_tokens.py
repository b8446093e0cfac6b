"""API tokens: stored hashed, refused once revoked or expired, managed through the token API
(create, list without the secret, revoke), and the only way a service account gets in."""

import base64
import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.actions import token_create, token_revoke
from accounts.models import ApiToken
from audit.ctx import Ctx
from tests.conftest import MlflowApi

TOKENS = "/api/2.0/modelgate/"


def bearer(raw, prefix="/api/2.0/mlflow/"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return MlflowApi(client, prefix)


def basic(username, password, prefix="/api/2.0/mlflow/"):
    client = APIClient()
    pair = base64.b64encode(f"{username}:{password}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {pair}")
    return MlflowApi(client, prefix)


def unauthenticated(response):
    return (
        response.status_code == 401
        and response.json_body["error_code"] == "UNAUTHENTICATED"
        and bool(response.get("WWW-Authenticate"))
    )


def token_table_text():
    """Every row of accounts_apitoken, every column, as PostgreSQL prints it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT t::text FROM accounts_apitoken t")
        return "\n".join(row[0] for row in cursor.fetchall())


# Storage --------------------------------------------------------------------------------------


def test_tokens_are_stored_hashed_never_raw(owner, api_as):
    created = api_as(owner, prefix=TOKENS).post("tokens/create", name="laptop")
    raw = created.json_body["token_value"]
    _, cli_raw = token_create(Ctx.cli(owner), user=owner, name="cli")

    table = token_table_text()
    for secret in (raw, cli_raw):
        assert secret not in table
        # Not even the secret part after the short, displayable prefix.
        assert secret[12:] not in table
        assert hashlib.sha256(secret.encode()).hexdigest() in table
    stored = ApiToken.objects.get(pk=created.json_body["token_info"]["token_id"])
    assert (stored.prefix, stored.token_hash) == (raw[:12], hashlib.sha256(raw.encode()).hexdigest())


# Which tokens work -----------------------------------------------------------------------------


def test_a_valid_token_authenticates_and_records_its_use(owner):
    token, raw = token_create(Ctx.cli(owner), user=owner, name="t")

    response = bearer(raw).get("registered-models/search")

    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_revoked_token_gets_401(owner):
    token, raw = token_create(Ctx.cli(owner), user=owner, name="t")
    assert bearer(raw).get("registered-models/search").status_code == 200

    token_revoke(Ctx.cli(owner), token=token)

    assert unauthenticated(bearer(raw).get("registered-models/search"))


def test_an_expired_token_gets_401(owner):
    _, expired = token_create(
        Ctx.cli(owner), user=owner, name="old", expires_at=timezone.now() - timedelta(seconds=1)
    )
    token, expiring = token_create(
        Ctx.cli(owner), user=owner, name="soon", expires_at=timezone.now() + timedelta(hours=1)
    )
    assert unauthenticated(bearer(expired).get("registered-models/search"))
    assert bearer(expiring).get("registered-models/search").status_code == 200

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert unauthenticated(bearer(expiring).get("registered-models/search"))


@pytest.mark.parametrize("header", [
    "Bearer mgt_not-a-real-token",
    "Bearer ",
    "Bearer two words",
    "Basic bm90LWJhc2U2NA==",  # "not-base64": no colon
    "Basic b3duZXI6d3JvbmctcGFzc3dvcmQ=",  # owner:wrong-password
])
def test_bad_credentials_get_401(owner, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = MlflowApi(client).get("registered-models/search")

    assert unauthenticated(response), response.json_body


def test_a_deactivated_users_tokens_stop_working(owner):
    _, raw = token_create(Ctx.cli(owner), user=owner, name="t")
    owner.is_active = False
    owner.save(update_fields=["is_active"])

    assert unauthenticated(bearer(raw).get("registered-models/search"))


# The token API ---------------------------------------------------------------------------------


def test_token_api_creates_lists_without_the_secret_and_revokes(owner, reviewer, api_as):
    api = api_as(owner, prefix=TOKENS)
    _, others = token_create(Ctx.cli(reviewer), user=reviewer, name="reviewer's")

    created = api.post("tokens/create", name="ci", lifetime_seconds=3600)
    assert created.status_code == 200, created.json_body
    raw, info = created.json_body["token_value"], created.json_body["token_info"]
    assert info["name"] == "ci"
    assert info["prefix"] == raw[:12]
    assert info["revoked"] is False
    expected_expiry = (timezone.now() + timedelta(hours=1)).timestamp() * 1000
    assert abs(info["expiry_time"] - expected_expiry) < 60_000
    assert bearer(raw).get("registered-models/search").status_code == 200

    listed = api.get("tokens/list")
    assert listed.status_code == 200
    infos = listed.json_body["token_infos"]
    # Own tokens only (the test client's and the new one), and never a secret or its hash.
    assert sorted(i["name"] for i in infos) == ["ci", "test"]
    body = listed.content.decode()
    for secret in (raw, raw[12:], others, hashlib.sha256(raw.encode()).hexdigest()):
        assert secret not in body
    assert all(set(i) == set(info) for i in infos)
    assert "token_value" not in body

    revoked = api.post("tokens/revoke", token_id=info["token_id"])
    assert (revoked.status_code, revoked.json_body) == (200, {})
    assert unauthenticated(bearer(raw).get("registered-models/search"))
    after = {i["token_id"]: i for i in api.get("tokens/list").json_body["token_infos"]}
    assert after[info["token_id"]]["revoked"] is True


def test_no_one_revokes_someone_elses_token(owner, reviewer, api_as):
    token, raw = token_create(Ctx.cli(reviewer), user=reviewer, name="reviewer's")

    response = api_as(owner, prefix=TOKENS).post("tokens/revoke", token_id=str(token.pk))

    assert response.status_code == 404
    assert response.json_body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert bearer(raw).get("registered-models/search").status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize("body", [
    {"lifetime_seconds": 59},
    {"lifetime_seconds": 11 * 365 * 24 * 3600},
    {"lifetime_seconds": "soon"},
    {"name": "x" * 101},
])
def test_token_create_refuses_bad_input_and_creates_nothing(owner, api_as, body):
    api = api_as(owner, prefix=TOKENS)
    count = ApiToken.objects.count()

    response = api.post("tokens/create", **body)

    assert response.status_code == 400
    assert response.json_body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert ApiToken.objects.count() == count


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "tokens/create"), ("GET", "tokens/list"), ("POST", "tokens/revoke"),
])
def test_the_token_api_needs_authentication(owner, method, path):
    token, _ = token_create(Ctx.cli(owner), user=owner, name="t")
    count = ApiToken.objects.count()

    response = MlflowApi(APIClient(), TOKENS).call(method, path, {"token_id": token.pk})

    assert unauthenticated(response), response.json_body
    assert ApiToken.objects.count() == count
    token.refresh_from_db()
    assert token.revoked_at is None


# Service accounts: tokens only -----------------------------------------------------------------


@pytest.fixture
def bot_with_password(ci_bot):
    """The CI bot, made staff and given a password (as a careless admin might): password
    logins must still refuse it."""
    ci_bot.is_staff = True
    ci_bot.set_password("bot-pw-12345")
    ci_bot.save()
    return ci_bot


def test_a_service_account_cannot_log_into_the_admin(bot_with_password, db):
    from accounts.models import User

    person = User.objects.create_user("staffer", password="staff-pw-12345", is_staff=True)
    people = Client()
    assert people.post("/admin/login/", {"username": person.username, "password": "staff-pw-12345",
                                         "next": "/admin/"}).status_code == 302
    assert people.get("/admin/").status_code == 200

    bots = Client()
    response = bots.post("/admin/login/", {"username": "ci-bot", "password": "bot-pw-12345",
                                           "next": "/admin/"})

    assert response.status_code == 200  # the form again, with an error
    assert response.context["form"].errors
    assert "_auth_user_id" not in bots.session
    assert bots.get("/admin/").status_code == 302  # still sent to the login page


def test_a_service_account_cannot_use_basic_auth_but_its_token_works(bot_with_password, owner):
    assert basic("owner", "owner-pw-123").get("registered-models/search").status_code == 200

    assert unauthenticated(basic("ci-bot", "bot-pw-12345").get("registered-models/search"))

    _, raw = token_create(Ctx.cli(bot_with_password), user=bot_with_password, name="jenkins")
    assert bearer(raw).get("registered-models/search").status_code == 200


def test_a_service_account_manages_its_own_tokens_with_its_token(ci_bot, api_as):
    api = api_as(ci_bot, prefix=TOKENS)

    created = api.post("tokens/create", name="rotated")

    assert created.status_code == 200, created.json_body
    assert bearer(created.json_body["token_value"]).get("registered-models/search").status_code == 200
    assert ApiToken.objects.get(pk=created.json_body["token_info"]["token_id"]).user == ci_bot


@pytest.mark.e2e
def test_the_mlflow_client_is_refused_with_a_revoked_token(owner, live_server, client_env):
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    token, raw = token_create(Ctx.cli(owner), user=owner, name="t")
    client_env.setenv("MLFLOW_TRACKING_TOKEN", raw)
    client = MlflowClient(registry_uri=live_server.url)
    assert client.search_registered_models() == []

    token_revoke(Ctx.cli(owner), token=token)

    with pytest.raises(MlflowException) as refused:
        client.search_registered_models()
    assert refused.value.error_code == "UNAUTHENTICATED"
