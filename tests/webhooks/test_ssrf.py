"""The SSRF guard (webhooks-jenkins-audit.md 3.2): webhook URLs are user input, so deliveries
never reach loopback, private, link-local (the cloud metadata address) or otherwise non-public
addresses unless an operator allowlisted the network and a registry admin set the webhook's
destination; names are checked by what they resolve to, once, and the connection goes to the
checked address; redirects are never followed. A refusal is recorded in the delivery log and
is permanent. Others than registry admins see no answer from an internal destination.

These tests send in this process (outbox.send_claimed / transport.send), with this process's
allowlist set per test; a spy on socket.connect shows where connections were attempted."""

import socket

import pytest

from audit.models import Activity
from registry import actions as registry_actions
from webhooks import outbox, transport
from webhooks.models import Attempt, Delivery, Webhook

from .conftest import Reply

pytestmark = pytest.mark.django_db

METADATA_URL = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


@pytest.fixture
def connects(monkeypatch):
    """Addresses this process tried to connect a socket to (the spy passes every call on)."""
    seen = []
    original = socket.socket.connect

    def spy(sock, address):
        seen.append(address[0] if isinstance(address, tuple) else address)
        return original(sock, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    return seen


@pytest.fixture
def fraud(make_model):
    return make_model("fraud")


@pytest.fixture
def hook_then_deliver(fraud, webhook_for, settings, ctx_for, owner):
    """hook_then_deliver(url, allowed_at_creation, allowed_at_delivery) -> the settled Delivery:
    a webhook created while its destination was allowed (or named by a host name), then one
    event, claimed and sent in this process under the delivery-time allowlist."""

    def run(url, *, allowed_at_creation=("127.0.0.0/8",), allowed_at_delivery=()):
        settings.MODELGATE_WEBHOOK_ALLOWED_NETWORKS = list(allowed_at_creation)
        hook = webhook_for(url, ["MODEL_VERSION_TAG_SET"], model="fraud", secret="s3cr3t")
        settings.MODELGATE_WEBHOOK_ALLOWED_NETWORKS = list(allowed_at_delivery)
        registry_actions.version_tag_set(ctx_for(owner), name="fraud", version=1, key="k", value="v")
        pending = Delivery.objects.get(webhook=hook)
        claimed = outbox.claim(pending.pk)
        assert claimed is not None
        return outbox.send_claimed(claimed)

    return run


def assert_refused_for_good(delivery, address):
    assert delivery.status == Delivery.FAILED  # permanent: no retry is scheduled
    assert delivery.attempts == 1
    [attempt] = Attempt.objects.filter(delivery=delivery)
    assert attempt.status_code is None
    assert attempt.error.startswith("refused: destination ") and address in attempt.error
    assert delivery.last_error == attempt.error


def test_the_metadata_address_is_refused_without_connecting_to_it(hook_then_deliver, connects):
    # Allowlisted when the webhook was created, no longer when the event is delivered.
    delivery = hook_then_deliver(METADATA_URL, allowed_at_creation=["169.254.0.0/16"])
    assert_refused_for_good(delivery, "169.254.169.254")
    assert "169.254.169.254" not in connects


def test_loopback_is_refused_without_the_allowlist_and_nothing_reaches_the_receiver(
    hook_then_deliver, receiver, connects
):
    delivery = hook_then_deliver(receiver.url)
    assert_refused_for_good(delivery, "127.0.0.1")
    assert receiver.received() == []
    assert connects == []


def test_a_host_name_that_resolves_to_loopback_is_refused(hook_then_deliver, receiver, connects):
    url = f"http://localhost:{receiver.port}/hook"
    delivery = hook_then_deliver(url, allowed_at_creation=[])  # a name passes creation
    assert_refused_for_good(delivery, "127.0.0.1")
    assert receiver.received() == []
    assert connects == []


@pytest.mark.parametrize("target", ["an internal service", "the metadata address"])
def test_a_redirect_is_never_followed(target, hook_then_deliver, make_receiver, connects):
    internal = make_receiver()
    location = internal.url_for("/admin") if target == "an internal service" else METADATA_URL
    front = make_receiver("s3cr3t")
    front.default = Reply(302, b"", {"Location": location})

    # The front receiver's own address is allowed (and so is the internal one: only not
    # following the redirect keeps the delivery away from it).
    delivery = hook_then_deliver(front.url, allowed_at_delivery=["127.0.0.1/32"])

    assert len(front.received()) == 1
    assert internal.received() == []
    assert "169.254.169.254" not in connects
    assert (delivery.status, delivery.attempts) == (Delivery.FAILED, 1)  # a 3xx is permanent
    [attempt] = Attempt.objects.filter(delivery=delivery)
    assert attempt.status_code == 302
    assert delivery.last_error.startswith("redirect to ") and delivery.last_error.endswith("not followed")


@pytest.mark.parametrize("url", [
    METADATA_URL,
    "http://127.0.0.1:{port}/hook",
    "http://localhost:{port}/hook",
    "http://[::1]:{port}/hook",
    "http://[::ffff:127.0.0.1]:{port}/hook",
    "http://0.0.0.0:{port}/hook",
    "http://10.1.2.3/hook",
    "http://100.64.0.1/hook",
])
def test_the_transport_refuses_non_public_destinations_before_connecting(url, receiver, connects, settings):
    settings.MODELGATE_WEBHOOK_ALLOWED_NETWORKS = []
    result = transport.send("POST", url.format(port=receiver.port), data=b"{}")
    assert result.refused and result.error.startswith("refused: destination ")
    assert result.status_code is None
    assert connects == []
    assert receiver.received() == []


def test_the_transport_reaches_an_allowlisted_network_only_in_a_session_allowed_internal_networks(
    receiver, settings, connects
):
    settings.MODELGATE_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    url = f"http://localhost:{receiver.port}/hook"

    public_only = transport.send("POST", url, data=b"{}")
    assert public_only.refused and "only a registry admin may point a webhook at an internal network" in public_only.error
    assert connects == [] and receiver.received() == []

    result = transport.send("POST", url, data=b"{}", http=transport.session(allow_internal=True))
    # The receiver holds a secret and this request is unsigned: it answers 401, but it answered.
    assert (result.status_code, result.refused, result.internal) == (401, False, True)
    assert len(receiver.received()) == 1


@pytest.mark.parametrize("url, why", [
    ("http://127.0.0.1:8080/hook", "not a public address"),
    ("http://10.0.0.5/hook", "not a public address"),
    ("http://192.168.1.10/hook", "not a public address"),
    ("http://169.254.169.254/latest/meta-data/", "not a public address"),
    ("http://100.64.0.1/hook", "not a public address"),
    ("http://[::1]/hook", "not a public address"),
    ("http://[fd00::1]/hook", "not a public address"),
    ("http://[::ffff:10.0.0.1]/hook", "not a public address"),
    ("file:///etc/passwd", "Invalid webhook URL scheme: 'file'"),
    ("gopher://127.0.0.1:6379/_FLUSHALL", "Invalid webhook URL scheme: 'gopher'"),
    ("http://jenkins:token@ci.example.com/hook", "credentials in the URL"),
])
def test_creating_a_webhook_with_a_private_or_unsafe_url_is_a_400_and_creates_nothing(
    url, why, fraud, api_as, owner, settings
):
    settings.MODELGATE_WEBHOOK_ALLOWED_NETWORKS = []
    response = api_as(owner).post(
        "registry-webhooks/create", model_name="fraud", events=["MODEL_VERSION_CREATED"],
        http_url_spec={"url": url},
    )
    assert response.status_code == 400
    assert response.json_body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert why in response.json_body["message"]
    assert not Webhook.objects.exists()


def test_updating_a_webhook_to_a_private_url_is_a_400_and_changes_nothing(fraud, api_as, owner, settings):
    settings.MODELGATE_WEBHOOK_ALLOWED_NETWORKS = []
    api = api_as(owner)
    created = api.post(
        "registry-webhooks/create", model_name="fraud", events=["MODEL_VERSION_CREATED"],
        http_url_spec={"url": "https://hooks.example.com/modelgate"},
    )
    assert created.status_code == 200, created.json_body
    hook_id = created.json_body["webhook"]["id"]

    response = api.patch("registry-webhooks/update", id=hook_id, http_url_spec={"url": "http://10.0.0.5/hook"})
    assert response.status_code == 400 and "not a public address" in response.json_body["message"]
    assert Webhook.objects.get(pk=hook_id).url == "https://hooks.example.com/modelgate"


def test_a_jenkins_base_url_on_a_private_address_needs_the_allowlist_and_a_registry_admin(
    fraud, api_as, owner, admin_user, settings
):
    settings.MODELGATE_WEBHOOK_ALLOWED_NETWORKS = []
    spec = {"base_url": "http://10.20.30.40:8080", "job": "ml/deploy", "user": "ci", "api_token": "t0ken"}
    body = {"model_name": "fraud", "events": ["transition_request.approved"], "jenkins_spec": spec}
    response = api_as(admin_user, prefix="/api/2.0/modelgate/").post("webhooks/create", **body)
    assert response.status_code == 400 and "not a public address" in response.json_body["message"]

    settings.MODELGATE_WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16"]  # an internal Jenkins, allowed by the operator
    # The model's owner may not point a webhook inside, allowlisted or not: the same answer.
    response = api_as(owner, prefix="/api/2.0/modelgate/").post("webhooks/create", **body)
    assert response.status_code == 400 and "only a registry admin may point a webhook at an internal network" in (
        response.json_body["message"]
    )
    response = api_as(admin_user, prefix="/api/2.0/modelgate/").post("webhooks/create", **body)
    assert response.status_code == 200, response.json_body
    assert Webhook.objects.get().destination_set_by_admin


# Internal networks are for registry admins (the allowlist lets 127.0.0.0/8 in) ------------------


def test_a_model_owner_cannot_point_a_webhook_at_an_allowlisted_address(fraud, api_as, owner, webhook_for, receiver):
    only_admins = "only a registry admin may point a webhook at an internal network"
    created = api_as(owner).post(
        "registry-webhooks/create", model_name="fraud", events=["MODEL_VERSION_CREATED"],
        http_url_spec={"url": receiver.url},
    )
    assert created.status_code == 400 and only_admins in created.json_body["message"]
    hook = webhook_for("https://hooks.example.com/fraud", ["MODEL_VERSION_CREATED"], model="fraud")
    moved = api_as(owner).patch("registry-webhooks/update", id=hook.id, http_url_spec={"url": receiver.url})
    assert moved.status_code == 400 and only_admins in moved.json_body["message"]
    assert list(Webhook.objects.values_list("url", flat=True)) == ["https://hooks.example.com/fraud"]


@pytest.mark.parametrize("how", ["created by the owner", "moved there by the owner"])
def test_a_name_for_an_internal_address_is_refused_at_connect_unless_a_registry_admin_gave_it(
    how, fraud, api_as, owner, webhook_for, receiver, connects, ctx_for
):
    by_name = f"http://localhost:{receiver.port}/hook"  # a name passes creation: its address is checked at connect
    if how == "created by the owner":
        response = api_as(owner).post(
            "registry-webhooks/create", model_name="fraud", events=["MODEL_VERSION_TAG_SET"],
            http_url_spec={"url": by_name, "secret": "s3cr3t"},
        )
    else:  # a registry admin's webhook on the model, reaching the receiver until the owner moves it
        hook = webhook_for(receiver.url, ["MODEL_VERSION_TAG_SET"], model="fraud", secret="s3cr3t")
        response = api_as(owner).patch("registry-webhooks/update", id=hook.id, http_url_spec={"url": by_name})
    assert response.status_code == 200, response.json_body

    registry_actions.version_tag_set(ctx_for(owner), name="fraud", version=1, key="k", value="v")
    claimed = outbox.claim(Delivery.objects.get().pk)
    delivery = outbox.send_claimed(claimed)

    assert_refused_for_good(delivery, "127.0.0.1")
    assert "only a registry admin may point a webhook at an internal network" in delivery.last_error
    assert receiver.received() == [] and connects == []


def test_a_name_that_answers_differently_when_connecting_cannot_take_the_connection_inside(
    receiver, connects, monkeypatch, settings
):
    settings.MODELGATE_WEBHOOK_CONNECT_TIMEOUT = 0.5
    original, answers = socket.getaddrinfo, []

    def rebinding_dns(host, *args, **kwargs):
        # The first answer is public and passes the check; every later one is loopback.
        if host != "rebind.example.com":
            return original(host, *args, **kwargs)
        answers.append(host)
        address = "93.184.216.34" if len(answers) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, receiver.port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    result = transport.send("POST", f"http://rebind.example.com:{receiver.port}/hook", data=b"{}")

    assert "127.0.0.1" not in connects  # the connection went to the address that was checked
    assert receiver.received() == []
    assert result.status_code is None


def test_others_see_no_body_and_one_message_for_every_failure_of_an_internal_destination(
    fraud, webhook_for, make_receiver, api_as, owner, admin_user, settings
):
    settings.MODELGATE_WEBHOOK_READ_TIMEOUT = 0.5
    receiver = make_receiver()
    hook = webhook_for(receiver.url, ["MODEL_VERSION_CREATED"], model="fraud")  # a registry admin's, internal
    manager, admin = api_as(owner), api_as(admin_user)
    modelgate = {user: api_as(user, prefix="/api/2.0/modelgate/") for user in (owner, admin_user)}

    def test_as(api):
        response = api.post("registry-webhooks/test", id=hook.id, event="MODEL_VERSION_CREATED")
        assert response.status_code == 200, response.json_body
        return response.json_body

    receiver.default = Reply(500, b"Jenkins script console: root password hunter2")
    assert (test_as(admin)["status_code"], test_as(admin)["body"]) == (500, "Jenkins script console: root password hunter2")
    answered = test_as(manager)
    assert (answered["status_code"], answered["body"]) == (500, "")

    receiver.default = Reply(hang=True)
    timed_out = test_as(manager)
    receiver.released.set()
    receiver.down()
    refused = test_as(manager)
    hidden = {"status_code": 0, "body": "failed at an internal destination (registry admins see the details)"}
    assert {k: timed_out[k] for k in hidden} == {k: refused[k] for k in hidden} == hidden
    admin_refused = test_as(admin)
    assert admin_refused["body"].startswith("ConnectionError")

    # The delivery log says no more to them; the activity log (anyone reading the model) neither.
    detail = modelgate[owner].get("deliveries/get", id=answered["delivery_id"]).json_body["delivery"]
    assert [(a["status_code"], a["response_excerpt"], a["error"], a["latency_ms"]) for a in detail["attempt_log"]] == [
        (500, "", "", None)
    ]
    listed = {d["id"]: d for d in modelgate[owner].get("deliveries/list").json_body["deliveries"]}
    assert listed[refused["delivery_id"]]["last_error"] == listed[timed_out["delivery_id"]]["last_error"] == hidden["body"]
    mine = modelgate[admin_user].get("deliveries/get", id=admin_refused["delivery_id"]).json_body["delivery"]
    assert mine["attempt_log"][0]["error"].startswith("ConnectionError") and mine["attempt_log"][0]["latency_ms"] is not None
    tested = Activity.objects.filter(event="webhook.tested").order_by("seq")
    assert [row.after["error"] for row in tested] == [None, None, None, hidden["body"], hidden["body"], hidden["body"]]
