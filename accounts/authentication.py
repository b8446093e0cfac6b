"""API authentication: Bearer tokens (MLFLOW_TRACKING_TOKEN, databricks-sdk PAT) and HTTP Basic
with a password (MLFLOW_TRACKING_USERNAME/PASSWORD). The admin uses sessions."""

import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from rest_framework import authentication, exceptions

from . import signin
from .models import ApiToken, User, hash_token


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
        self.touch(token)
        return token.user, token

    @staticmethod
    def touch(token):
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
    (accounts.backends), since they have no password login.

    Checking a password costs Django's full PBKDF2 (~0.3 s here), and the mlflow client sends
    the credentials on every call, so a verified username+password is remembered for
    MODELGATE_BASIC_AUTH_CACHE_SECONDS. The memo's key is a keyed hash of the username, the
    password and the user's stored password hash (never the password itself): a password
    change alters the stored hash, so the old password is forgotten at once, in every worker
    process. The user is loaded, and must still be active, on every request.

    Failed passwords lock the username or address out like every password sign-in
    (accounts.signin); while locked out, even a remembered password gets 429 with Retry-After."""

    www_authenticate_realm = "modelgate"

    def authenticate_credentials(self, userid, password, request=None):
        seconds = settings.MODELGATE_BASIC_AUTH_CACHE_SECONDS
        try:
            signin.check(userid, signin.client_address(request))
            user = self._remembered(userid, password) if seconds else None
            if user is not None:
                return user, None
            user, auth = super().authenticate_credentials(userid, password, request)
        except signin.SignInThrottled as exc:
            raise exceptions.Throttled(wait=exc.retry_after, detail="Too many failed sign-ins.") from None
        if seconds:
            cache.set(self._memo_key(user, password), user.pk, seconds)
        return user, auth

    def _remembered(self, userid, password):
        user = User.objects.filter(
            **{User.USERNAME_FIELD: userid}, is_active=True, is_service_account=False
        ).first()
        if user is not None and cache.get(self._memo_key(user, password)) == user.pk:
            return user
        return None

    @staticmethod
    def _memo_key(user, password):
        material = f"{user.get_username()}\x00{password}\x00{user.password}"
        digest = hmac.new(settings.SECRET_KEY.encode(), material.encode(), hashlib.sha256)
        return "basic-auth:" + digest.hexdigest()
