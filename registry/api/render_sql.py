"""A page of registered models in MLflow's wire format, built by PostgreSQL.

Rendered in Python, a page of 100 models costs a model instance per model, creator, tag, alias
and version, and a query compiled per relation: most of a search's time. On PostgreSQL the
page's ids (selectors.models_search_ids) go to one constant statement, prepared once per
connection, that returns exactly what render.model_json gives for each, in order and with the
same keys in the same order: tests/registry/test_render_sql.py renders one registry both
ways. A change to model_json or version_json is a change here too.
"""

from accounts.models import User
from registry.db import fetch_prepared
from registry.models import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
    Stage,
)


def _millis(column):
    """audit.timestamps.to_millis, in SQL: whole milliseconds since the epoch, rounded down
    (a cast to bigint alone would round to the nearest)."""
    return f"floor(extract(epoch FROM {column}) * 1000)::bigint"


# Optional keys (user_id, model_id, tags, aliases, latest_versions) are NULL when absent and
# json_strip_nulls drops them: no other value is ever NULL (every column rendered is NOT NULL).
_VERSION = f"""json_build_object(
    'name', m.name,
    'version', v.version::text,
    'creation_timestamp', {_millis('v.created_at')},
    'last_updated_timestamp', {_millis('v.updated_at')},
    'current_stage', v.current_stage,
    'description', v.description,
    'source', v.source,
    'run_id', v.run_id,
    'status', 'READY'::text,
    'run_link', v.run_link,
    'user_id', vu.username,
    'model_id', nullif(v.logged_model_id, ''),
    'tags', (SELECT json_agg(json_build_object('key', t.key, 'value', t.value) ORDER BY t.key)
             FROM {ModelVersionTag._meta.db_table} t WHERE t.version_id = v.id),
    'aliases', (SELECT json_agg(a.alias ORDER BY a.alias)
                FROM {RegisteredModelAlias._meta.db_table} a WHERE a.version_id = v.id)
)"""

# selectors._latest_per_stage: the newest live version of each stage, but inactive custom stages.
_LATEST_VERSIONS = f"""(
    SELECT json_agg({_VERSION} ORDER BY v.version)
    FROM {ModelVersion._meta.db_table} v LEFT JOIN {User._meta.db_table} vu ON vu.id = v.created_by_id
    WHERE v.model_id = m.id AND v.deleted_at IS NULL
      AND v.version = (SELECT w.version FROM {ModelVersion._meta.db_table} w
                       WHERE w.model_id = v.model_id AND w.current_stage = v.current_stage
                         AND w.deleted_at IS NULL ORDER BY w.version DESC LIMIT 1)
      AND v.current_stage NOT IN (SELECT s.name FROM {Stage._meta.db_table} s WHERE NOT s.active)
)"""

MODELS_SQL = f"""
SELECT json_agg(json_strip_nulls(json_build_object(
    'name', m.name,
    'creation_timestamp', {_millis('m.created_at')},
    'last_updated_timestamp', {_millis('m.updated_at')},
    'description', m.description,
    'user_id', u.username,
    'latest_versions', {_LATEST_VERSIONS},
    'tags', (SELECT json_agg(json_build_object('key', t.key, 'value', t.value) ORDER BY t.key)
             FROM {RegisteredModelTag._meta.db_table} t WHERE t.model_id = m.id),
    'aliases', (SELECT json_agg(json_build_object('alias', a.alias, 'version', av.version::text) ORDER BY a.alias)
                FROM {RegisteredModelAlias._meta.db_table} a
                JOIN {ModelVersion._meta.db_table} av ON av.id = a.version_id WHERE a.model_id = m.id)
)) ORDER BY page.n)
FROM unnest(%s::bigint[]) WITH ORDINALITY AS page(id, n)
JOIN {RegisteredModel._meta.db_table} m ON m.id = page.id
LEFT JOIN {User._meta.db_table} u ON u.id = m.created_by_id
"""


def models_json(ids):
    """render.model_json of each model in `ids`, in that order ([] for none)."""
    if not ids:
        return []
    [(rendered,)] = fetch_prepared(MODELS_SQL, [list(ids)])  # psycopg loads the json
    return rendered
