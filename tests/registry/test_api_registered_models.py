"""registered-models/{create,get,update,rename,delete,get-latest-versions} over HTTP, in
MLflow's wire format (model_registry.proto, as MLflow's server answers)."""

import pytest

from audit.models import Activity
from registry import actions
from registry.models import RegisteredModel
from tests.conftest import assert_error

# Setup goes through the actions (cheaper than HTTP); what is under test goes through HTTP.

@pytest.fixture
def fraud(make_model):
    make_model("fraud")


@pytest.fixture
def add_version(make_version):
    return lambda: str(make_version("fraud").version)


@pytest.fixture
def transition(owner_ctx):
    return lambda version, stage: actions.version_transition(
        owner_ctx, name="fraud", version=version, stage=stage
    )


@pytest.fixture
def alias(owner_ctx):
    return lambda name, version: actions.alias_set(
        owner_ctx, name="fraud", alias=name, version=version
    )


# create --------------------------------------------------------------------------------------

def test_creating_a_model_answers_200_with_the_model_in_wire_format(api):
    response = api.post(
        "registered-models/create", name="fraud", description="Card fraud",
        tags=[{"key": "team", "value": "risk"}],
    )

    assert response.status_code == 200
    body = response.json_body["registered_model"]
    assert body["name"] == "fraud"
    assert body["description"] == "Card fraud"
    assert body["tags"] == [{"key": "team", "value": "risk"}]
    assert isinstance(body["creation_timestamp"], int)
    assert isinstance(body["last_updated_timestamp"], int)
    assert "latest_versions" not in body
    assert "aliases" not in body


def test_a_bare_create_omits_empty_tags_and_aliases(api):
    body = api.post("registered-models/create", name="fraud").json_body["registered_model"]

    assert body["description"] == ""
    assert "tags" not in body
    assert "aliases" not in body


def test_creating_a_model_that_exists_is_400_resource_already_exists(api, fraud):
    response = api.post("registered-models/create", name="fraud")

    assert_error(response, 400, "RESOURCE_ALREADY_EXISTS", "Registered Model (name=fraud) already exists.")


def test_creating_a_model_without_a_name_is_400_invalid_parameter_value(api):
    response = api.post("registered-models/create", description="no name")

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'name'")
    assert not RegisteredModel.objects.exists()


@pytest.mark.parametrize("name", ["team/fraud", "fraud:2"])
def test_creating_a_model_with_a_slash_or_colon_in_its_name_is_400(api, name):
    response = api.post("registered-models/create", name=name)

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Invalid model name")


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"fraud"'])
def test_a_body_that_is_not_a_json_object_is_400_invalid_parameter_value(api, body):
    response = api.client.post(
        "/api/2.0/mlflow/registered-models/create", data=body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_tags_given_as_an_object_instead_of_a_list_are_400(api):
    response = api.post("registered-models/create", name="fraud", tags={"team": "risk"})

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")
    assert not RegisteredModel.objects.exists()


# get -----------------------------------------------------------------------------------------

def test_getting_a_missing_model_is_404_resource_does_not_exist(api):
    response = api.get("registered-models/get", name="nope")

    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "Registered Model with name=nope not found")


def test_getting_a_model_without_a_name_is_400_invalid_parameter_value(api):
    response = api.get("registered-models/get")

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'name'")


def test_a_model_lists_its_tags_and_aliases_in_wire_format(
    api, fraud, add_version, alias, owner_ctx
):
    add_version()
    add_version()
    actions.model_tag_set(owner_ctx, name="fraud", key="team", value="risk")
    alias("champion", "2")
    alias("canary", "1")

    body = api.get("registered-models/get", name="fraud").json_body["registered_model"]

    assert body["tags"] == [{"key": "team", "value": "risk"}]
    assert sorted(body["aliases"], key=lambda a: a["alias"]) == [
        {"alias": "canary", "version": "1"},
        {"alias": "champion", "version": "2"},
    ]


def test_latest_versions_hold_the_highest_live_version_of_each_stage(
    api, fraud, add_version, transition, owner_ctx
):
    for _ in range(5):
        add_version()
    transition("1", "Production")
    transition("2", "Production")
    transition("3", "Staging")
    actions.version_delete(owner_ctx, name="fraud", version="5")

    body = api.get("registered-models/get", name="fraud").json_body["registered_model"]

    latest = {v["current_stage"]: v["version"] for v in body["latest_versions"]}
    assert latest == {"Production": "2", "Staging": "3", "None": "4"}
    assert len(body["latest_versions"]) == 3
    assert all(v["status"] == "READY" for v in body["latest_versions"])


# update --------------------------------------------------------------------------------------

def test_updating_a_model_with_patch_changes_its_description(api, fraud):
    response = api.patch("registered-models/update", name="fraud", description="new text")

    assert response.status_code == 200
    assert response.json_body["registered_model"]["description"] == "new text"
    assert api.get("registered-models/get", name="fraud").json_body["registered_model"][
        "description"
    ] == "new text"


def test_updating_a_missing_model_is_404(api):
    response = api.patch("registered-models/update", name="nope", description="x")

    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST")


# rename --------------------------------------------------------------------------------------

def test_renaming_a_model_answers_with_the_renamed_model_and_the_old_name_is_gone(
    api, fraud, add_version, alias
):
    add_version()
    alias("champion", "1")

    response = api.post("registered-models/rename", name="fraud", new_name="fraud-v2")

    assert response.status_code == 200
    body = response.json_body["registered_model"]
    assert body["name"] == "fraud-v2"
    assert body["aliases"] == [{"alias": "champion", "version": "1"}]
    assert body["latest_versions"][0]["name"] == "fraud-v2"
    assert_error(api.get("registered-models/get", name="fraud"), 404, "RESOURCE_DOES_NOT_EXIST")
    by_alias = api.get("registered-models/alias", name="fraud-v2", alias="champion")
    assert by_alias.json_body["model_version"]["name"] == "fraud-v2"


def test_renaming_onto_an_existing_name_is_400_resource_already_exists(api, fraud, make_model):
    make_model("churn")

    response = api.post("registered-models/rename", name="fraud", new_name="churn")

    assert_error(response, 400, "RESOURCE_ALREADY_EXISTS")


def test_renaming_without_a_new_name_is_400_invalid_parameter_value(api, fraud):
    response = api.post("registered-models/rename", name="fraud")

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "'new_name'")


def test_renaming_a_missing_model_is_404(api):
    response = api.post("registered-models/rename", name="nope", new_name="other")

    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST")


# delete --------------------------------------------------------------------------------------

def test_deleting_a_model_with_a_json_body_answers_an_empty_object(api, fraud):
    response = api.delete("registered-models/delete", name="fraud")

    assert response.status_code == 200
    assert response.json_body == {}
    assert_error(api.get("registered-models/get", name="fraud"), 404, "RESOURCE_DOES_NOT_EXIST")


def test_deleting_a_model_with_a_query_string_works_too(api, fraud):
    response = api.client.delete("/api/2.0/mlflow/registered-models/delete?name=fraud")

    assert response.status_code == 200
    assert response.json() == {}
    assert not RegisteredModel.objects.exists()


def test_deleting_a_missing_model_is_404(api):
    response = api.delete("registered-models/delete", name="nope")

    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST")


def test_a_model_created_again_after_deletion_starts_at_version_1(api, fraud, add_version):
    add_version()
    add_version()
    api.delete("registered-models/delete", name="fraud")

    api.post("registered-models/create", name="fraud")

    response = api.post("model-versions/create", name="fraud", source="s3://bucket/fraud/model")
    assert response.json_body["model_version"]["version"] == "1"


# get-latest-versions -------------------------------------------------------------------------

@pytest.fixture
def staged(fraud, add_version, transition):
    for _ in range(4):
        add_version()
    transition("1", "Production")
    transition("2", "Staging")
    transition("3", "Staging")


def latest(response):
    assert response.status_code == 200, response.json_body
    return {v["current_stage"]: v["version"] for v in response.json_body.get("model_versions", [])}


def test_get_latest_versions_by_post_answers_the_newest_version_per_stage(api, staged):
    response = api.post("registered-models/get-latest-versions", name="fraud")

    assert latest(response) == {"Production": "1", "Staging": "3", "None": "4"}


def test_get_latest_versions_by_post_filters_by_stages(api, staged):
    response = api.post(
        "registered-models/get-latest-versions", name="fraud", stages=["staging", "Production"]
    )

    assert latest(response) == {"Production": "1", "Staging": "3"}


def test_get_latest_versions_also_answers_get_with_repeated_stages(api, staged):
    # The test client sends a list as repeated keys: ?name=fraud&stages=Staging&stages=None
    response = api.get("registered-models/get-latest-versions", name="fraud", stages=["Staging", "None"])

    assert latest(response) == {"Staging": "3", "None": "4"}


def test_get_latest_versions_fills_aliases_and_tags(api, staged, alias, owner_ctx):
    alias("champion", "1")
    actions.version_tag_set(owner_ctx, name="fraud", version="1", key="k", value="v")

    response = api.post("registered-models/get-latest-versions", name="fraud", stages=["Production"])

    (version,) = response.json_body["model_versions"]
    assert version["aliases"] == ["champion"]
    assert version["tags"] == [{"key": "k", "value": "v"}]


def test_get_latest_versions_of_a_model_without_versions_is_an_empty_object(api, fraud):
    response = api.post("registered-models/get-latest-versions", name="fraud")

    assert response.status_code == 200
    assert response.json_body == {}


def test_get_latest_versions_of_a_missing_model_is_404(api):
    response = api.post("registered-models/get-latest-versions", name="nope")

    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST")


def test_get_latest_versions_with_an_unknown_stage_is_400(api, fraud):
    response = api.post("registered-models/get-latest-versions", name="fraud", stages=["Bogus"])

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "None, Staging, Production, Archived")


def test_failed_requests_write_no_activity(api, fraud):
    count = Activity.objects.count()

    api.post("registered-models/create", name="fraud")
    api.post("registered-models/rename", name="fraud", new_name="a/b")
    api.patch("registered-models/update", name="nope", description="x")
    api.delete("registered-models/delete", name="nope")

    assert Activity.objects.count() == count
