"""What holds for every endpoint: JSON errors for wrong methods, unknown URLs and anonymous
callers; the /ajax-api prefix; lenient bodies; request ids carried into the activity log."""

import json

import pytest
from rest_framework.test import APIClient

from audit.activity import activity_recorded
from audit.models import Activity
from registry.models import RegisteredModel

SOURCE = "s3://bucket/fraud/model"


def assert_json_error(response, status, error_code):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error_code"] == error_code
    assert response.json()["message"]


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "registered-models/create"),
        ("post", "registered-models/get"),
        ("put", "registered-models/update"),
        ("post", "registered-models/delete"),
        ("delete", "model-versions/create"),
        ("patch", "registered-models/alias"),
        ("get", "model-versions/transition-stage"),
    ],
)
def test_a_wrong_method_is_405_with_a_json_error(api, method, path):
    response = getattr(api.client, method)(f"/api/2.0/mlflow/{path}")

    assert_json_error(response, 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize(
    "path",
    ["/api/2.0/mlflow/registered-models/nope", "/api/2.0/preview/mlflow/registered-models/get",
     "/api/9.9/anything", "/ajax-api/2.0/mlflow/nope"],
)
def test_an_unknown_url_under_api_is_404_endpoint_not_found_in_json(api, path):
    response = api.client.get(path)

    assert_json_error(response, 404, "ENDPOINT_NOT_FOUND")


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "registered-models/get?name=fraud"),
        ("get", "registered-models/search"),
        ("get", "registered-models/alias?name=fraud&alias=champion"),
        ("post", "registered-models/create"),
        ("delete", "registered-models/delete"),
    ],
)
def test_an_anonymous_caller_gets_401_unauthenticated_in_json(db, method, path):
    response = getattr(APIClient(), method)(f"/api/2.0/mlflow/{path}")

    assert_json_error(response, 401, "UNAUTHENTICATED")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_anonymous_write_changes_nothing(db):
    APIClient().post(
        "/api/2.0/mlflow/registered-models/create", data={"name": "fraud"}, format="json"
    )

    assert not RegisteredModel.objects.exists()
    assert not Activity.objects.exists()


def test_the_ajax_api_prefix_serves_the_same_endpoints(api_as, owner):
    ajax = api_as(owner, prefix="/ajax-api/2.0/mlflow/")

    assert ajax.post("registered-models/create", name="fraud").status_code == 200
    assert ajax.post("model-versions/create", name="fraud", source=SOURCE).status_code == 200
    assert ajax.post("registered-models/alias", name="fraud", alias="champion", version="1").status_code == 200

    response = ajax.get("registered-models/alias", name="fraud", alias="champion")
    assert response.json_body["model_version"]["version"] == "1"
    assert ajax.get("registered-models/nope").status_code == 404


def test_a_json_body_sent_as_form_content_type_is_read_as_json(api):
    # curl -d '{"name": ...}' sends application/x-www-form-urlencoded.
    response = api.client.post(
        "/api/2.0/mlflow/registered-models/create", data=json.dumps({"name": "fraud"}),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert RegisteredModel.objects.filter(name="fraud").exists()


def test_unknown_request_fields_are_ignored(api):
    response = api.post("registered-models/create", name="fraud", deployment_job_id="j1", extra=1)

    assert response.status_code == 200


def test_the_request_id_and_token_are_recorded_in_the_activity(api):
    response = api.client.post(
        "/api/2.0/mlflow/registered-models/create", data=json.dumps({"name": "fraud"}),
        content_type="application/json", HTTP_X_REQUEST_ID="req-123",
    )

    assert response["X-Request-Id"] == "req-123"
    activity = Activity.objects.get(event="registered_model.created")
    assert activity.request_id == "req-123"
    assert activity.via == "api"
    assert activity.actor == "owner"
    assert activity.token_id is not None
    assert activity.client_ip == "127.0.0.1"


def test_an_unexpected_crash_is_a_json_500_and_the_write_is_rolled_back(api):
    def explode(**kwargs):
        raise RuntimeError("subscriber is down")

    activity_recorded.connect(explode)
    try:
        response = api.post("registered-models/create", name="fraud")
    finally:
        activity_recorded.disconnect(explode)

    assert_json_error(response, 500, "INTERNAL_ERROR")
    assert not RegisteredModel.objects.exists()
    assert not Activity.objects.filter(event="registered_model.created").exists()
