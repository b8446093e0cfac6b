"""Writes on accounts: API tokens.

Token events are not in the registry's activity log yet: the log lives in `registry`, and
imports point `registry -> accounts`, never back.
"""

from django.db import transaction
from django.utils import timezone

from .models import ApiToken, hash_token


def token_create(ctx, *, user, name, expires_at=None):
    """Create a token for `user`. Returns (token, raw); the raw value is never stored."""
    raw = ApiToken.generate_raw()
    token = ApiToken.objects.create(
        user=user,
        name=name or "default",
        prefix=raw[:12],
        token_hash=hash_token(raw),
        expires_at=expires_at,
    )
    return token, raw


def token_revoke(ctx, *, token):
    """Revoke a token; revoking twice is harmless."""
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    token.refresh_from_db()
    return updated == 1
