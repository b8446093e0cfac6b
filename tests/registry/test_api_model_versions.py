"""model-versions/{create,get,update,transition-stage,delete,get-download-uri} over HTTP."""

import pytest

from registry import actions
from registry.models import ModelVersion
from tests.conftest import assert_error

SOURCE = "s3://bucket/fraud/model"


# Setup goes through the actions (cheaper than HTTP); what is under test goes through HTTP.

@pytest.fixture
def fraud(make_model):
    make_model("fraud")


@pytest.fixture
def v1(fraud, make_version):
    make_version("fraud", source=SOURCE)


# create --------------------------------------------------------------------------------------

def test_creating_a_version_answers_it_in_wire_format(api, fraud):
    response = api.post(
        "model-versions/create", name="fraud", source="runs:/abc123/model", run_id="abc123",
        run_link="http://tracking/#/runs/abc123", description="first",
        tags=[{"key": "validated", "value": "yes"}],
    )

    assert response.status_code == 200
    body = response.json_body["model_version"]
    assert body["name"] == "fraud"
    assert body["version"] == "1"
    assert body["status"] == "READY"
    assert body["current_stage"] == "None"
    assert body["source"] == "runs:/abc123/model"
    assert body["run_id"] == "abc123"
    assert body["run_link"] == "http://tracking/#/runs/abc123"
    assert body["description"] == "first"
    assert body["tags"] == [{"key": "validated", "value": "yes"}]
    assert isinstance(body["creation_timestamp"], int)
    assert isinstance(body["last_updated_timestamp"], int)
    assert "aliases" not in body


def test_a_bare_version_still_carries_the_empty_strings_the_client_expects(api, fraud):
    body = api.post("model-versions/create", name="fraud", source=SOURCE).json_body["model_version"]

    assert (body["description"], body["run_id"], body["run_link"]) == ("", "", "")
    assert "tags" not in body


def test_versions_are_numbered_as_strings_in_order(api, fraud):
    versions = [
        api.post("model-versions/create", name="fraud", source=SOURCE).json_body["model_version"]["version"]
        for _ in range(3)
    ]

    assert versions == ["1", "2", "3"]


def test_a_logged_model_version_carries_its_model_id(api, fraud):
    response = api.post("model-versions/create", name="fraud", source="models:/m-abc", model_id="m-abc")

    assert response.json_body["model_version"]["model_id"] == "m-abc"


def test_creating_a_version_of_a_missing_model_is_404_and_creates_no_model(api):
    response = api.post("model-versions/create", name="nope", source=SOURCE)

    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "name=nope")
    assert api.get("registered-models/get", name="nope").status_code == 404


def test_creating_a_version_without_a_source_is_400(api, fraud):
    response = api.post("model-versions/create", name="fraud")

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "'source'")


@pytest.mark.parametrize("field", ["run_id", "model_id"])
def test_an_overlong_run_or_model_id_is_400_not_500(api, fraud, field):
    response = api.post("model-versions/create", name="fraud", source=SOURCE, **{field: "x" * 65})

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", field)
    assert not ModelVersion.objects.exists()


def test_a_local_path_source_is_400(api, fraud):
    response = api.post("model-versions/create", name="fraud", source="/tmp/model")

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Local filesystem paths")


# get -----------------------------------------------------------------------------------------

def test_getting_a_version_answers_it_with_its_aliases_as_strings(api, v1, owner_ctx):
    actions.alias_set(owner_ctx, name="fraud", alias="champion", version="1")
    actions.alias_set(owner_ctx, name="fraud", alias="blue", version="1")

    response = api.get("model-versions/get", name="fraud", version="1")

    assert response.status_code == 200
    body = response.json_body["model_version"]
    assert body["version"] == "1"
    assert body["status"] == "READY"
    assert body["aliases"] == ["blue", "champion"]


def test_getting_a_missing_version_is_404_resource_does_not_exist(api, v1):
    response = api.get("model-versions/get", name="fraud", version="99")

    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "Model Version (name=fraud, version=99) not found")


def test_getting_a_version_of_a_missing_model_is_404(api):
    response = api.get("model-versions/get", name="nope", version="1")

    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "Registered Model with name=nope")


@pytest.mark.parametrize("version", ["abc", "1.0", "0", "-3"])
def test_a_version_that_is_not_a_positive_integer_is_400(api, v1, version):
    response = api.get("model-versions/get", name="fraud", version=version)

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Parameter 'version' must be")


def test_the_abc_version_message_matches_mlflow(api, v1):
    response = api.get("model-versions/get", name="fraud", version="abc")

    assert response.json_body["message"] == "Parameter 'version' must be an integer, got 'abc'."


def test_a_version_number_beyond_any_integer_column_is_404_not_500(api, v1):
    response = api.get("model-versions/get", name="fraud", version="99999999999999999999")

    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST")


def test_getting_a_version_without_a_version_is_400(api, v1):
    response = api.get("model-versions/get", name="fraud")

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'version'")


# update --------------------------------------------------------------------------------------

def test_updating_a_version_with_patch_answers_the_new_description(api, v1):
    response = api.patch("model-versions/update", name="fraud", version="1", description="better")

    assert response.status_code == 200
    assert response.json_body["model_version"]["description"] == "better"


def test_updating_a_missing_version_is_404(api, v1):
    response = api.patch("model-versions/update", name="fraud", version="2", description="x")

    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST")


# transition-stage ----------------------------------------------------------------------------

def test_transitioning_a_version_answers_it_in_the_new_stage(api, v1):
    response = api.post(
        "model-versions/transition-stage", name="fraud", version="1", stage="production",
        archive_existing_versions=False,
    )

    assert response.status_code == 200
    assert response.json_body["model_version"]["current_stage"] == "Production"


def test_transitioning_with_archive_existing_versions_archives_the_previous_one(
    api, v1, make_version, owner_ctx
):
    make_version("fraud")
    actions.version_transition(owner_ctx, name="fraud", version="1", stage="Production")

    api.post(
        "model-versions/transition-stage", name="fraud", version="2", stage="Production",
        archive_existing_versions=True,
    )

    stage_of = {
        v: api.get("model-versions/get", name="fraud", version=v).json_body["model_version"]["current_stage"]
        for v in ("1", "2")
    }
    assert stage_of == {"1": "Archived", "2": "Production"}


def test_transitioning_to_an_unknown_stage_is_400(api, v1):
    response = api.post(
        "model-versions/transition-stage", name="fraud", version="1", stage="Bogus",
        archive_existing_versions=False,
    )

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "None, Staging, Production, Archived")


def test_archiving_existing_versions_when_moving_to_archived_is_400(api, v1):
    response = api.post(
        "model-versions/transition-stage", name="fraud", version="1", stage="Archived",
        archive_existing_versions=True,
    )

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


def test_transitioning_without_a_stage_is_400(api, v1):
    response = api.post("model-versions/transition-stage", name="fraud", version="1")

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "'stage'")


# delete --------------------------------------------------------------------------------------

def test_deleting_a_version_answers_an_empty_object_and_the_version_is_gone(api, v1):
    response = api.delete("model-versions/delete", name="fraud", version="1")

    assert response.status_code == 200
    assert response.json_body == {}
    assert_error(api.get("model-versions/get", name="fraud", version="1"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.delete("model-versions/delete", name="fraud", version="1"), 404, "RESOURCE_DOES_NOT_EXIST")


def test_deleting_a_version_with_a_query_string_works_too(api, v1):
    response = api.client.delete("/api/2.0/mlflow/model-versions/delete?name=fraud&version=1")

    assert response.status_code == 200
    assert ModelVersion.objects.get().is_deleted


def test_a_deleted_versions_number_is_not_reused(api, v1, owner_ctx):
    actions.version_delete(owner_ctx, name="fraud", version="1")

    response = api.post("model-versions/create", name="fraud", source=SOURCE)

    assert response.json_body["model_version"]["version"] == "2"


# get-download-uri ----------------------------------------------------------------------------

def test_the_download_uri_is_the_source_verbatim(api, fraud, make_version):
    make_version("fraud", source="models:/m-0123")

    response = api.get("model-versions/get-download-uri", name="fraud", version="1")

    assert response.status_code == 200
    assert response.json_body == {"artifact_uri": "models:/m-0123"}


def test_the_download_uri_of_a_missing_version_is_404(api, v1):
    response = api.get("model-versions/get-download-uri", name="fraud", version="2")

    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST")
