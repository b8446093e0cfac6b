"""API tokens: shown once, stored as a SHA-256 hash, recognisable by their prefix."""

import hashlib
from datetime import timedelta

from django.utils import timezone

from accounts.actions import token_create, token_revoke
from accounts.models import ApiToken
from audit.ctx import Ctx


def test_a_new_token_starts_with_mgt_and_carries_enough_randomness(owner):
    _, raw = token_create(Ctx.cli(owner), user=owner, name="laptop")

    assert raw.startswith("mgt_")
    assert len(raw) >= 4 + 43  # 32 random bytes, url-safe base64


def test_the_raw_token_is_not_stored_only_its_sha256(owner):
    token, raw = token_create(Ctx.cli(owner), user=owner, name="laptop")

    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert row["token_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert not any(raw in str(value) for value in row.values())
    assert row["prefix"] == raw[:12]
    assert row["name"] == "laptop"


def test_two_tokens_are_never_the_same(owner):
    raws = {token_create(Ctx.cli(owner), user=owner, name="t")[1] for _ in range(20)}

    assert len(raws) == 20


def test_a_token_without_a_name_is_called_default(owner):
    token, _ = token_create(Ctx.cli(owner), user=owner, name="")

    assert token.name == "default"


def test_revoking_a_token_marks_it_once(owner):
    token, _ = token_create(Ctx.cli(owner), user=owner, name="t")

    assert token_revoke(Ctx.cli(owner), token=token) is True
    first_revocation = token.revoked_at
    assert token_revoke(Ctx.cli(owner), token=token) is False

    assert token.revoked_at == first_revocation
    assert not token.is_usable
    assert not ApiToken.objects.usable().exists()


def test_an_expired_token_is_not_usable(owner):
    past = timezone.now() - timedelta(seconds=1)
    future = timezone.now() + timedelta(days=1)
    expired, _ = token_create(Ctx.cli(owner), user=owner, name="old", expires_at=past)
    current, _ = token_create(Ctx.cli(owner), user=owner, name="new", expires_at=future)

    assert not expired.is_usable
    assert current.is_usable
    assert list(ApiToken.objects.usable()) == [current]
