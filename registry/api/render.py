"""Registry entities in MLflow's wire format: snake_case, versions as strings, timestamps as
ms numbers, status READY, tags as [{key, value}], empty repeated fields omitted."""

from django.db import connection

from audit.timestamps import to_millis
from registry import selectors
from registry.selectors import loaded

from . import render_sql


def page_json(key, rows, next_token, render, *, omit_empty=False):
    """One page of a list: `{key: [render(row), ...], "next_page_token": ...}` (rows already
    rendered when `render` is None), the token only when there is a next page. MLflow's own
    lists omit an empty `key` too (proto3 JSON drops empty repeated fields); Databricks' and
    Modelgate's keep it."""
    body = {}
    if rows or not omit_empty:
        body[key] = [render(row) for row in rows] if render else list(rows)
    if next_token:
        body["next_page_token"] = next_token
    return body


def tags_json(tag_rows):
    return [{"key": t.key, "value": t.value} for t in tag_rows]


def version_json(mv, *, aliases=None):
    """`aliases` may be given (a list of names) when the caller already holds them."""
    body = {
        "name": mv.model.name,
        "version": str(mv.version),
        "creation_timestamp": to_millis(mv.created_at),
        "last_updated_timestamp": to_millis(mv.updated_at),
        "current_stage": mv.current_stage,
        "description": mv.description,
        "source": mv.source,
        "run_id": mv.run_id,
        "status": "READY",
        "run_link": mv.run_link,
    }
    if mv.created_by_id is not None:
        body["user_id"] = mv.created_by.username
    if mv.logged_model_id:
        body["model_id"] = mv.logged_model_id
    tags = tags_json(loaded(mv, "tags"))
    if tags:
        body["tags"] = tags
    if aliases is None:
        aliases = [a.alias for a in loaded(mv, "aliases")]
    if aliases:
        body["aliases"] = aliases
    return body


def model_json(model):
    """Expects a model from selectors (tags, aliases and latest_versions loaded)."""
    alias_rows = loaded(model, "aliases")
    aliases_by_version = {}
    for row in alias_rows:
        aliases_by_version.setdefault(row.version_id, []).append(row.alias)
    body = {
        "name": model.name,
        "creation_timestamp": to_millis(model.created_at),
        "last_updated_timestamp": to_millis(model.updated_at),
        "description": model.description,
    }
    if model.created_by_id is not None:
        body["user_id"] = model.created_by.username
    latest = getattr(model, "latest_versions", None)
    if latest:
        body["latest_versions"] = [
            version_json(mv, aliases=aliases_by_version.get(mv.pk, [])) for mv in latest
        ]
    tags = tags_json(loaded(model, "tags"))
    if tags:
        body["tags"] = tags
    if alias_rows:
        body["aliases"] = [{"alias": a.alias, "version": str(a.version.version)} for a in alias_rows]
    return body


def models_page_json(viewer, **search):
    """One page of selectors.models_search, rendered (page_json of model_json): by the
    database on PostgreSQL (render_sql), else here."""
    if connection.vendor == "postgresql":
        ids, next_token = selectors.models_search_ids(viewer, **search)
        rows, render = render_sql.models_json(ids), None
    else:
        rows, next_token = selectors.models_search(viewer, **search)
        render = model_json
    return page_json("registered_models", rows, next_token, render, omit_empty=True)
