"""What a caller can see when some models are readable and some are not (default level NONE):
searches and lists hold exactly the readable ones, count and page right, and nothing of an
unreadable model leaks (names, tags, aliases, versions, sources). A model the caller cannot
read answers exactly like a missing one."""

import json
import math
import uuid

import pytest
from django.contrib.auth.models import Group

from audit.models import Activity
from registry.models import ModelVersion

READABLE = ["alpha", "bravo", "charlie", "delta", "echo"]
# Every string that belongs only to the unreadable models: none may appear in any answer.
SECRETS = ["hush-a", "hush-b", "hush-c", "zz-codename", "undercover", "s3://vault"]
UNREADABLE = ["hush-a", "hush-b", "hush-c"]


@pytest.fixture
def registry(no_default_level, build, grant, reviewer):
    """Five models the reviewer may read (own grants at various levels, one through a team)
    and three it may not, each with versions, tags and an alias."""
    team = Group.objects.create(name="risk-team")
    reviewer.groups.add(team)
    levels = ["CAN_READ", "CAN_EDIT", "CAN_MANAGE_STAGING_VERSIONS", "CAN_MANAGE", None]
    for name, level in zip(READABLE, levels):
        model = build(name, stages=("None", "Staging"), model_tags={"team": "risk"},
                      version_tags={"k": "v"}, aliases={"champion": 1})
        grant(model, reviewer if level else team, level=level or "CAN_READ")
    for name in UNREADABLE:
        build(name, stages=("None", "Production", "None"),
              model_tags={"team": "risk", "zz-codename": "undercover"},
              version_tags={"k": "v", "zz-codename": "undercover"}, aliases={"undercover": 2})
    # Their sources are secret too.
    ModelVersion.objects.filter(model__name__in=UNREADABLE).update(source="s3://vault/model")


def assert_no_secret(response):
    raw = response.content.decode()
    for secret in SECRETS:
        assert secret not in raw, f"{secret!r} leaked: {raw}"


def walk(api, path, key, check_leaks=True, **params):
    """Every page of a paginated call: (items, number of pages). Each raw page is checked for
    leaks on the way."""
    items, pages, token = [], 0, None
    while True:
        response = api.get(path, **params, **({"page_token": token} if token else {}))
        assert response.status_code == 200, response.json_body
        if check_leaks:
            assert_no_secret(response)
        pages += 1
        items += response.json_body.get(key, [])
        token = response.json_body.get("next_page_token")
        if not token:
            return items, pages
        assert pages < 50, "paging does not end"


@pytest.mark.parametrize(("prefix", "path"), [
    ("/api/2.0/mlflow/", "registered-models/search"),
    ("/api/2.0/mlflow/", "registered-models/list"),
    ("/ajax-api/2.0/mlflow/", "registered-models/search"),
])
def test_model_searches_and_lists_hold_exactly_the_readable_models(registry, reviewer, api_as,
                                                                    prefix, path):
    api = api_as(reviewer, prefix=prefix)

    for page_size in (1, 2, 5, 100):
        models, pages = walk(api, path, "registered_models", max_results=page_size)

        assert [m["name"] for m in models] == READABLE
        # No empty last page: a full page says "more" only when there is more.
        assert pages == math.ceil(len(READABLE) / page_size)
        for model in models:
            assert [v["version"] for v in model["latest_versions"]] == ["1", "2"]
            assert model["aliases"] == [{"alias": "champion", "version": "1"}]


def test_model_search_pages_are_exact(registry, reviewer, api_as):
    api = api_as(reviewer)

    first = api.get("registered-models/search", max_results=2).json_body
    second = api.get("registered-models/search", max_results=2, page_token=first["next_page_token"]).json_body
    third = api.get("registered-models/search", max_results=2, page_token=second["next_page_token"]).json_body

    assert [m["name"] for m in first["registered_models"]] == ["alpha", "bravo"]
    assert [m["name"] for m in second["registered_models"]] == ["charlie", "delta"]
    assert [m["name"] for m in third["registered_models"]] == ["echo"]
    assert "next_page_token" not in third


def test_version_search_holds_exactly_the_readable_versions(registry, reviewer, api_as):
    api = api_as(reviewer)

    for page_size in (1, 3, 10, 1000):
        versions, pages = walk(api, "model-versions/search", "model_versions", max_results=page_size)

        assert sorted((v["name"], v["version"]) for v in versions) == sorted(
            (name, number) for name in READABLE for number in ("1", "2")
        )
        assert pages == math.ceil(10 / page_size)


AIMED_AT_UNREADABLE = [
    ("registered-models/search", "registered_models", "name = 'hush-a'"),
    ("registered-models/search", "registered_models", "name LIKE 'hush%'"),
    ("registered-models/search", "registered_models", "name ILIKE '%USH%'"),
    ("registered-models/search", "registered_models", "tags.`zz-codename` = 'undercover'"),
    ("model-versions/search", "model_versions", "name = 'hush-a'"),
    ("model-versions/search", "model_versions", "name LIKE 'hush%'"),
    ("model-versions/search", "model_versions", "source_path = 's3://vault/model'"),
    ("model-versions/search", "model_versions", "tags.`zz-codename` = 'undercover'"),
]


def test_filters_aimed_at_unreadable_models_find_nothing(registry, reviewer, owner, api_as):
    api, owner_api = api_as(reviewer), api_as(owner)
    for path, key, filter_string in AIMED_AT_UNREADABLE:
        response = api.get(path, filter=filter_string, max_results=1)

        assert response.status_code == 200, response.json_body
        assert response.json_body == {}, filter_string
        assert_no_secret(response)
        # The same filter finds them for someone who may read them (so the filter is valid).
        assert owner_api.get(path, filter=filter_string).json_body[key], filter_string


def test_readers_with_default_level_see_everything(registry, reviewer, api_as, settings):
    settings.MODELGATE_DEFAULT_LEVEL = "CAN_READ"

    models, _ = walk(api_as(reviewer), "registered-models/search", "registered_models",
                     check_leaks=False, max_results=3)

    assert sorted(m["name"] for m in models) == sorted(READABLE + UNREADABLE)


# An unreadable model answers exactly like a missing one --------------------------------------

HIDDEN, MISSING = "hush-a", "gone-a"  # same length, so even the message length cannot tell

BY_NAME = [
    ("GET", "registered-models/get", {}),
    ("GET", "databricks/registered-models/get", {}),
    ("POST", "registered-models/get-latest-versions", {}),
    ("GET", "registered-models/alias", {"alias": "undercover"}),
    ("GET", "model-versions/get", {"version": "1"}),
    ("GET", "model-versions/get", {"version": "99"}),
    ("GET", "model-versions/get-download-uri", {"version": "1"}),
    ("PATCH", "registered-models/update", {"description": "x"}),
    ("POST", "registered-models/rename", {"new_name": "renamed"}),
    ("DELETE", "registered-models/delete", {}),
    ("POST", "registered-models/set-tag", {"key": "k", "value": "v"}),
    ("DELETE", "registered-models/delete-tag", {"key": "team"}),
    ("POST", "registered-models/alias", {"alias": "a", "version": "1"}),
    ("POST", "registered-models/alias", {"alias": "a", "version": "99"}),
    ("DELETE", "registered-models/alias", {"alias": "undercover"}),
    ("POST", "model-versions/create", {"source": "s3://bucket/x"}),
    ("PATCH", "model-versions/update", {"version": "1", "description": "x"}),
    ("POST", "model-versions/transition-stage", {"version": "1", "stage": "Staging"}),
    ("POST", "model-versions/transition-stage", {"version": "99", "stage": "Staging"}),
    ("DELETE", "model-versions/delete", {"version": "1"}),
    ("POST", "model-versions/set-tag", {"version": "1", "key": "k", "value": "v"}),
    ("DELETE", "model-versions/delete-tag", {"version": "1", "key": "k"}),
]


def answer(response, name):
    """What a caller learns from a response, with the model's name taken out."""
    return (
        response.status_code,
        json.loads(response.content.decode().replace(name, "NAME")),
        response.get("Content-Type"),
    )


@pytest.fixture
def hidden_model(no_default_level, build, reviewer):
    """One model the reviewer cannot read (they hold no grant; the default level is NONE)."""
    return build(HIDDEN, stages=("None", "Production"), model_tags={"team": "risk"},
                 version_tags={"k": "v"}, aliases={"undercover": 2})


@pytest.mark.parametrize("prefix", ["/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"])
@pytest.mark.parametrize(("method", "path", "params"), BY_NAME,
                         ids=[f"{m}-{p}-{'-'.join(map(str, x.values()))}" for m, p, x in BY_NAME])
def test_an_unreadable_model_answers_like_a_missing_one(
    hidden_model, reviewer, api_as, method, path, params, prefix
):
    api = api_as(reviewer, prefix=prefix)
    activities = Activity.objects.count()

    hidden = api.call(method, path, {"name": HIDDEN, **params})
    missing = api.call(method, path, {"name": MISSING, **params})

    assert hidden.status_code == 404, hidden.json_body
    assert hidden.json_body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert answer(hidden, HIDDEN) == answer(missing, MISSING)
    assert Activity.objects.count() == activities


@pytest.mark.parametrize(("method", "suffix", "body"), [
    ("GET", "", None),
    ("GET", "/permissionLevels", None),
    ("PATCH", "", {"access_control_list": [{"user_name": "reviewer", "permission_level": "CAN_MANAGE"}]}),
    ("PUT", "", {"access_control_list": [{"user_name": "reviewer", "permission_level": "CAN_MANAGE"}]}),
])
def test_an_unreadable_model_id_answers_like_a_missing_one(hidden_model, reviewer, api_as, method,
                                                           suffix, body):
    hidden_uid = hidden_model.uid
    missing_uid = uuid.uuid4().hex
    api = api_as(reviewer, prefix="/api/2.0/permissions/registered-models/")
    activities = Activity.objects.count()

    hidden = api.call(method, hidden_uid + suffix, body)
    missing = api.call(method, missing_uid + suffix, body)

    assert hidden.status_code == 404, hidden.json_body
    assert hidden.json_body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert answer(hidden, hidden_uid) == answer(missing, missing_uid)
    assert Activity.objects.count() == activities


# The same through the real clients ------------------------------------------------------------


@pytest.mark.e2e
def test_real_clients_page_through_only_the_readable_models(registry, reviewer, mlflow_as, workspace_as):
    client = mlflow_as(reviewer)
    names, token, pages = [], None, 0
    while True:
        page = client.search_registered_models(max_results=2, page_token=token)
        names += [m.name for m in page]
        pages += 1
        token = page.token
        if not token:
            break
    assert (names, pages) == (READABLE, 3)

    versions, token = [], None
    while True:
        page = client.search_model_versions(max_results=3, page_token=token)
        versions += [(v.name, v.version) for v in page]
        token = page.token
        if not token:
            break
    assert sorted(versions) == sorted((name, number) for name in READABLE for number in ("1", "2"))
    assert client.search_registered_models(filter_string="name LIKE 'hush%'") == []

    w = workspace_as(reviewer)
    # The SDK's list generators follow next_page_token by themselves.
    assert [m.name for m in w.model_registry.list_models(max_results=2)] == READABLE
    found = [(v.name, v.version) for v in w.model_registry.search_model_versions(max_results=4)]
    assert sorted(found) == sorted((name, number) for name in READABLE for number in ("1", "2"))
    assert [m.name for m in w.model_registry.search_models(filter="name LIKE 'hush%'")] == []
