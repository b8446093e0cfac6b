"""API authentication: Bearer tokens (MLFLOW_TRACKING_TOKEN, databricks-sdk PAT) and HTTP Basic
with a password (MLFLOW_TRACKING_USERNAME/PASSWORD). The admin uses sessions."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiToken, hash_token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        raw = raw.strip()
        if not raw or " " in raw:
            raise exceptions.AuthenticationFailed("Invalid bearer token header.")
        token = (
            ApiToken.objects.usable()
            .select_related("user")
            .filter(token_hash=hash_token(raw))
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        self._touch(token)
        return token.user, token

    @staticmethod
    def _touch(token):
        # Write last_used_at at most once a minute: the alias lookup path is hot.
        now = timezone.now()
        every = timedelta(seconds=settings.MODELGATE_TOKEN_TOUCH_SECONDS)
        if token.last_used_at is None or now - token.last_used_at > every:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now

    def authenticate_header(self, request):
        return 'Bearer realm="modelgate"'


class PasswordBasicAuthentication(authentication.BasicAuthentication):
    """HTTP Basic with a user's password. Service accounts are refused by the auth backend
    (accounts.backends), since they have no password login."""

    www_authenticate_realm = "modelgate"
