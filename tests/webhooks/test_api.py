"""The webhook APIs as their real clients use them: databricks-sdk's registry webhooks and the
mlflow client's MLflow 3 webhooks round-trip against a live server; secrets never come back;
who may manage which webhook; event names are exact; the delivery log filters, and
redelivery resends the same bytes under the same event id (databricks-governance-api.md 3,
mlflow-registry-api.md 3.1, webhooks-jenkins-audit.md 3.2)."""

import json

import pytest
import requests
from databricks.sdk.errors import NotFound
from databricks.sdk.service import ml
from mlflow.entities.webhook import WebhookEvent, WebhookStatus
from mlflow.exceptions import MlflowException

from audit.models import Activity
from registry import actions as registry_actions
from webhooks.models import Delivery, Webhook

from .conftest import new_secret, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

E = ml.RegistryWebhookEvent
AUTHORIZATION = "Bearer receiver-credential-7f3a9c"
JENKINS_TOKEN = "11jenkins-api-token-0b5e2d"


@pytest.fixture
def raw_bodies(monkeypatch, live_server):
    """Every raw response body the live server sent to a real client in this test."""
    bodies = []
    original = requests.Session.send

    def send(session, prepared, **kwargs):
        response = original(session, prepared, **kwargs)
        if prepared.url.startswith(live_server.url):
            bodies.append(response.content)
        return response

    monkeypatch.setattr(requests.Session, "send", send)
    return bodies


@pytest.fixture
def fraud(make_model):
    return make_model("fraud")


def assert_kept_secret(values, bodies):
    """None of `values` is in any response body, any activity row, or stored in clear."""
    assert bodies
    for value in values:
        for body in bodies:
            assert value.encode() not in body, f"{value!r} appeared in a response: {body[:300]!r}"
        for row in Activity.objects.all():
            dumped = json.dumps([row.before, row.after, row.comment, row.target])
            assert value not in dumped, f"{value!r} appeared in activity {row.seq} ({row.event})"
        for hook in Webhook.objects.all():
            stored = (hook.secret_encrypted, hook.authorization_encrypted, hook.jenkins_token_encrypted, hook.url)
            assert not any(value in field for field in stored)


def test_the_databricks_sdk_creates_lists_tests_updates_and_deletes_a_registry_webhook(
    fraud, workspace_as, admin_user, receiver, secret, raw_bodies
):
    # A registry admin: the receiver is on loopback, an internal network (test_ssrf.py).
    registry = workspace_as(admin_user).model_registry
    rotated = new_secret()
    created = registry.create_webhook(
        events=[E.MODEL_VERSION_CREATED, E.TRANSITION_REQUEST_TO_PRODUCTION_CREATED],
        model_name="fraud", description="CI for fraud", status=ml.RegistryWebhookStatus.TEST_MODE,
        http_url_spec=ml.HttpUrlSpec(url=receiver.url, secret=secret, authorization=AUTHORIZATION),
    ).webhook
    assert created.id and created.creation_timestamp > 0
    assert created.events == [E.MODEL_VERSION_CREATED, E.TRANSITION_REQUEST_TO_PRODUCTION_CREATED]
    assert (created.model_name, created.description, created.status) == (
        "fraud", "CI for fraud", ml.RegistryWebhookStatus.TEST_MODE,
    )
    assert created.http_url_spec.url == receiver.url
    assert created.http_url_spec.enable_ssl_verification is True
    # The SDK's own type for the answer has no secret fields at all.
    assert set(created.http_url_spec.as_dict()) == {"url", "enable_ssl_verification"}

    assert [w.id for w in registry.list_webhooks(model_name="fraud")] == [created.id]
    assert [w.id for w in registry.list_webhooks(events=[E.TRANSITION_REQUEST_TO_PRODUCTION_CREATED])] == [created.id]
    assert list(registry.list_webhooks(events=[E.COMMENT_CREATED])) == []

    tested = registry.test_registry_webhook(created.id, event=E.MODEL_VERSION_CREATED)
    assert (tested.status_code, tested.body) == (200, "ok")
    [post] = receiver.received()
    assert post.verified == {"standard": True, "databricks": True}
    assert post.headers["authorization"] == AUTHORIZATION
    assert (post.json()["event"], post.json()["webhook_id"]) == ("MODEL_VERSION_CREATED", created.id)

    updated = registry.update_webhook(
        created.id, status=ml.RegistryWebhookStatus.ACTIVE, events=[E.MODEL_VERSION_CREATED],
        description="live", http_url_spec=ml.HttpUrlSpec(url=receiver.url_for("/v2"), secret=rotated),
    ).webhook
    assert (updated.status, updated.events, updated.description) == (
        ml.RegistryWebhookStatus.ACTIVE, [E.MODEL_VERSION_CREATED], "live",
    )
    assert updated.http_url_spec.url == receiver.url_for("/v2")
    assert updated.last_updated_timestamp >= created.last_updated_timestamp

    registry.delete_webhook(created.id)
    assert list(registry.list_webhooks()) == []
    with pytest.raises(NotFound):
        registry.test_registry_webhook(created.id)
    assert [a.event for a in Activity.objects.filter(target=created.id).order_by("seq")] == [
        "webhook.created", "webhook.tested", "webhook.updated", "webhook.deleted",
    ]
    assert_kept_secret([secret, rotated, AUTHORIZATION], raw_bodies)


def test_the_mlflow_client_creates_gets_lists_updates_tests_and_deletes_a_webhook(
    mlflow_as, admin_user, receiver, secret, raw_bodies
):
    client = mlflow_as(admin_user)
    rotated = new_secret()
    created = client.create_webhook(
        name="registry-ci", url=receiver.url, events=["model_version.created", "model_version_tag.set"],
        description="every new version", secret=secret,
    )
    assert created.webhook_id and created.name == "registry-ci" and created.url == receiver.url
    assert created.events == [WebhookEvent("model_version", "created"), WebhookEvent("model_version_tag", "set")]
    assert created.status == WebhookStatus.ACTIVE and created.secret is None

    fetched = client.get_webhook(created.webhook_id)
    assert (fetched.name, fetched.description, fetched.events) == (created.name, "every new version", created.events)
    listed = client.list_webhooks()
    assert [w.webhook_id for w in listed] == [created.webhook_id]

    result = client.test_webhook(created.webhook_id, event="model_version.created")
    assert (result.success, result.response_status, result.response_body, result.error_message) == (
        True, 200, "ok", None,
    )
    [post] = receiver.received()
    assert post.verified == {"standard": True, "mlflow": True}
    assert (post.json()["entity"], post.json()["action"]) == ("model_version", "created")

    updated = client.update_webhook(
        created.webhook_id, name="registry-ci-2", events=["model_version_alias.created"], secret=rotated,
    )
    assert updated.name == "registry-ci-2"
    assert updated.events == [WebhookEvent("model_version_alias", "created")]
    # The receiver still holds the old secret: the update re-keyed the signatures.
    result = client.test_webhook(created.webhook_id, event="model_version_alias.created")
    assert (result.success, result.response_status) == (False, 401)
    receiver.secret = rotated
    result = client.test_webhook(created.webhook_id, event="model_version_alias.created")
    assert (result.success, result.response_status, result.response_body) == (True, 200, "ok")
    post = receiver.received()[-1]
    assert post.verified == {"standard": True, "mlflow": True}
    assert (post.json()["entity"], post.json()["action"]) == ("model_version_alias", "created")

    disabled = client.update_webhook(created.webhook_id, status="DISABLED")
    assert disabled.status == WebhookStatus.DISABLED

    client.delete_webhook(created.webhook_id)
    with pytest.raises(MlflowException) as missing:
        client.get_webhook(created.webhook_id)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert list(client.list_webhooks()) == []
    assert_kept_secret([secret, rotated], raw_bodies)


def test_jenkins_credentials_and_authorization_headers_are_never_returned(
    fraud, api_as, owner, admin_user, receiver, secret, make_jenkins
):
    jenkins = make_jenkins(user="ci", api_token=JENKINS_TOKEN)
    api = api_as(admin_user, prefix="/api/2.0/modelgate/")  # Jenkins and the receiver are internal
    jenkins_spec = {"base_url": jenkins.base_url, "job": "ml/deploy", "user": "ci", "api_token": JENKINS_TOKEN}
    responses = [
        api.post("webhooks/create", model_name="fraud", events=["transition_request.approved"], secret=secret,
                 jenkins_spec=jenkins_spec),
        api.post("webhooks/create", model_name="fraud", events=["model_version.created"],
                 http_url_spec={"url": receiver.url, "secret": secret, "authorization": AUTHORIZATION}),
        api.get("webhooks/list"),
        api_as(owner).get("registry-webhooks/list"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 200]
    assert len(responses[2].json_body["webhooks"]) == 2
    assert_kept_secret([secret, AUTHORIZATION, JENKINS_TOKEN], [r.content for r in responses])


def test_a_model_webhook_needs_can_manage_on_it_and_a_registry_wide_one_a_registry_admin(
    fraud, api_as, owner, reviewer, outsider, admin_user
):
    url = "https://hooks.example.com/modelgate"  # stored only: nothing is sent here
    spec = {"events": ["MODEL_VERSION_CREATED"], "http_url_spec": {"url": url}}
    for user in (outsider, reviewer):  # CAN_READ, CAN_MANAGE_PRODUCTION_VERSIONS
        denied = api_as(user).post("registry-webhooks/create", model_name="fraud", **spec)
        assert denied.status_code == 403 and denied.json_body["error_code"] == "PERMISSION_DENIED"
        assert "requires CAN_MANAGE" in denied.json_body["message"]
    mine = api_as(owner).post("registry-webhooks/create", model_name="fraud", **spec)
    assert mine.status_code == 200
    hook_id = mine.json_body["webhook"]["id"]

    mlflow_spec = {"name": "n", "url": url, "events": [{"entity": "MODEL_VERSION", "action": "CREATED"}]}
    for path, body in [
        ("registry-webhooks/create", spec),
        ("webhooks", mlflow_spec),  # MLflow 3 webhooks are registry-wide
    ]:
        denied = api_as(owner).post(path, **body)
        assert denied.status_code == 403 and denied.json_body["error_code"] == "PERMISSION_DENIED"
        assert "requires a registry admin" in denied.json_body["message"]
        assert api_as(admin_user).post(path, **body).status_code == 200
    denied = api_as(owner, prefix="/api/2.0/modelgate/").post(
        "webhooks/create", events=["model_version.created"], http_url_spec={"url": url}
    )
    assert denied.status_code == 403 and denied.json_body["error_code"] == "PERMISSION_DENIED"

    # Others can neither see nor change the owner's webhook.
    outsider_api = api_as(outsider)
    assert outsider_api.get("registry-webhooks/list").json_body["webhooks"] == []
    for response in (
        outsider_api.patch("registry-webhooks/update", id=hook_id, status="DISABLED"),
        outsider_api.post("registry-webhooks/test", id=hook_id),
        outsider_api.delete("registry-webhooks/delete", id=hook_id),
    ):
        assert response.status_code == 403 and response.json_body["error_code"] == "PERMISSION_DENIED"
    assert Webhook.objects.get(pk=hook_id).status == Webhook.ACTIVE
    assert [w["id"] for w in api_as(owner).get("registry-webhooks/list").json_body["webhooks"]] == [hook_id]
    assert len(api_as(admin_user).get("registry-webhooks/list").json_body["webhooks"]) == 2
    assert Webhook.objects.count() == 3  # the owner's, and the admin's registry-wide two


@pytest.mark.parametrize("user, path, body, why", [
    ("owner", "registry-webhooks/create", {"model_name": "fraud", "events": ["*"]}, "Invalid event '*'"),
    ("owner", "registry-webhooks/create", {"model_name": "fraud", "events": ["MODEL_VERSION_DELETED"]},
     "Invalid event 'MODEL_VERSION_DELETED'"),
    ("owner", "registry-webhooks/create", {"model_name": "fraud", "events": ["model_version_created"]},
     "Invalid event 'model_version_created'"),
    ("owner", "registry-webhooks/create", {"model_name": "fraud", "events": []}, ""),
    ("owner", "registry-webhooks/create", {"model_name": "fraud", "events": ["REGISTERED_MODEL_CREATED"]},
     "only be used on registry-wide webhooks"),
    ("admin", "webhooks", {"name": "n", "events": [{"entity": "*", "action": "*"}]}, "Invalid event '*.*'"),
    ("admin", "webhooks", {"name": "n", "events": [{"entity": "MODEL_VERSION", "action": "SET"}]},
     "Invalid event 'model_version.set'"),
    ("admin", "webhooks", {"name": "n", "events": [{"entity": "MODEL_VERSION", "action": "TRANSITIONED_STAGE"}]},
     "Invalid event"),
    ("owner", "modelgate:webhooks/create", {"model_name": "fraud", "events": ["*"]}, "Invalid event '*'"),
    ("owner", "modelgate:webhooks/create", {"model_name": "fraud", "events": ["transition_request.*"]},
     "Invalid event 'transition_request.*'"),
])
def test_unknown_event_names_and_catch_alls_are_rejected_with_a_400(
    user, path, body, why, fraud, api_as, owner, admin_user, receiver
):
    who = {"owner": owner, "admin": admin_user}[user]
    if path.startswith("modelgate:"):
        api, path = api_as(who, prefix="/api/2.0/modelgate/"), path.split(":", 1)[1]
    else:
        api = api_as(who)
    target = {"url": receiver.url} if path == "webhooks" else {"http_url_spec": {"url": receiver.url}}
    response = api.post(path, **body, **target)
    assert response.status_code == 400, response.json_body
    assert response.json_body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert why in response.json_body["message"]
    assert not Webhook.objects.exists()


def test_the_delivery_log_filters_and_redelivery_resends_the_same_payload_under_the_same_event_id(
    worker, fraud, make_receiver, secret, webhook_for, ctx_for, owner, outsider, api_as
):
    receiver, other_receiver = make_receiver(secret), make_receiver(secret)
    receiver.reply(200, 400, 400)  # the new version is taken; both tags are refused for good
    hook = webhook_for(receiver.url, ["MODEL_VERSION_CREATED", "MODEL_VERSION_TAG_SET"], model="fraud", secret=secret)
    other = webhook_for(other_receiver.url, ["MODEL_VERSION_CREATED"], model="fraud", secret=secret)
    ctx = ctx_for(owner)
    registry_actions.version_create(ctx, name="fraud", source="s3://bucket/fraud/2")
    registry_actions.version_tag_set(ctx, name="fraud", version=2, key="k1", value="a")
    registry_actions.version_tag_set(ctx, name="fraud", version=2, key="k2", value="b")
    originals = receiver.wait_for(3)
    other_receiver.wait_for(1)
    wait_until(
        lambda: Delivery.objects.filter(status__in=Delivery.FINISHED).count() == 4, what="four finished deliveries"
    )
    created, tag1, tag2 = Delivery.objects.filter(webhook=hook).order_by("activity_seq")

    api = api_as(owner, prefix="/api/2.0/modelgate/")

    def listed(**filters):
        response = api.get("deliveries/list", **filters)
        assert response.status_code == 200, response.json_body
        return sorted(d["id"] for d in response.json_body["deliveries"])

    assert len(listed()) == 4
    assert listed(webhook_id=hook.id) == sorted([created.id, tag1.id, tag2.id])
    assert listed(status="FAILED") == sorted([tag1.id, tag2.id])
    assert listed(event="MODEL_VERSION_CREATED") == sorted(
        [created.id, Delivery.objects.get(webhook=other).id]
    )
    assert listed(webhook_id=hook.id, status="DELIVERED") == [created.id]
    assert listed(webhook_id=other.id, event="MODEL_VERSION_TAG_SET") == []
    assert api.get("deliveries/list", status="LOST").status_code == 400
    assert api_as(outsider, prefix="/api/2.0/modelgate/").get("deliveries/list").json_body["deliveries"] == []
    detail = api.get("deliveries/get", id=tag1.id).json_body["delivery"]
    assert detail["payload"].encode() == originals[1].body
    assert [(a["number"], a["status_code"]) for a in detail["attempt_log"]] == [(1, 400)]

    # Every failed one, in their order, with the receiver fixed.
    response = api.post("deliveries/redeliver", webhook_id=hook.id)
    assert response.status_code == 200 and response.json_body["delivery_ids"] == [tag1.id, tag2.id]
    resent = receiver.wait_for(5)[3:]
    assert [(p.event_id, p.body) for p in resent] == [
        (tag1.event_id, originals[1].body), (tag2.event_id, originals[2].body),
    ]
    assert all(p.verified == {"standard": True, "databricks": True} for p in resent)
    wait_until(
        lambda: set(Delivery.objects.filter(webhook=hook).values_list("status", flat=True)) == {"DELIVERED"},
        what="the redelivered ones to be delivered",
    )

    # One that was delivered already, again.
    response = api.post("deliveries/redeliver", webhook_id=hook.id, delivery_id=created.id)
    assert response.status_code == 200 and response.json_body["delivery_ids"] == [created.id]
    again = receiver.wait_for(6)[5]
    assert (again.event_id, again.body) == (originals[0].event_id, originals[0].body)
    assert [a.after["delivery_ids"] for a in Activity.objects.filter(event="webhook.redelivered").order_by("seq")] == [
        [tag1.id, tag2.id], [created.id],
    ]

    # Another webhook's delivery is not this webhook's to redeliver.
    stranger = Delivery.objects.get(webhook=other)
    response = api.post("deliveries/redeliver", webhook_id=hook.id, delivery_id=stranger.id)
    assert response.status_code == 404 and response.json_body["error_code"] == "RESOURCE_DOES_NOT_EXIST"


BROKEN_URL = "http://[invalid"
MLFLOW_BROKEN_URL_MESSAGE = "Invalid webhook URL 'http://[invalid': ValueError('Invalid IPv6 URL')"


@pytest.mark.parametrize("endpoint", [
    "mlflow webhooks create", "mlflow webhooks update", "registry-webhooks create", "registry-webhooks update",
    "modelgate webhooks create http", "modelgate webhooks create jenkins",
])
def test_a_url_that_cannot_be_parsed_is_a_400_on_every_webhook_api_and_changes_nothing(
    endpoint, fraud, api_as, owner, admin_user, webhook_for
):
    mlflow_hook = webhook_for("https://hooks.example.com/all", ["model_version.created"], flavor="mlflow", name="all")
    registry_hook = webhook_for("https://hooks.example.com/fraud", ["MODEL_VERSION_CREATED"], model="fraud")
    before = list(Webhook.objects.order_by("pk").values())
    modelgate = api_as(owner, prefix="/api/2.0/modelgate/")
    call = {
        "mlflow webhooks create": lambda: api_as(admin_user).post(
            "webhooks", name="n", url=BROKEN_URL, events=[{"entity": "MODEL_VERSION", "action": "CREATED"}]),
        "mlflow webhooks update": lambda: api_as(admin_user).patch(f"webhooks/{mlflow_hook.pk}", url=BROKEN_URL),
        "registry-webhooks create": lambda: api_as(owner).post(
            "registry-webhooks/create", model_name="fraud", events=["MODEL_VERSION_CREATED"],
            http_url_spec={"url": BROKEN_URL}),
        "registry-webhooks update": lambda: api_as(owner).patch(
            "registry-webhooks/update", id=registry_hook.pk, http_url_spec={"url": BROKEN_URL}),
        "modelgate webhooks create http": lambda: modelgate.post(
            "webhooks/create", model_name="fraud", events=["model_version.created"], http_url_spec={"url": BROKEN_URL}),
        "modelgate webhooks create jenkins": lambda: modelgate.post(
            "webhooks/create", model_name="fraud", events=["model_version.created"],
            jenkins_spec={"base_url": BROKEN_URL, "job": "deploy", "user": "ci", "api_token": "t"}),
    }[endpoint]

    response = call()

    assert response.status_code == 400, response.content
    assert response.json_body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert response.json_body["message"] == MLFLOW_BROKEN_URL_MESSAGE
    assert list(Webhook.objects.order_by("pk").values()) == before


def test_a_new_host_drops_the_stored_secret_and_authorization_unless_the_same_request_gives_them(
    fraud, api_as, owner, admin_user, make_receiver, secret
):
    first, second = make_receiver(secret), make_receiver()
    admin, manager = api_as(admin_user), api_as(owner)
    created = admin.post(
        "registry-webhooks/create", model_name="fraud", events=["MODEL_VERSION_CREATED"],
        http_url_spec={"url": first.url, "secret": secret, "authorization": AUTHORIZATION},
    )
    assert created.status_code == 200, created.json_body
    hook_id = created.json_body["webhook"]["id"]

    # Another path on the same scheme, host and port is the same destination: both stay.
    assert admin.patch("registry-webhooks/update", id=hook_id, http_url_spec={"url": first.url_for("/v2")}).status_code == 200
    assert admin.post("registry-webhooks/test", id=hook_id).json_body["status_code"] == 200
    [post] = first.received("/v2")
    assert post.headers["authorization"] == AUTHORIZATION and post.verified == {"standard": True, "databricks": True}

    # The model's manager points it at another host: what the admin stored stays behind.
    moved_to = f"http://localhost:{second.port}/hook"
    response = manager.patch("registry-webhooks/update", id=hook_id, http_url_spec={"url": moved_to})
    assert response.status_code == 200, response.json_body
    manager.post("registry-webhooks/test", id=hook_id)
    for request in second.received():
        assert "authorization" not in request.headers and request.verified == {}
        assert not {"webhook-signature", "x-databricks-signature"} & set(request.headers)
    hook = Webhook.objects.get(pk=hook_id)
    assert (hook.secret_encrypted, hook.authorization_encrypted) == ("", "")
    moved = Activity.objects.filter(event="webhook.updated", target=hook_id).order_by("seq").last()
    assert (moved.before["url"], moved.after["url"]) == (first.url_for("/v2"), moved_to)
    assert (moved.after["has_secret"], moved.after["has_authorization"]) == (False, False)
    assert "dropped the stored secret and Authorization header" in moved.comment
    assert "deliveries are unsigned until a secret is set" in moved.comment

    # A move that gives a secret again keeps it (and still drops what it did not give).
    rotated = new_secret()
    second.secret = rotated
    response = admin.patch("registry-webhooks/update", id=hook_id, http_url_spec={"url": second.url, "secret": rotated})
    assert response.status_code == 200, response.json_body
    assert admin.post("registry-webhooks/test", id=hook_id).json_body["status_code"] == 200
    signed = second.received()[-1]
    assert signed.verified == {"standard": True, "databricks": True} and "authorization" not in signed.headers


def test_an_mlflow_webhook_moved_to_another_host_without_its_secret_is_sent_unsigned(
    mlflow_as, api_as, admin_user, make_receiver, secret
):
    first, second = make_receiver(secret), make_receiver()
    client = mlflow_as(admin_user)
    created = client.create_webhook(name="ci", url=first.url, events=["model_version.created"], secret=secret)

    client.update_webhook(created.webhook_id, url=f"http://localhost:{second.port}/hook")
    result = client.test_webhook(created.webhook_id, event="model_version.created")

    assert (result.success, result.response_status) == (True, 200)
    [post] = second.received()
    assert not {"webhook-signature", "x-mlflow-signature", "authorization"} & set(post.headers)
    assert Webhook.objects.get(pk=created.webhook_id).secret_encrypted == ""
    moved = Activity.objects.filter(event="webhook.updated", target=created.webhook_id).get()
    assert "dropped the stored secret" in moved.comment
