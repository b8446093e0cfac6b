"""The inference hot path: `GET registered-models/alias` and `GET model-versions/get` answered
in front of Django (config/wsgi.py wraps the WSGI application in HotPath) from a per-process
cache of the whole responses the full stack gave, checked on every request with one indexed
query.

An entry remembers the generations (audit.models.Generation) of the registry and of the model
it was rendered at. record() bumps them in the transaction of every change, so an entry is
served only while nothing it depends on has changed since: a moved alias, a new tag, a deleted
or renamed model, a revoked token, a changed grant or team, a deactivated user all take effect
on the very next request, in every process. Generations are read before the view runs, so a
change committed meanwhile makes the entry stale at once rather than wrong.

Only what the full stack answered with 200 for a Bearer token is kept, keyed by the token's
hash, the path, the exact query string, Host and Accept; the token's expiry is checked on
every hit. A hit skips the middleware and URL resolution, the part of a request that costs
the most once its answer is known, but not what operations rely on: it gets its own request
id and is counted and logged like every request (by `observe`, ops.middleware's, handed in by
config/wsgi.py: ops is a layer above this one). Everything else, and every miss, is Django
itself.
"""

import functools
import threading
import time
from urllib.parse import parse_qsl

import psycopg
from django.db import DatabaseError, connection
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from accounts.authentication import BearerTokenAuthentication
from accounts.middleware import current_request_id, request_id_for
from accounts.models import ApiToken, hash_token
from audit.models import Generation
from registry.db import fetch_prepared
from registry.models import RegisteredModel

MAX_ENTRIES = 20_000
MAX_PATHS = 1_000
# Where a marked view leaves the token it authenticated, in the WSGI environ (= request.META).
TOKEN_KEY = "modelgate.hot_path.token"

_GENERATIONS_SQL = (
    f"SELECT m.id, coalesce(g.value, 0), "
    f"coalesce((SELECT value FROM {Generation._meta.db_table} WHERE scope = ''), 0) "
    f"FROM {RegisteredModel._meta.db_table} m "
    f"LEFT JOIN {Generation._meta.db_table} g ON g.scope = m.uid WHERE m.name = %s"
)

_entries = {}  # key -> (generations, token, headers, body)
_paths = {}  # PATH_INFO -> (the view's parameters or None, its URL pattern)
_lock = threading.Lock()


def forget_all():
    with _lock:
        _entries.clear()


def cacheable(view, params):
    """Mark `view` (a DRF view) as one HotPath may answer for GETs with exactly `params` in
    the query string: it leaves the token that authenticated the request where HotPath finds
    it, so an answer is only ever remembered for a token."""

    @csrf_exempt
    @functools.wraps(view)  # keeps DRF's .cls: the schema and the endpoint tests read it
    def hot_view(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        drf_request = getattr(response, "renderer_context", {}).get("request")
        token = getattr(drf_request, "auth", None)
        if isinstance(token, ApiToken):
            request.META[TOKEN_KEY] = token
        return response

    hot_view.hot_params = frozenset(params)
    return hot_view


def _generations(name):
    """(model id, model generation, registry generation), or None for no such model."""
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()  # what request_started does for Django
    if connection.vendor == "postgresql":
        rows = fetch_prepared(_GENERATIONS_SQL, [name])  # this query runs on every hit
        return rows[0] if rows else None
    with connection.cursor() as cursor:
        cursor.execute(_GENERATIONS_SQL, [name])
        return cursor.fetchone()


def _route(path):
    """(parameters, URL pattern) of a marked view at `path`, or None."""
    known = _paths.get(path)
    if known is None:
        try:
            match = resolve(path)
            known = (getattr(match.func, "hot_params", None), match.route)
        except Resolver404:
            known = (None, None)
        if len(_paths) < MAX_PATHS:
            _paths[path] = known
    return known if known[0] is not None else None


def _candidate(environ):
    """(cache key, model name, URL pattern) for a request HotPath may answer, else None."""
    if environ.get("REQUEST_METHOD") != "GET" or environ.get("CONTENT_LENGTH") not in (None, "", "0"):
        return None
    scheme, _, raw = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw or " " in raw:
        return None
    route = _route(environ.get("PATH_INFO", ""))
    if route is None:
        return None
    params, pattern = route
    query_string = environ.get("QUERY_STRING", "")
    pairs = parse_qsl(query_string, keep_blank_values=True)
    query = dict(pairs)
    if len(pairs) != len(params) or query.keys() != params or "\x00" in query["name"]:
        return None
    key = (environ["PATH_INFO"], hash_token(raw), query_string, environ.get("HTTP_HOST", ""),
           environ.get("HTTP_ACCEPT", ""))
    return key, query["name"], pattern


class HotPath:
    """WSGI middleware: serves current cached answers of the marked views, remembers new ones."""

    def __init__(self, app, observe):
        self.app, self.observe = app, observe

    def __call__(self, environ, start_response):
        candidate = _candidate(environ)
        if candidate is None:
            return self.app(environ, start_response)
        started = time.perf_counter()
        key, name, pattern = candidate
        try:
            generations = _generations(name)
        except (psycopg.Error, DatabaseError):
            connection.close()  # broken: Django opens a new one and answers (or fails) itself
            return self.app(environ, start_response)
        if generations is None:
            return self.app(environ, start_response)
        entry = _entries.get(key)
        if entry is not None and entry[0] == generations:
            token = entry[1]
            if token.expires_at is None or token.expires_at > timezone.now():
                return self._serve(environ, start_response, entry, pattern, started)
        return self._remember(environ, start_response, key, generations)

    def _serve(self, environ, start_response, entry, pattern, started):
        _, token, headers, body = entry
        BearerTokenAuthentication.touch(token)
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        start_response("200 OK", [*headers, ("X-Request-Id", request_id)])
        current_request_id.set(request_id)
        try:
            self.observe("GET", environ.get("PATH_INFO", ""), pattern, 200, time.perf_counter() - started,
                         environ.get("REMOTE_ADDR"))
        finally:
            current_request_id.set(None)
        return [body]

    def _remember(self, environ, start_response, key, generations):
        answered = {}

        def capture(status, headers, exc_info=None):
            answered["status"], answered["headers"] = status, headers
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        token = environ.get(TOKEN_KEY)
        headers = answered.get("headers", [])
        if (not isinstance(token, ApiToken) or not answered.get("status", "").startswith("200 ")
                or any(name.lower() == "set-cookie" for name, _ in headers)):
            return result
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()  # request_finished: Django's end-of-request work
        kept = [(name, value) for name, value in headers if name.lower() != "x-request-id"]
        with _lock:
            if len(_entries) >= MAX_ENTRIES:
                _entries.clear()
            _entries[key] = (generations, token, kept, body)
        return [body]
