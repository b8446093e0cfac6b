"""GET /metrics: Prometheus' text format, for registry admins' tokens and for the addresses in
MODELGATE_METRICS_ALLOWED_NETWORKS; 401 without credentials, 403 for anyone else."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from accounts.actions import token_create
from audit.actions import checkpoint_create
from audit.ctx import Ctx
from registry import actions as registry_actions
from registry.models import ModelVersion
from tests.conftest import assert_error, last_seq
from webhooks import actions as webhook_actions
from webhooks.models import Delivery
from workflows import actions as workflow_actions

pytestmark = pytest.mark.django_db


def client_for(user=None, address="127.0.0.1", **headers):
    client = APIClient(REMOTE_ADDR=address, **headers)
    if user is not None:
        _, raw = token_create(Ctx.cli(user), user=user, name="prometheus")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def scrape(client):
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def value(families, name, **labels):
    """The first sample called `name` with these labels (None if there is none)."""
    for family in families.values():
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


def errored(response):
    import json

    response.json_body = json.loads(response.content)
    return response


def test_metrics_without_credentials_from_an_unlisted_address_are_401_in_mlflow_format(settings):
    settings.MODELGATE_METRICS_ALLOWED_NETWORKS = []
    response = errored(client_for().get("/metrics"))
    assert_error(response, 401, "UNAUTHENTICATED")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_metrics_are_403_for_a_token_of_someone_who_is_not_a_registry_admin(settings, owner):
    settings.MODELGATE_METRICS_ALLOWED_NETWORKS = []
    assert_error(errored(client_for(owner).get("/metrics")), 403, "PERMISSION_DENIED")


def test_a_registry_admins_token_may_read_the_metrics(settings, admin_user):
    settings.MODELGATE_METRICS_ALLOWED_NETWORKS = []
    families = scrape(client_for(admin_user))
    assert "modelgate_activity_head_seq" in families


def test_an_address_inside_an_allowed_network_may_read_the_metrics_without_a_token(settings):
    settings.MODELGATE_METRICS_ALLOWED_NETWORKS = ["10.20.0.0/16", "fd00::/8"]
    assert "modelgate_activity_head_seq" in scrape(client_for(address="10.20.3.4"))
    assert "modelgate_activity_head_seq" in scrape(client_for(address="fd00::7"))
    assert errored(client_for(address="10.21.0.1").get("/metrics")).status_code == 401


def test_a_forwarded_for_header_does_not_make_an_outside_address_allowed(settings):
    # The allowlist is checked against the peer that connected, never a header it can forge.
    settings.MODELGATE_METRICS_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    client = client_for(address="203.0.113.9", HTTP_X_FORWARDED_FOR="10.20.3.4")
    assert errored(client.get("/metrics")).status_code == 401


def test_every_metric_name_starts_with_modelgate(settings, admin_user):
    settings.MODELGATE_METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    client = client_for()
    client.get("/health")
    families = scrape(client)
    assert families
    assert [name for name in families if not name.startswith("modelgate_")] == []


def test_requests_are_counted_by_url_pattern_and_status_with_a_latency_histogram(settings, owner):
    settings.MODELGATE_METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    route = "api/2.0/mlflow/registered-models/get"
    client = client_for(owner)
    before = value(scrape(client), "modelgate_http_requests_total", route=route, status="404") or 0
    before_hist = value(scrape(client), "modelgate_http_request_duration_seconds_count", route=route) or 0

    for name in ("missing-a", "missing-b", "missing-c"):
        assert client.get("/api/2.0/mlflow/registered-models/get", {"name": name}).status_code == 404
    client.get("/no/such/page/42")

    families = scrape(client)
    assert value(families, "modelgate_http_requests_total", method="GET", route=route, status="404") == before + 3
    assert value(families, "modelgate_http_request_duration_seconds_count", method="GET", route=route) == before_hist + 3
    assert value(families, "modelgate_http_request_duration_seconds_bucket", route=route, le="+Inf") >= 3
    # Raw paths never become labels (one series per URL pattern, not per URL).
    routes = {s.labels["route"] for s in families["modelgate_http_requests"].samples}
    assert "no/such/page/42" not in routes and "unmatched" in routes


def test_the_registrys_queues_and_the_activity_log_are_measured(
    settings, admin_user, owner, reviewer, ctx_for, grant
):
    settings.MODELGATE_METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.MODELGATE_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    model = registry_actions.model_create(ctx_for(owner), name="fraud")
    webhook_actions.webhook_create(
        ctx_for(admin_user), flavor="modelgate", events=["model_version.created"],
        url="http://127.0.0.1:9/hook", model_name="",
    )
    for _ in range(2):
        registry_actions.version_create(ctx_for(owner), name="fraud", source="s3://bucket/fraud")
    grant(model, reviewer, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    workflow_actions.transition_request_create(ctx_for(owner), name="fraud", version="1", stage="Staging")
    Delivery.objects.filter(status=Delivery.PENDING).update(created_at=timezone.now() - timedelta(seconds=120))
    Delivery.objects.create(webhook=Delivery.objects.first().webhook, event_id="evt_x", event="e",
                            payload=b"{}", status=Delivery.DEAD)
    checkpoint_create(Ctx.system())
    registry_actions.version_create(ctx_for(owner), name="fraud", source="s3://bucket/fraud")

    families = scrape(client_for())
    assert value(families, "modelgate_webhook_deliveries_pending") == 3
    assert value(families, "modelgate_webhook_deliveries_failed") == 1
    assert value(families, "modelgate_webhook_oldest_pending_delivery_age_seconds") >= 120
    assert value(families, "modelgate_transition_requests_pending") == 1
    assert value(families, "modelgate_activity_head_seq") == last_seq()
    assert value(families, "modelgate_activity_rows_since_last_checkpoint") == 1
    assert 0 <= value(families, "modelgate_activity_seconds_since_last_checkpoint") < 60
    assert "modelgate_worker_heartbeat_age_seconds" in families


def test_versions_whose_lineage_is_still_being_resolved_are_measured(settings, owner, ctx_for):
    settings.MODELGATE_METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.MODELGATE_TRACKING_URI = "http://127.0.0.1:9"
    registry_actions.model_create(ctx_for(owner), name="fraud")
    before = value(scrape(client_for()), "modelgate_lineage_pending")
    for run in ("0a1b", "0a1c", "0a1d"):  # from a run: resolved after commit, so pending now
        registry_actions.version_create(ctx_for(owner), name="fraud", source=f"runs:/{run}/model")
    registry_actions.version_create(ctx_for(owner), name="fraud", source="s3://bucket/fraud")  # nothing to resolve
    registry_actions.version_delete(ctx_for(owner), name="fraud", version="3")  # a deleted one is not pending
    registry_actions.version_lineage_record(Ctx.system(), version_id=ModelVersion.objects.get(version=2).pk,
                                            reason="gone from the tracking server")

    assert (before, value(scrape(client_for()), "modelgate_lineage_pending")) == (0, 1)


def test_before_any_checkpoint_the_time_since_one_is_absent_not_zero(settings):
    settings.MODELGATE_METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    families = scrape(client_for())
    assert families["modelgate_activity_seconds_since_last_checkpoint"].samples == []


def test_a_malformed_allowed_network_stops_start_up_naming_the_setting(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], check=False, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings",
             "MODELGATE_VAR_DIR": str(tmp_path), "MODELGATE_METRICS_ALLOWED_NETWORKS": "10.0.0.0/8,10.0.0.300/32"},
    )
    assert result.returncode != 0
    assert "MODELGATE_METRICS_ALLOWED_NETWORKS: '10.0.0.300/32' is not a network" in result.stderr
