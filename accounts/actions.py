"""Writes on accounts: API tokens. Each is recorded in the activity log (never the secret)."""

from django.db import transaction
from django.utils import timezone

from audit import events
from audit.activity import record
from audit.errors import InvalidParameterValue

from . import policies
from .models import ApiToken, hash_token


def _snapshot(token):
    return {
        "token_id": token.pk, "name": token.name, "prefix": token.prefix, "user": token.user.username,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
    }


def token_create(ctx, *, user, name, expires_at=None):
    """Create a token for `user`. Returns (token, raw); only the raw value's SHA-256 is
    stored, and the log records the token's prefix. Made with a token (ctx.token_id), it
    expires no later than that token: without an expiry it gets that token's."""
    raw = ApiToken.generate_raw()
    with transaction.atomic():
        making_token = ApiToken.objects.filter(pk=ctx.token_id).first() if ctx.token_id else None
        latest = policies.latest_token_expiry(ctx.user, making_token)
        if latest is not None:
            if expires_at is None:
                expires_at = latest
            elif expires_at > latest:
                raise InvalidParameterValue(
                    f"A token cannot outlive the token that creates it, which expires at "
                    f"{latest.isoformat()}: ask for a shorter lifetime."
                )
        token = ApiToken.objects.create(
            user=user,
            name=name or "default",
            prefix=raw[:12],
            token_hash=hash_token(raw),
            expires_at=expires_at,
        )
        record(ctx, event=events.TOKEN_CREATED, target=token.prefix, after=_snapshot(token))
    return token, raw


def token_revoke(ctx, *, token):
    """Revoke a token; revoking twice is harmless (and recorded once)."""
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        token.refresh_from_db()
        if updated:
            record(ctx, event=events.TOKEN_REVOKED, target=token.prefix, before=_snapshot(token))
    return updated == 1
