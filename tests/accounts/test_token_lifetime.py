"""A token never outlives the token that made it (unless a registry admin makes it): a stolen
short-lived token cannot be turned into a permanent one through tokens/create."""

from datetime import timedelta

from django.utils import timezone

from accounts.actions import token_create
from accounts.models import ApiToken
from audit.ctx import Ctx
from tests.conftest import MlflowApi, assert_error

TOKENS = "/api/2.0/modelgate/"


def tokens_api_with(raw):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return MlflowApi(client, TOKENS)


def short_lived(user, seconds=60):
    expires_at = timezone.now() + timedelta(seconds=seconds)
    return token_create(Ctx.cli(user), user=user, name="short", expires_at=expires_at)


def test_a_short_lived_token_cannot_make_a_token_without_expiry(owner):
    parent, raw = short_lived(owner)

    response = tokens_api_with(raw).post("tokens/create", name="forever")

    assert response.status_code == 200, response.json_body
    child = ApiToken.objects.get(pk=response.json_body["token_info"]["token_id"])
    assert child.expires_at == parent.expires_at


def test_a_short_lived_token_cannot_make_a_longer_lived_token_and_nothing_is_created(owner):
    _, raw = short_lived(owner)
    count = ApiToken.objects.count()

    response = tokens_api_with(raw).post("tokens/create", name="longer", lifetime_seconds=3600)

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "cannot outlive the token")
    assert ApiToken.objects.count() == count


def test_a_token_may_make_a_token_that_expires_before_it(owner):
    parent, raw = short_lived(owner, seconds=3600)

    response = tokens_api_with(raw).post("tokens/create", name="shorter", lifetime_seconds=600)

    assert response.status_code == 200, response.json_body
    child = ApiToken.objects.get(pk=response.json_body["token_info"]["token_id"])
    assert child.expires_at < parent.expires_at


def test_a_token_without_expiry_may_make_a_token_without_expiry(owner):
    _, raw = token_create(Ctx.cli(owner), user=owner, name="long")

    response = tokens_api_with(raw).post("tokens/create", name="another")

    assert response.status_code == 200, response.json_body
    assert response.json_body["token_info"]["expiry_time"] is None


def test_a_registry_admin_may_make_a_token_that_outlives_the_token_used(admin_user):
    _, raw = short_lived(admin_user)

    response = tokens_api_with(raw).post("tokens/create", name="ops", lifetime_seconds=3600)

    assert response.status_code == 200, response.json_body
    child = ApiToken.objects.get(pk=response.json_body["token_info"]["token_id"])
    assert child.expires_at > timezone.now() + timedelta(minutes=59)
