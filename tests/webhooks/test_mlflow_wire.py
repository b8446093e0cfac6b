"""The MLflow webhook API answers bad requests exactly as MLflow 3.17's server does (status,
error_code, message), since clients and MLflow's own test suite match the text. Modelgate's
one deliberate difference: http is allowed besides https (an internal Jenkins is often plain
http), MODELGATE_WEBHOOK_ALLOWED_SCHEMES; the message keeps MLflow's shape."""

import pytest

from audit.models import Activity
from webhooks.models import Webhook

pytestmark = pytest.mark.django_db

EVENTS = [{"entity": "MODEL_VERSION", "action": "CREATED"}]
NAME_RULE = (
    "It must start and end with a letter or digit, be less than 63 characters long, and contain only "
    "letters, digits, dots (.), underscores (_), and hyphens (-)."
)


@pytest.fixture
def api(api_as, admin_user):
    return api_as(admin_user)


@pytest.fixture
def hook(webhook_for):
    return webhook_for("https://hooks.example.com/all", ["model_version.created"], flavor="mlflow", name="all")


def assert_exact_error(response, status, error_code, message):
    assert response.status_code == status, response.json_body
    assert response.json_body == {"error_code": error_code, "message": message}


@pytest.mark.parametrize("url, message", [
    ("http://[invalid", "Invalid webhook URL 'http://[invalid': ValueError('Invalid IPv6 URL')"),
    ("   ", "Webhook URL cannot be empty or just whitespace: '   '"),
    ("ftp://example.com", "Invalid webhook URL scheme: 'ftp'. Allowed schemes are: https, http."),
    ("file:///etc/passwd", "Invalid webhook URL scheme: 'file'. Allowed schemes are: https, http."),
    ("https://", "Webhook URL must include a hostname: 'https://'"),
])
@pytest.mark.parametrize("call", ["create", "update"])
def test_a_bad_webhook_url_gets_mlflow_s_exact_400_on_create_and_update_and_changes_nothing(
    call, url, message, api, hook
):
    before = list(Webhook.objects.values())
    activities = Activity.objects.count()
    if call == "create":
        response = api.post("webhooks", name="n", url=url, events=EVENTS)
    else:
        response = api.patch(f"webhooks/{hook.pk}", url=url)
    assert_exact_error(response, 400, "INVALID_PARAMETER_VALUE", message)
    assert list(Webhook.objects.values()) == before
    assert Activity.objects.count() == activities


def test_only_the_schemes_the_operator_allows_are_accepted_and_the_message_lists_them(api, settings):
    settings.MODELGATE_WEBHOOK_ALLOWED_SCHEMES = ["https"]
    response = api.post("webhooks", name="n", url="http://hooks.example.com/x", events=EVENTS)
    assert_exact_error(
        response, 400, "INVALID_PARAMETER_VALUE", "Invalid webhook URL scheme: 'http'. Allowed schemes are: https."
    )
    assert api.post("webhooks", name="n", url="https://hooks.example.com/x", events=EVENTS).status_code == 200


def test_an_empty_url_on_update_leaves_the_url_as_it_was_as_mlflow_does(api, hook):
    response = api.patch(f"webhooks/{hook.pk}", url="", description="new")
    assert response.status_code == 200, response.json_body
    assert response.json_body["webhook"]["url"] == "https://hooks.example.com/all"
    assert response.json_body["webhook"]["description"] == "new"


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_an_unknown_webhook_id_is_mlflow_s_exact_404(method, api, hook):
    call = getattr(api, method)
    response = call("webhooks/nonexistent", **({"description": "x"} if method == "patch" else {}))
    assert_exact_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "Webhook with ID nonexistent not found.")


@pytest.mark.parametrize("name", ["bad name", "-starts-with-hyphen", "x" * 64, "ends.", "ünïcode"])
@pytest.mark.parametrize("call", ["create", "update"])
def test_a_webhook_name_mlflow_refuses_gets_its_exact_400(call, name, api, hook):
    if call == "create":
        response = api.post("webhooks", name=name, url="https://hooks.example.com/x", events=EVENTS)
    else:
        response = api.patch(f"webhooks/{hook.pk}", name=name)
    assert_exact_error(response, 400, "INVALID_PARAMETER_VALUE", f"Webhook name {name!r} is invalid. {NAME_RULE}")
    assert Webhook.objects.get(pk=hook.pk).name == "all"


def test_an_empty_event_list_gets_mlflow_s_exact_400(api):
    response = api.post("webhooks", name="n", url="https://hooks.example.com/x", events=[])
    assert_exact_error(
        response, 400, "INVALID_PARAMETER_VALUE",
        "Webhook events must be a non-empty list of WebhookEvent objects: [].",
    )
    assert not Webhook.objects.exists()


def test_a_missing_url_is_mlflow_s_missing_parameter_400(api):
    response = api.post("webhooks", name="n", events=EVENTS)
    assert_exact_error(
        response, 400, "INVALID_PARAMETER_VALUE",
        "Missing value for required parameter 'url'. See the API docs for more information about request parameters.",
    )


@pytest.mark.parametrize("max_results", [0, 1001])
def test_max_results_out_of_range_gets_mlflow_s_exact_400(max_results, api):
    response = api.get("webhooks", max_results=max_results)
    assert_exact_error(response, 400, "INVALID_PARAMETER_VALUE", "max_results must be between 1 and 1000.")


def test_a_version_source_that_climbs_out_with_dot_dot_gets_mlflow_s_exact_400(api_as, owner, make_model):
    make_model("fraud")
    source = "s3://bucket/models/../../secrets"
    response = api_as(owner).post("model-versions/create", name="fraud", source=source)
    assert_exact_error(
        response, 400, "INVALID_PARAMETER_VALUE",
        f"Invalid model version source: '{source}'. If supplying a source as an http, https, local file path, "
        "ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path "
        "references present. Please provide an absolute path.",
    )
