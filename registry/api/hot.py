"""The inference hot path: `GET registered-models/alias` and `GET model-versions/get` answered
from a per-process cache of the bodies their views rendered, checked on every request with one
indexed query.

An entry remembers the generations (audit.models.Generation) of the registry and of the model
it was rendered at. record() bumps them in the transaction of every change, so an entry is
served only while nothing it depends on has changed since: a moved alias, a new tag, a deleted
or renamed model, a revoked token, a changed grant or team, a deactivated user all take effect
on the very next request, in every process. Generations are read before the view runs, so a
change committed meanwhile makes the entry stale at once rather than wrong.

Only Bearer-token requests with the plain query string are cached, keyed by the token's hash;
a token's expiry is checked on every hit. Everything else, and every miss, is the view itself.
"""

import functools
import threading

from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from accounts.authentication import BearerTokenAuthentication
from accounts.models import ApiToken, hash_token
from audit.models import Generation
from registry.models import RegisteredModel

MAX_ENTRIES = 20_000

_GENERATIONS_SQL = (
    f"SELECT m.id, coalesce(g.value, 0), "
    f"coalesce((SELECT value FROM {Generation._meta.db_table} WHERE scope = ''), 0) "
    f"FROM {RegisteredModel._meta.db_table} m "
    f"LEFT JOIN {Generation._meta.db_table} g ON g.scope = m.uid WHERE m.name = %s"
)

_entries = {}
_lock = threading.Lock()


def forget_all():
    with _lock:
        _entries.clear()


def _generations(name):
    """(model id, model generation, registry generation), or None for no such model."""
    with connection.cursor() as cursor:
        cursor.execute(_GENERATIONS_SQL, [name])
        return cursor.fetchone()


def _bearer(request):
    scheme, _, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw or " " in raw:
        return None
    return raw


def cached_get(view, params):
    """Wrap `view` (a DRF view) so that its GETs with exactly `params` in the query string
    are served from the cache while current."""
    params = frozenset(params)

    @csrf_exempt
    @functools.wraps(view)  # keeps DRF's .cls: the schema and the endpoint tests read it
    def hot_view(request, *args, **kwargs):
        raw_token = _bearer(request) if request.method == "GET" else None
        query = request.GET
        if (
            raw_token is None
            or set(query) != params
            or any(len(query.getlist(p)) != 1 for p in params)
            or request.META.get("CONTENT_LENGTH") not in (None, "", "0")
        ):
            return view(request, *args, **kwargs)
        generations = _generations(query["name"])
        if generations is None:
            return view(request, *args, **kwargs)
        key = (request.path_info, hash_token(raw_token), request.META.get("QUERY_STRING", ""))
        entry = _entries.get(key)
        if entry is not None and entry[0] == generations:
            _, token, body, headers = entry
            if token.expires_at is None or token.expires_at > timezone.now():
                BearerTokenAuthentication.touch(token)
                response = HttpResponse(body)
                for name, value in headers:
                    response[name] = value
                return response
        response = view(request, *args, **kwargs)
        response.render()
        token = getattr(response.renderer_context.get("request"), "auth", None) if hasattr(response, "renderer_context") else None
        if response.status_code == 200 and isinstance(token, ApiToken):
            with _lock:
                if len(_entries) >= MAX_ENTRIES:
                    _entries.clear()
                _entries[key] = (generations, token, response.content, list(response.items()))
        return response

    return hot_view
