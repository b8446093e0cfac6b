"""On PostgreSQL a search page is rendered by the database (registry/api/render_sql.py). It must
give, byte for byte once encoded, what render.model_json gives for the same models: every key,
its order, what is left out, versions per stage, aliases, tags, timestamps."""

import json
from datetime import UTC, datetime

import pytest

from audit.ctx import Ctx
from registry import actions, search, selectors
from registry.api import render, render_sql
from registry.models import ModelVersion, RegisteredModel


@pytest.fixture
def varied_registry(owner_ctx, ctx_for, admin_user):
    admin = ctx_for(admin_user)
    actions.stage_create(admin, name="Shadow", required_level="CAN_MANAGE_STAGING_VERSIONS")  # inactive
    actions.stage_create(admin, name="Canary", required_level="CAN_MANAGE_PRODUCTION_VERSIONS", active=True)

    actions.model_create(owner_ctx, name="bare")
    actions.model_create(Ctx.system(), name="made-by-the-system", description="no creator")
    actions.model_create(
        owner_ctx, name="fraud", description='Détecteur "anti-fraude"\nline two \\ ünïcode ✓',
        tags=[{"key": "team", "value": "risk"}, {"key": "Tier", "value": ""}, {"key": "émoji", "value": "🚀"}],
    )
    for n, stage in enumerate(["None", "Staging", "Production", "Production", "Archived", "Shadow", "Canary"], 1):
        actions.version_create(
            owner_ctx, name="fraud", source=f"s3://bucket/fraud/{n}", run_id="r" * n if n % 2 else "",
            run_link="https://ci/run" if n == 3 else "", description=f"v{n}",
            tags=[{"key": "dataset", "value": f"march-{n}"}] if n in (2, 4) else None,
            model_id="m-123" if n == 4 else "",
        )
        if stage != "None":
            actions.version_transition(owner_ctx, name="fraud", version=str(n), stage=stage)
    actions.version_create(owner_ctx, name="fraud", source="s3://bucket/fraud/8")
    actions.version_delete(owner_ctx, name="fraud", version="8")  # newest None, but deleted
    actions.alias_set(owner_ctx, name="fraud", alias="champion", version="4")
    actions.alias_set(owner_ctx, name="fraud", alias="Backup", version="4")
    actions.alias_set(owner_ctx, name="fraud", alias="challenger", version="2")
    actions.alias_set(owner_ctx, name="fraud", alias="old", version="1")  # not a latest version
    # Moments on and just before a whole millisecond: rounded down, never to the nearest.
    RegisteredModel.objects.filter(name="bare").update(created_at=datetime(2026, 3, 1, 12, 0, 0, 123000, UTC))
    ModelVersion.objects.filter(model__name="fraud", version=2).update(
        updated_at=datetime(2026, 3, 1, 12, 0, 0, 999999, UTC)
    )


def rendered_both_ways(viewer, **search):
    ids, ids_next = selectors.models_search_ids(viewer, **search)
    models, next_token = selectors.models_search(viewer, **search)
    assert ids_next == next_token
    assert list(ids) == [m.pk for m in models]
    return render_sql.models_json(ids), [render.model_json(m) for m in models]


def test_the_database_renders_each_model_exactly_as_model_json_does(varied_registry, owner):
    by_database, by_python = rendered_both_ways(owner)

    assert [m["name"] for m in by_python] == ["bare", "fraud", "made-by-the-system"]
    assert json.dumps(by_database) == json.dumps(by_python)
    # The cases above really are in it.
    fraud = by_python[1]
    assert [(v["version"], v["current_stage"]) for v in fraud["latest_versions"]] == [
        ("1", "None"), ("2", "Staging"), ("4", "Production"), ("5", "Archived"), ("7", "Canary"),
    ]
    assert fraud["latest_versions"][2]["aliases"] == ["Backup", "champion"]
    assert fraud["latest_versions"][2]["model_id"] == "m-123"
    assert "user_id" not in by_python[2]
    assert by_python[0]["creation_timestamp"] == 1772366400123
    assert fraud["latest_versions"][1]["last_updated_timestamp"] == 1772366400999


def test_pages_and_filters_render_the_same_both_ways(varied_registry, owner):
    for params in (
        {"max_results": 1},
        {"max_results": 2, "page_token": search.encode_page_token(1)},
        {"filter_string": "tags.team = 'risk'"},
        {"filter_string": "name LIKE '%a%'", "order_by": ["last_updated_timestamp DESC"]},
        {"filter_string": "name = 'nothing'"},
    ):
        by_database, by_python = rendered_both_ways(owner, **params)
        assert json.dumps(by_database) == json.dumps(by_python), params


def test_an_empty_page_costs_no_statement(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert render_sql.models_json([]) == []
