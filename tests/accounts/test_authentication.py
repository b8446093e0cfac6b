"""How API callers authenticate: Bearer tokens (MLFLOW_TRACKING_TOKEN, Databricks PATs) and
HTTP Basic with a person's password (MLFLOW_TRACKING_USERNAME/PASSWORD)."""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.actions import token_create, token_revoke
from accounts.models import ApiToken
from audit.ctx import Ctx

URL = "/api/2.0/mlflow/registered-models/search"


def get_with(authorization):
    return APIClient().get(URL, HTTP_AUTHORIZATION=authorization)


def assert_unauthenticated(response):
    assert response.status_code == 401
    assert response.json()["error_code"] == "UNAUTHENTICATED"
    assert response["WWW-Authenticate"]


def basic(username, password):
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.fixture
def owner_token(owner):
    return token_create(Ctx.cli(owner), user=owner, name="t")


# Bearer --------------------------------------------------------------------------------------

def test_a_bearer_token_authenticates_its_user(owner_token):
    response = get_with(f"Bearer {owner_token[1]}")

    assert response.status_code == 200


def test_the_bearer_scheme_is_case_insensitive(owner_token):
    assert get_with(f"bearer {owner_token[1]}").status_code == 200


def test_using_a_token_records_when_it_was_last_used_at_most_once_a_minute(owner_token):
    token, raw = owner_token
    assert token.last_used_at is None

    get_with(f"Bearer {raw}")
    first_use = ApiToken.objects.get(pk=token.pk).last_used_at
    get_with(f"Bearer {raw}")

    assert first_use is not None
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first_use


def test_a_token_used_over_a_minute_ago_is_touched_again(owner_token):
    token, raw = owner_token
    long_ago = timezone.now() - timedelta(minutes=5)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)

    get_with(f"Bearer {raw}")

    assert ApiToken.objects.get(pk=token.pk).last_used_at > long_ago


def test_a_revoked_token_is_401(owner, owner_token):
    token, raw = owner_token
    token_revoke(Ctx.cli(owner), token=token)

    assert_unauthenticated(get_with(f"Bearer {raw}"))


def test_an_expired_token_is_401(owner):
    _, raw = token_create(
        Ctx.cli(owner), user=owner, name="t", expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert_unauthenticated(get_with(f"Bearer {raw}"))


def test_a_token_that_has_not_expired_yet_works(owner):
    _, raw = token_create(
        Ctx.cli(owner), user=owner, name="t", expires_at=timezone.now() + timedelta(hours=1)
    )

    assert get_with(f"Bearer {raw}").status_code == 200


def test_a_token_of_a_deactivated_user_is_401(owner, owner_token):
    owner.is_active = False
    owner.save()

    assert_unauthenticated(get_with(f"Bearer {owner_token[1]}"))


@pytest.mark.parametrize(
    "header", ["Bearer mgt_unknown", "Bearer ", "Bearer two words", "Bearer mgt_" + "x" * 500]
)
def test_an_unknown_or_malformed_bearer_token_is_401(db, header):
    assert_unauthenticated(get_with(header))


def test_the_hash_of_a_token_is_not_a_token(owner_token):
    token, _ = owner_token

    assert_unauthenticated(get_with(f"Bearer {token.token_hash}"))


def test_a_service_account_authenticates_with_its_token(ci_bot):
    _, raw = token_create(Ctx.cli(ci_bot), user=ci_bot, name="jenkins")

    assert get_with(f"Bearer {raw}").status_code == 200


def test_no_credentials_is_401_with_a_bearer_challenge(db):
    response = APIClient().get(URL)

    assert_unauthenticated(response)
    assert response["WWW-Authenticate"].startswith("Bearer")


# Basic ---------------------------------------------------------------------------------------

def test_basic_auth_with_username_and_password_works(owner):
    assert get_with(basic("owner", "owner-pw-123")).status_code == 200


@pytest.mark.parametrize(
    "username, password", [("owner", "wrong"), ("nobody", "owner-pw-123"), ("owner", "")]
)
def test_basic_auth_with_wrong_credentials_is_401(owner, username, password):
    assert_unauthenticated(get_with(basic(username, password)))


def test_basic_auth_of_a_deactivated_user_is_401(owner):
    owner.is_active = False
    owner.save()

    assert_unauthenticated(get_with(basic("owner", "owner-pw-123")))


def test_a_service_account_cannot_use_basic_auth_even_with_a_password(ci_bot):
    # Someone gave the bot a password anyway (admin, shell): it still only works with tokens.
    ci_bot.set_password("bot-pw-123")
    ci_bot.save()

    assert_unauthenticated(get_with(basic("ci-bot", "bot-pw-123")))


def test_a_token_is_not_a_basic_auth_password(owner, owner_token):
    assert_unauthenticated(get_with(basic("owner", owner_token[1])))


def test_a_verified_basic_password_is_not_hashed_again_on_the_next_request(owner, monkeypatch):
    """Django's PBKDF2 costs ~0.3 s per check and the mlflow client sends Basic credentials on
    every call: a verified username+password is remembered for a minute."""
    import base64

    from django.contrib.auth import backends
    from django.core.cache import cache
    from rest_framework.test import APIClient

    cache.clear()
    checks = []
    original = backends.ModelBackend.authenticate

    def counting(self, request, username=None, password=None, **kwargs):
        checks.append(username)
        return original(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(backends.ModelBackend, "authenticate", counting)
    client = APIClient()
    good = base64.b64encode(b"owner:owner-pw-123").decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {good}")
    for _ in range(3):
        assert client.get("/api/2.0/mlflow/registered-models/search").status_code == 200
    assert checks == ["owner"]

    # A wrong password is checked (and refused) every time, never served from the cache.
    bad = base64.b64encode(b"owner:wrong").decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {bad}")
    assert client.get("/api/2.0/mlflow/registered-models/search").status_code == 401
    assert client.get("/api/2.0/mlflow/registered-models/search").status_code == 401
    assert checks == ["owner", "owner", "owner"]

    # Deactivating the user takes effect at once.
    owner.is_active = False
    owner.save()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {good}")
    assert client.get("/api/2.0/mlflow/registered-models/search").status_code == 401
