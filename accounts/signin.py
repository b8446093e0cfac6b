"""Failed password sign-ins are limited per username and per client address, wherever a
password is checked: HTTP Basic on the API (accounts.authentication), the admin login and the
sign-in page (both through django.contrib.auth.authenticate, i.e. accounts.backends).

MODELGATE_SIGNIN_MAX_FAILURES_PER_USER (or _PER_ADDRESS) failures within
MODELGATE_SIGNIN_FAILURE_WINDOW_SECONDS lock that username (or address) out for
MODELGATE_SIGNIN_LOCKOUT_SECONDS; each lockout is on the activity log. While locked out,
authenticate() raises SignInThrottled before any password is checked, even a right one: the
API answers 429 REQUEST_LIMIT_EXCEEDED with Retry-After, a sign-in form shows its message.

Counters and locks live in Django's cache (Redis when REDIS_URL is set), so the limits hold
across worker processes. Keys carry a SHA-256 of the username or address, never the text."""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache

USER = "user"
ADDRESS = "address"


class SignInThrottled(Exception):
    """Password sign-ins for this username or client address are locked out for
    `retry_after` more seconds."""

    def __init__(self, retry_after):
        self.retry_after = retry_after
        self.message = f"Too many failed sign-ins. Try again in {retry_after} seconds."
        super().__init__(self.message)


def client_address(request):
    """The address a sign-in comes from, as the activity log records it (REMOTE_ADDR)."""
    return (request.META.get("REMOTE_ADDR") or None) if request is not None else None


def _watched(username, address):
    """(scope, value, limit) for each limit that applies to this sign-in; 0 turns one off."""
    limits = {
        USER: settings.MODELGATE_SIGNIN_MAX_FAILURES_PER_USER,
        ADDRESS: settings.MODELGATE_SIGNIN_MAX_FAILURES_PER_ADDRESS,
    }
    pairs = ((USER, username), (ADDRESS, address))
    return [(scope, value, limits[scope]) for scope, value in pairs if value and limits[scope] > 0]


def _key(kind, scope, value):
    return f"sign-in:{kind}:{scope}:" + hashlib.sha256(str(value).encode()).hexdigest()


def check(username, address):
    """Raise SignInThrottled while this username or address is locked out."""
    keys = [_key("locked", scope, value) for scope, value, _ in _watched(username, address)]
    until = max(cache.get_many(keys).values(), default=0)
    wait = until - time.time()
    if wait > 0:
        raise SignInThrottled(math.ceil(wait))


def count_failure(username, address):
    """Count one failed sign-in; returns (scope, failures) for each limit it reached."""
    window = settings.MODELGATE_SIGNIN_FAILURE_WINDOW_SECONDS
    reached = []
    for scope, value, limit in _watched(username, address):
        key = _key("failures", scope, value)
        cache.add(key, 0, window)  # the window starts at the first failure
        try:
            failures = cache.incr(key)
        except ValueError:  # the window ended between add and incr
            cache.set(key, 1, window)
            failures = 1
        if failures >= limit:
            reached.append((scope, failures))
    return reached


def forget_failures(username):
    """A right password clears the username's failures (not the address's)."""
    cache.delete(_key("failures", USER, username))


def lock(scope, value):
    """Lock sign-ins for a username or address. Returns the lockout's seconds, or 0 if it
    was locked already (by another process, which records it)."""
    seconds = settings.MODELGATE_SIGNIN_LOCKOUT_SECONDS
    if not cache.add(_key("locked", scope, value), time.time() + seconds, seconds):
        return 0
    cache.delete(_key("failures", scope, value))  # counting starts afresh after the lockout
    return seconds


def unlock(scope, value):
    cache.delete(_key("locked", scope, value))
