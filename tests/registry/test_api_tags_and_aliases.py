"""registered-models/{set-tag,delete-tag,alias} and model-versions/{set-tag,delete-tag} over
HTTP."""

import pytest

from audit.models import Activity
from registry import actions
from tests.conftest import assert_error


def assert_empty_ok(response):
    assert response.status_code == 200, response.json_body
    assert response.json_body == {}


# Setup goes through the actions (cheaper than HTTP); what is under test goes through HTTP.

@pytest.fixture
def fraud(make_model, make_version):
    make_model("fraud")
    make_version("fraud")
    make_version("fraud")


@pytest.fixture
def alias(owner_ctx):
    return lambda name, version: actions.alias_set(
        owner_ctx, name="fraud", alias=name, version=version
    )


def model(api):
    return api.get("registered-models/get", name="fraud").json_body["registered_model"]


def version(api, number):
    return api.get("model-versions/get", name="fraud", version=number).json_body["model_version"]


# Registered-model tags -----------------------------------------------------------------------

def test_setting_a_model_tag_answers_an_empty_object_and_the_tag_shows(api, fraud):
    assert_empty_ok(api.post("registered-models/set-tag", name="fraud", key="team", value="risk"))

    assert model(api)["tags"] == [{"key": "team", "value": "risk"}]


def test_setting_a_model_tag_without_a_key_is_400(api, fraud):
    response = api.post("registered-models/set-tag", name="fraud", value="risk")

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "'key'")


def test_setting_a_model_tag_without_a_value_is_400(api, fraud):
    response = api.post("registered-models/set-tag", name="fraud", key="team")

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "'value'")


def test_setting_a_tag_on_a_missing_model_is_404(api):
    response = api.post("registered-models/set-tag", name="nope", key="k", value="v")

    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST")


def test_deleting_a_model_tag_with_a_json_body_removes_it(api, fraud, owner_ctx):
    actions.model_tag_set(owner_ctx, name="fraud", key="team", value="risk")

    assert_empty_ok(api.delete("registered-models/delete-tag", name="fraud", key="team"))

    assert "tags" not in model(api)


def test_deleting_a_model_tag_with_a_query_string_removes_it(api, fraud, owner_ctx):
    actions.model_tag_set(owner_ctx, name="fraud", key="team", value="risk")

    response = api.client.delete("/api/2.0/mlflow/registered-models/delete-tag?name=fraud&key=team")

    assert response.status_code == 200
    assert "tags" not in model(api)


def test_deleting_a_missing_model_tag_is_200_and_writes_no_activity(api, fraud):
    count = Activity.objects.count()

    assert_empty_ok(api.delete("registered-models/delete-tag", name="fraud", key="nope"))

    assert Activity.objects.count() == count


# Model-version tags --------------------------------------------------------------------------

def test_setting_a_version_tag_shows_on_that_version_only(api, fraud):
    assert_empty_ok(
        api.post("model-versions/set-tag", name="fraud", version="2", key="validated", value="yes")
    )

    assert version(api, "2")["tags"] == [{"key": "validated", "value": "yes"}]
    assert "tags" not in version(api, "1")


def test_setting_a_tag_on_a_missing_version_is_404(api, fraud):
    response = api.post("model-versions/set-tag", name="fraud", version="9", key="k", value="v")

    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "version=9")


def test_setting_a_tag_on_version_abc_is_400(api, fraud):
    response = api.post("model-versions/set-tag", name="fraud", version="abc", key="k", value="v")

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "must be an integer")


def test_deleting_a_version_tag_removes_it(api, fraud, owner_ctx):
    actions.version_tag_set(owner_ctx, name="fraud", version="1", key="k", value="v")

    assert_empty_ok(api.delete("model-versions/delete-tag", name="fraud", version="1", key="k"))

    assert "tags" not in version(api, "1")


def test_deleting_a_missing_version_tag_is_200_and_writes_no_activity(api, fraud):
    count = Activity.objects.count()

    assert_empty_ok(api.delete("model-versions/delete-tag", name="fraud", version="1", key="nope"))

    assert Activity.objects.count() == count


# Aliases -------------------------------------------------------------------------------------

def test_setting_an_alias_answers_an_empty_object_and_get_by_alias_finds_the_version(api, fraud):
    assert_empty_ok(api.post("registered-models/alias", name="fraud", alias="champion", version="2"))

    response = api.get("registered-models/alias", name="fraud", alias="champion")

    assert response.status_code == 200
    body = response.json_body["model_version"]
    assert (body["name"], body["version"], body["status"]) == ("fraud", "2", "READY")
    assert body["aliases"] == ["champion"]


def test_an_alias_version_may_be_sent_as_a_json_number(api, fraud):
    assert_empty_ok(api.post("registered-models/alias", name="fraud", alias="champion", version=2))

    assert version(api, "2")["aliases"] == ["champion"]


def test_setting_an_existing_alias_moves_it(api, fraud, alias):
    alias("champion", "1")

    api.post("registered-models/alias", name="fraud", alias="champion", version="2")

    assert model(api)["aliases"] == [{"alias": "champion", "version": "2"}]
    assert "aliases" not in version(api, "1")
    assert version(api, "2")["aliases"] == ["champion"]


def test_getting_a_missing_alias_is_400_invalid_parameter_value(api, fraud):
    response = api.get("registered-models/alias", name="fraud", alias="nope")

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Registered model alias nope not found.")


def test_getting_an_alias_of_a_missing_model_is_404(api):
    response = api.get("registered-models/alias", name="nope", alias="champion")

    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST")


def test_setting_an_alias_to_a_missing_version_is_404(api, fraud):
    response = api.post("registered-models/alias", name="fraud", alias="champion", version="99")

    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "Model Version (name=fraud, version=99) not found")


@pytest.mark.parametrize("alias", ["latest", "LATEST", "v1", "V2"])
def test_setting_a_reserved_alias_is_400(api, fraud, alias):
    response = api.post("registered-models/alias", name="fraud", alias=alias, version="1")

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "reserved")
    assert "aliases" not in model(api)


def test_setting_an_alias_without_a_version_is_400(api, fraud):
    response = api.post("registered-models/alias", name="fraud", alias="champion")

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "'version'")


def test_deleting_an_alias_with_a_json_body_removes_it(api, fraud, alias):
    alias("champion", "1")

    assert_empty_ok(api.delete("registered-models/alias", name="fraud", alias="champion"))

    assert "aliases" not in model(api)
    assert_error(
        api.get("registered-models/alias", name="fraud", alias="champion"), 400, "INVALID_PARAMETER_VALUE"
    )


def test_deleting_an_alias_with_a_query_string_removes_it(api, fraud, alias):
    alias("champion", "1")

    response = api.client.delete("/api/2.0/mlflow/registered-models/alias?name=fraud&alias=champion")

    assert response.status_code == 200
    assert "aliases" not in model(api)


def test_deleting_a_missing_alias_is_200_and_writes_no_activity(api, fraud):
    count = Activity.objects.count()

    assert_empty_ok(api.delete("registered-models/alias", name="fraud", alias="nope"))

    assert Activity.objects.count() == count


def test_deleting_a_version_removes_its_aliases_from_the_model(api, fraud, alias):
    alias("champion", "2")
    alias("fallback", "1")

    api.delete("model-versions/delete", name="fraud", version="2")

    assert model(api)["aliases"] == [{"alias": "fallback", "version": "1"}]
    assert_error(
        api.get("registered-models/alias", name="fraud", alias="champion"), 400, "INVALID_PARAMETER_VALUE"
    )
