"""registered-models/search and model-versions/search: the filter grammar, prompt exclusion,
order_by, max_results and page tokens, as MLflow's server answers them."""

import base64
import json

import pytest

from registry import actions

PROMPT = [{"key": "mlflow.prompt.is_prompt", "value": "true"}]


def assert_invalid(response, *message_parts):
    assert response.status_code == 400, response.json_body
    assert response.json_body["error_code"] == "INVALID_PARAMETER_VALUE"
    for part in message_parts:
        assert part in response.json_body["message"]


def search_models(api, filter_string=None, **params):
    if filter_string is not None:
        params["filter"] = filter_string
    response = api.get("registered-models/search", **params)
    assert response.status_code == 200, response.json_body
    return response


def model_names(api, filter_string=None, **params):
    body = search_models(api, filter_string, **params).json_body
    return [m["name"] for m in body.get("registered_models", [])]


def search_versions(api, filter_string=None, **params):
    if filter_string is not None:
        params["filter"] = filter_string
    response = api.get("model-versions/search", **params)
    assert response.status_code == 200, response.json_body
    return response


def versions(api, filter_string=None, **params):
    body = search_versions(api, filter_string, **params).json_body
    return [(v["name"], int(v["version"])) for v in body.get("model_versions", [])]


# Registered models: filters ------------------------------------------------------------------

@pytest.fixture
def models(owner_ctx):
    def create(name, **tags):
        actions.model_create(
            owner_ctx, name=name, tags=[{"key": k, "value": v} for k, v in tags.items()]
        )

    create("fraud", team="risk", **{"release.channel": "stable"})
    create("Fraud-EU", team="Risk")
    create("churn", team="growth", **{"release.channel": "beta"})
    create("fraud_v2")
    actions.model_create(owner_ctx, name="greeting", tags=PROMPT)


MODEL_FILTERS = {
    "": {"fraud", "Fraud-EU", "churn", "fraud_v2"},
    "name = 'fraud'": {"fraud"},
    'name = "fraud"': {"fraud"},
    "attribute.name = 'fraud'": {"fraud"},
    "name != 'fraud'": {"Fraud-EU", "churn", "fraud_v2"},
    "name <> 'fraud'": {"Fraud-EU", "churn", "fraud_v2"},
    "name LIKE 'fraud%'": {"fraud", "fraud_v2"},
    "name LIKE 'frau_'": {"fraud"},
    "name LIKE '%EU'": {"Fraud-EU"},
    "name ILIKE 'fraud%'": {"fraud", "Fraud-EU", "fraud_v2"},
    "name ilike '%eu'": {"Fraud-EU"},
    "name IN ('fraud', 'churn', 'nope')": {"fraud", "churn"},
    "name NOT IN ('fraud', 'churn')": {"Fraud-EU", "fraud_v2"},
    "tags.team = 'risk'": {"fraud"},
    "tag.team = 'risk'": {"fraud"},
    "tags.`team` = 'risk'": {"fraud"},
    # Like MLflow's SQL join: != matches models that have the tag with another value.
    "tags.team != 'risk'": {"Fraud-EU", "churn"},
    "tags.team LIKE 'R%'": {"Fraud-EU"},
    "tags.team ILIKE 'r%'": {"fraud", "Fraud-EU"},
    "tags.`release.channel` = 'beta'": {"churn"},
    "tag.`release.channel` != 'beta'": {"fraud"},
    "tags.`release.channel` LIKE '%et%'": {"churn"},
    "name ILIKE 'fraud%' AND tags.team = 'Risk'": {"Fraud-EU"},
    "name LIKE '%' and tags.team != 'growth' AND tags.team ILIKE 'RISK'": {"fraud", "Fraud-EU"},
    "tags.missing = 'x'": set(),
}


def test_model_search_filters_by_name_and_tags(api, models):
    found = {f: set(model_names(api, f)) for f in MODEL_FILTERS}

    assert found == MODEL_FILTERS


def test_model_search_matches_quotes_escaped_by_doubling(api, owner_ctx):
    actions.model_create(owner_ctx, name="o'brien")
    actions.model_create(owner_ctx, name="obrien")

    assert model_names(api, "name = 'o''brien'") == ["o'brien"]


def test_model_search_like_is_case_sensitive_and_ilike_is_not(api, models):
    assert set(model_names(api, "name LIKE 'FRAUD%'")) == set()
    assert set(model_names(api, "name ILIKE 'FRAUD%'")) == {"fraud", "Fraud-EU", "fraud_v2"}


# Prompts -------------------------------------------------------------------------------------

def test_prompts_are_left_out_of_model_search_by_default(api, models):
    assert "greeting" not in model_names(api)
    assert model_names(api, "name = 'greeting'") == []


def test_asking_for_the_prompt_tag_finds_the_prompts(api, models):
    assert model_names(api, "tags.`mlflow.prompt.is_prompt` = 'true'") == ["greeting"]
    assert model_names(api, "name LIKE 'g%' AND tag.`mlflow.prompt.is_prompt` = 'true'") == ["greeting"]


def test_models_without_the_prompt_tag_match_not_equal_true_as_the_client_appends(api, models):
    # MlflowClient.search_registered_models appends exactly this clause to every filter.
    found = model_names(api, "name LIKE 'fraud%' AND tag.`mlflow.prompt.is_prompt` != 'true'")

    assert set(found) == {"fraud", "fraud_v2"}
    assert set(model_names(api, "tags.`mlflow.prompt.is_prompt` != 'true'")) == {
        "fraud", "Fraud-EU", "churn", "fraud_v2",
    }


def test_models_without_the_prompt_tag_match_equal_false(api, models):
    assert set(model_names(api, "tags.`mlflow.prompt.is_prompt` = 'false'")) == {
        "fraud", "Fraud-EU", "churn", "fraud_v2",
    }


def test_a_prompt_tag_set_to_false_is_not_a_prompt(api, owner_ctx):
    actions.model_create(
        owner_ctx, name="was-prompt", tags=[{"key": "mlflow.prompt.is_prompt", "value": "false"}]
    )

    assert model_names(api) == ["was-prompt"]


# Malformed filters ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "filter_string, problem",
    [
        ("name = 'a' OR name = 'b'", "OR"),
        ("(name = 'a')", "parentheses"),
        ("name = 'a' AND (tags.t = 'b')", "parentheses"),
        ("name = 'fraud", "position"),
        ("owner = 'x'", "Invalid attribute key 'owner'"),
        ("tags.team IS NULL", "IS NULL"),
        ("tags.team IS NOT NULL", "IS NULL"),
        ("name = fraud", "quoted value"),
        ("name = 5", "quoted string"),
        ("name LIKE", "expected a value"),
        ("name", "comparator"),
        ("name < 'm'", "Invalid comparator '<'"),
        ("tags.team IN ('risk')", "Invalid comparator 'IN' for tag"),
        ("name IN 'fraud'", "parenthesised list"),
        ("name IN ('a' 'b')", "IN list"),
        ("name = 'a' name = 'b'", "expected AND"),
        ("name = 'a' AND", "end of the filter"),
        ("name = 'a'; DROP TABLE x", "unexpected character"),
        ("version_number = 1", "Invalid attribute key 'version_number'"),
    ],
)
def test_a_malformed_model_filter_is_400_naming_the_problem(api, filter_string, problem):
    response = api.get("registered-models/search", filter=filter_string)

    assert_invalid(response, problem)


# Registered models: order_by -----------------------------------------------------------------

@pytest.fixture
def abcd(owner_ctx):
    # Created in one order, last touched in another: charlie, alpha, delta, bravo.
    for name in ["alpha", "bravo", "charlie", "delta"]:
        actions.model_create(owner_ctx, name=name)
    for name in ["charlie", "alpha", "delta", "bravo"]:
        actions.model_tag_set(owner_ctx, name=name, key="touched", value="1")


MODEL_ORDERS = {
    (): ["alpha", "bravo", "charlie", "delta"],
    ("name",): ["alpha", "bravo", "charlie", "delta"],
    ("name ASC",): ["alpha", "bravo", "charlie", "delta"],
    ("name DESC",): ["delta", "charlie", "bravo", "alpha"],
    ("attribute.name desc",): ["delta", "charlie", "bravo", "alpha"],
    ("last_updated_timestamp",): ["charlie", "alpha", "delta", "bravo"],
    ("last_updated_timestamp DESC",): ["bravo", "delta", "alpha", "charlie"],
    ("timestamp DESC",): ["bravo", "delta", "alpha", "charlie"],
}


def test_model_search_orders_by_name_and_timestamps(api, abcd):
    found = {order: model_names(api, order_by=list(order)) for order in MODEL_ORDERS}

    assert found == MODEL_ORDERS


@pytest.mark.parametrize(
    "order_by, problem",
    [
        (["name ASC", "name DESC"], "duplicate"),
        (["name", "attribute.name"], "duplicate"),
        (["bogus"], "Invalid order_by clause 'bogus'"),
        (["name SIDEWAYS"], "Invalid order_by clause"),
        (["name ASC extra"], "Invalid order_by clause"),
        (["version_number"], "Invalid order_by clause"),
    ],
)
def test_a_bad_model_order_by_is_400(api, order_by, problem):
    assert_invalid(api.get("registered-models/search", order_by=order_by), problem)


# Registered models: max_results and pages ----------------------------------------------------

def test_model_search_max_results_limits_the_page(api, abcd):
    assert model_names(api, max_results=2) == ["alpha", "bravo"]


def test_model_search_accepts_1000_results_and_refuses_more(api, abcd):
    assert len(model_names(api, max_results=1000)) == 4
    assert_invalid(api.get("registered-models/search", max_results=1001), "max_results", "1000")


@pytest.mark.parametrize("max_results", ["-1", "abc"])
def test_model_search_refuses_a_nonsense_max_results(api, abcd, max_results):
    assert_invalid(api.get("registered-models/search", max_results=max_results), "max_results")


def walk(api, path, key, **params):
    pages, token = [], None
    while True:
        query = dict(params, page_token=token) if token else dict(params)
        response = api.get(path, **query)
        assert response.status_code == 200, response.json_body
        pages.append(response.json_body.get(key, []))
        token = response.json_body.get("next_page_token")
        if not token:
            return pages
        assert len(pages) < 50, "page tokens do not advance"


def test_walking_model_pages_returns_every_model_once_in_order(api, owner_ctx):
    names = [f"model-{i:02d}" for i in range(11)]
    for name in reversed(names):
        actions.model_create(owner_ctx, name=name)

    pages = walk(api, "registered-models/search", "registered_models", max_results=4)

    assert [len(page) for page in pages] == [4, 4, 3]
    assert [m["name"] for page in pages for m in page] == names


def test_walking_model_pages_with_a_filter_and_an_order(api, owner_ctx):
    for i in range(9):
        actions.model_create(owner_ctx, name=f"m{i}", tags=[{"key": "even", "value": str(i % 2 == 0)}])

    pages = walk(
        api, "registered-models/search", "registered_models",
        filter="tags.even = 'True'", order_by=["name DESC"], max_results=2,
    )

    assert [m["name"] for page in pages for m in page] == ["m8", "m6", "m4", "m2", "m0"]


def test_the_last_page_has_no_next_page_token(api, abcd):
    body = search_models(api, max_results=4).json_body

    assert len(body["registered_models"]) == 4
    assert "next_page_token" not in body


def test_an_empty_search_is_an_empty_object(api, db):
    assert search_models(api).json_body == {}


def test_page_tokens_are_opaque_strings(api, abcd):
    token = search_models(api, max_results=1).json_body["next_page_token"]

    assert isinstance(token, str)
    assert not token.isdigit()


def _token(payload):
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(
    "token",
    [
        "not a token!",
        "bm90IGpzb24",  # base64 of "not json"
        _token({"offset": -1}),
        _token({"offset": "ten"}),
        _token({"no_offset": 1}),
        _token([1]),
        _token({"offset": 10**30}),
        base64.urlsafe_b64encode(b'{"offset": 1e400}').decode(),
    ],
)
@pytest.mark.parametrize("path", ["registered-models/search", "model-versions/search"])
def test_a_bad_page_token_is_400(api, path, token):
    assert_invalid(api.get(path, page_token=token), "page token")


# Model versions: filters ---------------------------------------------------------------------

@pytest.fixture
def catalogue(owner_ctx):
    actions.model_create(owner_ctx, name="fraud")
    actions.model_create(owner_ctx, name="churn")
    actions.model_create(owner_ctx, name="greeting", tags=PROMPT)

    def add(name, source, run_id="", **tags):
        actions.version_create(
            owner_ctx, name=name, source=source, run_id=run_id,
            tags=[{"key": k, "value": v} for k, v in tags.items()],
        )

    add("fraud", "s3://b/fraud/1", "r1", quality="gold")
    add("fraud", "s3://b/fraud/2", "r2", quality="Silver", **{"ci.status": "passed"})
    add("fraud", "runs:/r3/model", "r3")
    add("churn", "s3://b/churn/1", "r1", quality="gold")
    add("greeting", "dummy-source", "", **{"mlflow.prompt.is_prompt": "true"})


VERSION_FILTERS = {
    "": {("fraud", 1), ("fraud", 2), ("fraud", 3), ("churn", 1)},
    "name = 'fraud'": {("fraud", 1), ("fraud", 2), ("fraud", 3)},
    "name != 'fraud'": {("churn", 1)},
    "name LIKE 'ch%'": {("churn", 1)},
    "name ILIKE 'CH%'": {("churn", 1)},
    "name IN ('churn', 'nope')": {("churn", 1)},
    "name NOT IN ('fraud')": {("churn", 1)},
    "run_id = 'r1'": {("fraud", 1), ("churn", 1)},
    "run_id != 'r1'": {("fraud", 2), ("fraud", 3)},
    "run_id IN ('r2', 'r3')": {("fraud", 2), ("fraud", 3)},
    "run_id NOT IN ('r2', 'r3')": {("fraud", 1), ("churn", 1)},
    "run_id LIKE 'r%'": {("fraud", 1), ("fraud", 2), ("fraud", 3), ("churn", 1)},
    "source_path = 's3://b/fraud/1'": {("fraud", 1)},
    "source_path != 's3://b/fraud/1'": {("fraud", 2), ("fraud", 3), ("churn", 1)},
    "source_path LIKE 's3://b/fraud/%'": {("fraud", 1), ("fraud", 2)},
    "source_path ILIKE 'S3://B/%'": {("fraud", 1), ("fraud", 2), ("churn", 1)},
    "name = 'fraud' AND version_number = 2": {("fraud", 2)},
    "name = 'fraud' AND version_number != 2": {("fraud", 1), ("fraud", 3)},
    "name = 'fraud' AND version_number < 2": {("fraud", 1)},
    "name = 'fraud' AND version_number <= 2": {("fraud", 1), ("fraud", 2)},
    "name = 'fraud' AND version_number > 2": {("fraud", 3)},
    "name = 'fraud' AND version_number >= 2": {("fraud", 2), ("fraud", 3)},
    "version_number > 99999999999999999999": set(),
    "tags.quality = 'gold'": {("fraud", 1), ("churn", 1)},
    "tags.quality != 'gold'": {("fraud", 2)},
    "tags.quality LIKE 'S%'": {("fraud", 2)},
    "tags.quality ILIKE 's%'": {("fraud", 2)},
    "tags.`ci.status` = 'passed'": {("fraud", 2)},
    "name = 'fraud' AND tags.quality = 'gold' AND run_id = 'r1'": {("fraud", 1)},
}


def test_version_search_filters_by_name_run_source_number_and_tags(api, catalogue):
    found = {f: set(versions(api, f)) for f in VERSION_FILTERS}

    assert found == VERSION_FILTERS


def test_prompt_versions_are_left_out_of_version_search_unless_asked_for(api, catalogue):
    assert versions(api, "name = 'greeting'") == []
    assert versions(api, "tags.`mlflow.prompt.is_prompt` = 'true'") == [("greeting", 1)]


@pytest.mark.parametrize(
    "filter_string, problem",
    [
        ("version_number > 'abc'", "integer"),
        ("version_number LIKE '1%'", "Invalid comparator 'LIKE' for version_number"),
        ("source_path IN ('a')", "Invalid comparator 'IN'"),
        ("run_id = 1", "quoted string"),
        ("stage = 'Production'", "Invalid attribute key 'stage'"),
        ("name = 'a' OR run_id = 'b'", "OR"),
        ("tags.quality IS NULL", "IS NULL"),
    ],
)
def test_a_malformed_version_filter_is_400_naming_the_problem(api, filter_string, problem):
    assert_invalid(api.get("model-versions/search", filter=filter_string), problem)


# Model versions: order_by, max_results, pages ------------------------------------------------

@pytest.fixture
def history(owner_ctx):
    """fraud v1..v3 and churn v1, created in that order, then last touched in the order
    fraud v2, churn v1, fraud v3, fraud v1."""
    for name in ["fraud", "churn"]:
        actions.model_create(owner_ctx, name=name)
    for name in ["fraud", "fraud", "fraud", "churn"]:
        actions.version_create(owner_ctx, name=name, source="s3://b/p")
    for name, number in [("fraud", "2"), ("churn", "1"), ("fraud", "3"), ("fraud", "1")]:
        actions.version_tag_set(owner_ctx, name=name, version=number, key="touched", value="1")


VERSION_ORDERS = {
    (): [("fraud", 1), ("fraud", 3), ("churn", 1), ("fraud", 2)],
    ("last_updated_timestamp DESC",): [("fraud", 1), ("fraud", 3), ("churn", 1), ("fraud", 2)],
    ("last_updated_timestamp",): [("fraud", 2), ("churn", 1), ("fraud", 3), ("fraud", 1)],
    ("creation_timestamp",): [("fraud", 1), ("fraud", 2), ("fraud", 3), ("churn", 1)],
    ("creation_timestamp DESC",): [("churn", 1), ("fraud", 3), ("fraud", 2), ("fraud", 1)],
    ("name ASC", "version_number ASC"): [("churn", 1), ("fraud", 1), ("fraud", 2), ("fraud", 3)],
    ("name DESC", "version_number DESC"): [("fraud", 3), ("fraud", 2), ("fraud", 1), ("churn", 1)],
    # Ties on the first key fall back to name ASC, version_number DESC.
    ("version_number DESC",): [("fraud", 3), ("fraud", 2), ("churn", 1), ("fraud", 1)],
}


def test_version_search_orders_by_name_number_and_timestamps(api, history):
    found = {order: versions(api, order_by=list(order)) for order in VERSION_ORDERS}

    assert found == VERSION_ORDERS


@pytest.mark.parametrize(
    "order_by, problem",
    [
        (["version_number", "version_number DESC"], "duplicate"),
        (["run_id"], "Invalid order_by clause 'run_id'"),
        (["name UP"], "Invalid order_by clause"),
    ],
)
def test_a_bad_version_order_by_is_400(api, order_by, problem):
    assert_invalid(api.get("model-versions/search", order_by=order_by), problem)


def test_version_search_takes_the_clients_page_size_of_10000_and_refuses_more_than_200000(
    api, history
):
    assert len(versions(api, max_results=10_000)) == 4
    assert len(versions(api, max_results=200_000)) == 4
    assert_invalid(api.get("model-versions/search", max_results=200_001), "max_results")


def test_walking_version_pages_returns_every_version_once(api, owner_ctx):
    actions.model_create(owner_ctx, name="fraud")
    actions.model_create(owner_ctx, name="churn")
    for i in range(7):
        actions.version_create(owner_ctx, name="fraud" if i % 3 else "churn", source="s3://b/p")
    expected = versions(api, max_results=100)

    pages = walk(api, "model-versions/search", "model_versions", max_results=2)

    assert [len(page) for page in pages] == [2, 2, 2, 1]
    walked = [(v["name"], int(v["version"])) for page in pages for v in page]
    assert walked == expected
    assert len(set(walked)) == 7


def test_search_results_render_versions_as_strings_with_status_ready(api, catalogue):
    body = search_versions(api, "name = 'fraud'", order_by=["version_number ASC"]).json_body

    assert [v["version"] for v in body["model_versions"]] == ["1", "2", "3"]
    assert {v["status"] for v in body["model_versions"]} == {"READY"}
    assert body["model_versions"][0]["tags"] == [{"key": "quality", "value": "gold"}]
