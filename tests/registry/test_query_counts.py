"""The read paths cost a fixed number of queries, whatever the page size: search pages render
tags, aliases and latest versions from prefetches (or, for the API on PostgreSQL, in one
statement), and the alias lookup that inference services
call at high rates stays a small constant."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry import actions, selectors
from registry.api import render
from registry.models import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)

# The bearer token lookup that authenticates every request. (last_used_at is written at most
# once a minute, and each test warms the token up first, so no UPDATE is counted.)
AUTH_QUERIES = 1
# Reading needs no permission query while the default level (CAN_READ) grants it.
ACCESS_QUERIES = 0


@pytest.fixture
def busy_registry(owner):
    """60 models, each with two tags, three versions (None, Staging, Production) with a tag
    each, and two aliases. Built with bulk inserts: the actions would take seconds, and only
    the read path is under test here."""
    models = RegisteredModel.objects.bulk_create(
        RegisteredModel(name=f"model-{i:02d}", created_by=owner, next_version=4) for i in range(60)
    )
    RegisteredModelTag.objects.bulk_create(
        RegisteredModelTag(model=m, key=k, value="x") for m in models for k in ("team", "tier")
    )
    versions = ModelVersion.objects.bulk_create(
        ModelVersion(model=m, version=n, source="s3://b/p", current_stage=stage, created_by=owner)
        for m in models
        for n, stage in ((1, "None"), (2, "Staging"), (3, "Production"))
    )
    ModelVersionTag.objects.bulk_create(ModelVersionTag(version=v, key="k", value="v") for v in versions)
    RegisteredModelAlias.objects.bulk_create(
        RegisteredModelAlias(model=v.model, alias=alias, version=v)
        for v in versions
        for alias in {2: ["challenger"], 3: ["champion"]}.get(v.version, [])
    )


def queries_for(api, path, **params):
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path, **params)
    assert response.status_code == 200, response.json_body
    return len(captured), response.json_body


@pytest.fixture
def warm_api(api):
    # The first request of a fresh token records last_used_at; later ones within a minute do not.
    api.get("registered-models/search", max_results=1)
    return api


def test_registered_model_search_costs_the_same_queries_for_5_or_50_models(warm_api, busy_registry):
    small, small_body = queries_for(warm_api, "registered-models/search", max_results=5)
    large, large_body = queries_for(warm_api, "registered-models/search", max_results=50)

    assert len(small_body["registered_models"]) == 5
    assert len(large_body["registered_models"]) == 50
    # What is rendered really came from the prefetches.
    first = large_body["registered_models"][0]
    assert len(first["tags"]) == 2
    assert len(first["aliases"]) == 2
    assert len(first["latest_versions"]) == 3
    assert large == small


def test_model_version_search_costs_the_same_queries_for_5_or_50_versions(warm_api, busy_registry):
    small, small_body = queries_for(warm_api, "model-versions/search", max_results=5)
    large, large_body = queries_for(warm_api, "model-versions/search", max_results=50)

    assert len(small_body["model_versions"]) == 5
    assert len(large_body["model_versions"]) == 50
    assert any("aliases" in v for v in large_body["model_versions"])
    assert all(v["tags"] == [{"key": "k", "value": "v"}] for v in large_body["model_versions"])
    assert large == small


def test_filtered_searches_cost_the_same_queries_for_any_page_size(warm_api, busy_registry):
    params = {"filter": "tags.team = 'x' AND name LIKE 'model-%'", "order_by": ["name DESC"]}
    small, _ = queries_for(warm_api, "registered-models/search", max_results=5, **params)
    large, _ = queries_for(warm_api, "registered-models/search", max_results=50, **params)

    assert large == small

    version_params = {"filter": "tags.k = 'v' AND version_number >= 1"}
    small, _ = queries_for(warm_api, "model-versions/search", max_results=5, **version_params)
    large, _ = queries_for(warm_api, "model-versions/search", max_results=50, **version_params)

    assert large == small


def test_a_page_of_models_is_its_ids_then_one_statement_that_renders_them(
    warm_api, busy_registry, django_assert_num_queries
):
    # On PostgreSQL the database renders the page (registry/api/render_sql.py).
    with django_assert_num_queries(AUTH_QUERIES + ACCESS_QUERIES + 2):
        warm_api.get("registered-models/search", max_results=50)


def test_a_page_of_models_for_rendering_is_one_query_plus_four_prefetches(owner, busy_registry, django_assert_num_queries):
    # What the pages (and the API elsewhere than on PostgreSQL) render from: the page, then
    # its tags, aliases, latest versions, and the latest versions' tags.
    with django_assert_num_queries(ACCESS_QUERIES + 5):
        models, _ = selectors.models_search(owner, max_results=50)
        [render.model_json(m) for m in models]


def test_a_page_of_versions_is_one_query_plus_two_prefetches(
    warm_api, busy_registry, django_assert_num_queries
):
    # The page joined to models and creators, then its tags and aliases.
    with django_assert_num_queries(AUTH_QUERIES + ACCESS_QUERIES + 3):
        warm_api.get("model-versions/search", max_results=50)


def test_get_by_alias_is_a_small_constant_number_of_queries(
    warm_api, busy_registry, django_assert_num_queries
):
    # The view itself (a repeat is answered in front of Django: tests/registry/test_hot_path_cache.py):
    # the alias row joined to its version and model, the version's tags, its aliases.
    with django_assert_num_queries(AUTH_QUERIES + ACCESS_QUERIES + 3):
        response = warm_api.get("registered-models/alias", name="model-07", alias="champion")

    assert response.json_body["model_version"]["version"] == "3"
    assert response.json_body["model_version"]["aliases"] == ["champion"]


def test_getting_a_model_does_not_grow_with_its_versions(warm_api, owner_ctx):
    def cost_with_versions(name, count):
        actions.model_create(owner_ctx, name=name)
        for number in range(1, count + 1):
            actions.version_create(owner_ctx, name=name, source="s3://b/p")
            actions.alias_set(owner_ctx, name=name, alias=f"a{number}", version=str(number))
        queries, body = queries_for(warm_api, "registered-models/get", name=name)
        assert len(body["registered_model"]["aliases"]) == count
        return queries

    assert cost_with_versions("few", 2) == cost_with_versions("many", 12)
