"""What the API refuses before anything is stored (issue 11): oversized bodies and fields,
bodies nested too deep, strings PostgreSQL cannot store, sources that climb out of their store,
and names made to look like other names. Each refusal is a 4xx in MLflow's format and changes
nothing."""

import json

import pytest
from rest_framework.test import APIClient

from audit.models import Activity
from registry import validators
from registry.models import ModelVersion, RegisteredModel
from tests.conftest import assert_error
from tests.registry.state import snapshot

SOURCE = "s3://bucket/fraud/model"


@pytest.fixture
def fraud(make_model, make_version):
    make_model("fraud")
    make_version("fraud")


def post_raw(api, path, body, content_type="application/json"):
    response = api.client.post(f"/api/2.0/mlflow/{path}", data=body, content_type=content_type)
    response.json_body = json.loads(response.content)
    return response


# Request bodies ------------------------------------------------------------------------------

def test_a_10_mb_body_is_refused_in_json_by_the_default_cap_and_changes_nothing(api, db):
    before = snapshot()
    body = json.dumps({"name": "fraud", "description": "x" * 10_000_000})

    response = post_raw(api, "registered-models/create", body)

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "bytes")
    assert snapshot() == before


def test_the_body_cap_is_the_data_upload_setting(api, db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200
    body = json.dumps({"name": "fraud", "tags": [{"key": "k", "value": "v" * 300}]})

    response = post_raw(api, "registered-models/create", body)

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "200 bytes")
    assert not RegisteredModel.objects.exists()


def test_a_body_under_the_cap_is_accepted(api, db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200

    assert api.post("registered-models/create", name="fraud").status_code == 200


def test_an_oversized_form_body_read_by_the_csrf_check_is_a_json_4xx_not_a_500(owner, db, settings):
    # A browser session posting a form: Django itself reads the body (RequestDataTooBig).
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    client.cookies["csrftoken"] = "a" * 32

    response = client.post(
        "/api/2.0/mlflow/registered-models/create", data="name=fraud&description=" + "x" * 300,
        content_type="application/x-www-form-urlencoded",
    )
    response.json_body = json.loads(response.content)

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "200 bytes")
    assert not RegisteredModel.objects.exists()


def test_a_bad_request_under_the_api_outside_any_view_is_answered_in_json(api, db):
    response = api.client.get("/api/2.0/mlflow/registered-models/search", HTTP_HOST="evil.example")
    response.json_body = json.loads(response.content)

    assert_error(response, 400, "BAD_REQUEST")


@pytest.mark.parametrize("depth", [50, 1_000, 100_000])
@pytest.mark.parametrize("path", [
    "registered-models/create", "model-versions/create", "registry-webhooks/create",
    "comments/create",
])
def test_a_body_nested_too_deep_is_a_400_not_a_500(api, fraud, path, depth):
    before = snapshot()
    body = '{"name": "fraud", "version": "1", "x": ' + "[" * depth + "]" * depth + "}"

    response = post_raw(api, path, body)

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "nested")
    assert snapshot() == before


def test_a_body_nested_as_deep_as_real_clients_send_is_accepted(api, db):
    # Webhooks and ACLs nest three levels; a few more are fine.
    body = json.dumps({"name": "fraud", "x": {"a": [{"b": [[{"c": 1}]]}]}})

    assert post_raw(api, "registered-models/create", body).status_code == 200


def test_a_lone_surrogate_anywhere_in_a_body_is_a_400_not_a_500(api, make_model):
    # PostgreSQL cannot store it; DRF's CharField refuses it, but not every field is one.
    model = make_model("fraud")
    body = '{"access_control_list": [{"user_name": "\\ud800", "permission_level": "CAN_READ"}]}'

    response = api.client.patch(
        f"/api/2.0/permissions/registered-models/{model.uid}", data=body, content_type="application/json"
    )
    response.json_body = json.loads(response.content)

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "surrogate")


# Field limits --------------------------------------------------------------------------------

LONG_DESCRIPTION = "d" * 5001


@pytest.mark.parametrize(("method", "path", "params"), [
    ("POST", "registered-models/create", {"name": "churn"}),
    ("PATCH", "registered-models/update", {"name": "fraud"}),
    ("POST", "model-versions/create", {"name": "fraud", "source": SOURCE}),
    ("PATCH", "model-versions/update", {"name": "fraud", "version": "1"}),
])
def test_a_description_over_5000_characters_is_refused(api, fraud, method, path, params):
    before = snapshot()

    response = api.call(method, path, {**params, "description": LONG_DESCRIPTION})

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "5000")
    assert snapshot() == before


def test_a_description_of_exactly_5000_characters_is_accepted(api, fraud):
    response = api.patch("registered-models/update", name="fraud", description="d" * 5000)

    assert response.status_code == 200


def test_a_run_link_over_its_limit_is_refused(api, fraud):
    response = api.post(
        "model-versions/create", name="fraud", source=SOURCE,
        run_link="https://ci.example.com/" + "r" * 2048,
    )

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "run_link")
    assert ModelVersion.objects.count() == 1


def test_a_transition_comment_over_its_limit_is_refused(api, fraud):
    response = api.post(
        "model-versions/transition-stage", name="fraud", version="1", stage="Staging",
        comment="c" * 5001,
    )

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "comment")
    assert ModelVersion.objects.get().current_stage == "None"


def test_a_tag_value_over_mlflows_limit_is_refused(api, fraud):
    response = api.post(
        "registered-models/set-tag", name="fraud", key="k",
        value="v" * 100_001,
    )

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "100000")


# NUL characters ------------------------------------------------------------------------------

def test_a_nul_in_a_query_string_is_a_400_not_a_500(api, db):
    response = api.get("registered-models/get", name="fraud\x00")

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "NUL")


def test_a_nul_in_a_body_is_a_400_not_a_500(api, db):
    response = api.post("registered-models/create", name="fraud\x00")

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "NUL")
    assert not RegisteredModel.objects.exists()


def test_a_nul_in_a_path_id_is_a_400_not_a_500(api, db):
    response = api.client.get("/api/2.0/permissions/registered-models/%00")
    response.json_body = json.loads(response.content)

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "NUL")


def test_a_nul_in_an_acl_user_name_is_a_400_not_a_500(api, make_model):
    model = make_model("fraud")
    before = snapshot()

    response = api.client.patch(
        f"/api/2.0/permissions/registered-models/{model.uid}",
        data=json.dumps({"access_control_list": [
            {"user_name": "reviewer\x00", "permission_level": "CAN_READ"}
        ]}),
        content_type="application/json",
    )
    response.json_body = json.loads(response.content)

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "NUL")
    assert snapshot() == before


# Sources -------------------------------------------------------------------------------------

@pytest.mark.parametrize("source", [
    "mlflow-artifacts://host:9000/models/..%2f..%2fartifacts",
    "mlflow-artifacts://host:9000/models/%2e%2e/%2e%2e/artifacts",
    "mlflow-artifacts://host:9000/models/%252e%252e%252fsecrets",
    "s3://bucket/models/..%5c..%5cother",
    "http://host:5000/api/2.0/mlflow-artifacts/artifacts%00",
    "mlflow-artifacts://host:9000/models/artifact%2500",
])
def test_a_source_that_decodes_to_a_traversal_or_a_nul_is_refused(api, fraud, source):
    response = api.post("model-versions/create", name="fraud", source=source)

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Invalid model version source")
    assert ModelVersion.objects.count() == 1


@pytest.mark.parametrize("source", [
    "mlflow-artifacts://host:9000/models/my%20model/1",
    "s3://bucket/models/a..b/c",
    "runs:/0123456789abcdef/model",
])
def test_a_source_with_ordinary_escapes_and_dots_is_accepted(api, fraud, source):
    response = api.post("model-versions/create", name="fraud", source=source)

    assert response.status_code == 200, response.json_body
    assert response.json_body["model_version"]["source"] == source


# Names made to look like other names ------------------------------------------------------------

BAD_NAMES = {
    "right-to-left override": "prod\u202emodel",
    "newline": "prodm\n",
    "inner newline": "prod\nm",
    "trailing space": "prodm ",
    "leading space": " prodm",
    "tab": "prod\tm",
    "zero-width space": "prod\u200bm",
    "bidi isolate": "\u2066prodm\u2069",
    "line separator": "prod\u2028m",
}


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_a_model_name_with_control_or_bidi_characters_or_surrounding_space_is_refused(api, db, name):
    response = api.post("registered-models/create", name=name)

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "name")
    assert not RegisteredModel.objects.exists()
    assert not Activity.objects.filter(event="registered_model.created").exists()


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_renaming_to_such_a_name_is_refused(api, fraud, name):
    response = api.post("registered-models/rename", name="fraud", new_name=name)

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "name")
    assert list(RegisteredModel.objects.values_list("name", flat=True)) == ["fraud"]


@pytest.mark.parametrize("name", ["fraud detector", "Betrugserkennung-ü", "модель", "モデル 2"])
def test_ordinary_names_with_inner_spaces_and_other_scripts_are_accepted(api, db, name):
    assert api.post("registered-models/create", name=name).status_code == 200


@pytest.mark.parametrize("alias", ["champion\n", "cham\u202epion", "champion\u200b", " champion"])
def test_an_alias_with_control_or_bidi_characters_is_refused(api, fraud, alias):
    response = api.post("registered-models/alias", name="fraud", alias=alias, version="1")

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "alias")
    assert not Activity.objects.filter(event="model_version_alias.created").exists()


@pytest.mark.parametrize("key", ["team\n", "team ", " team", "te\u202eam", "te\u200bam"])
def test_a_tag_key_with_control_or_bidi_characters_or_surrounding_space_is_refused(api, fraud, key):
    response = api.post("registered-models/set-tag", name="fraud", key=key, value="v")

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "key")
    assert not Activity.objects.filter(event="registered_model_tag.set").exists()


@pytest.mark.parametrize(("look_alike", "plain"), [
    ("ch\u0430mpion", "champion"),  # Cyrillic а
    ("\u0441hampion", "champion"),  # Cyrillic с
    ("champi\u03bfn", "champion"),  # Greek ο
    ("\uff43hampion", "champion"),  # fullwidth c (NFKC)
    ("CHAMPION", "champion"),
    ("pr\u043ed-\u0455\u0435rving", "prod-serving"),
    ("prod-*", "prod-*"),
])
def test_look_alike_aliases_fold_to_the_same_match_key(look_alike, plain):
    assert validators.alias_match_key(look_alike) == validators.alias_match_key(plain)


def test_different_aliases_keep_different_match_keys():
    assert validators.alias_match_key("champion") != validators.alias_match_key("challenger")


@pytest.mark.parametrize("look_alike", ["ch\u0430mpion", "champi\u03bfn", "\uff43hampion", "Champion"])
def test_a_look_alike_of_a_protected_alias_is_protected_too(look_alike, fraud, grant, owner, reviewer, api_as):
    # The owner protects `champion` (moving it needs CAN_MANAGE); the reviewer may only edit.
    policies = api_as(owner, prefix="/api/2.0/modelgate/")
    assert policies.post("policies/alias/set", name="fraud", pattern="champion").status_code == 200
    grant(RegisteredModel.objects.get(name="fraud"), reviewer, level="CAN_EDIT")
    editor = api_as(reviewer)
    assert editor.post("registered-models/alias", name="fraud", alias="champion", version="1").status_code == 403

    response = editor.post("registered-models/alias", name="fraud", alias=look_alike, version="1")

    assert_error(response, 403, "PERMISSION_DENIED", "protected")
