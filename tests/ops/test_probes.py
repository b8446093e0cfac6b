"""GET /health (liveness) and GET /ready (readiness) as a load balancer or Kubernetes calls
them: no credentials, JSON, 503 when this node should get no traffic."""

import json
import socket
import time

import pytest
from django.test import Client

from audit.models import Activity
from ops.tasks import worker_heartbeat
from tests.webhooks.conftest import celery_broker


def get(path):
    response = Client().get(path)
    response.json_body = json.loads(response.content)
    return response


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def no_heartbeat():
    from django.core.cache import cache

    from ops import heartbeat

    cache.delete(heartbeat.CACHE_KEY)
    yield
    cache.delete(heartbeat.CACHE_KEY)


def test_health_answers_200_without_credentials_or_a_database():
    # No db fixture: pytest-django refuses every query here, so a 200 proves none was made.
    response = get("/health")
    assert response.status_code == 200
    assert response.json_body == {"status": "ok"}


@pytest.mark.django_db
def test_ready_reports_each_check_and_answers_200_when_the_node_can_serve(redis_url, no_heartbeat):
    worker_heartbeat()
    response = get("/ready")
    assert response.status_code == 200, response.json_body
    body = response.json_body
    assert body["ready"] is True
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["migrations"] == {"ok": True, "unapplied": 0}
    assert body["checks"]["broker"] == {"ok": True}
    worker = body["checks"]["worker"]
    assert worker["ok"] is True and worker["required"] is False
    assert 0 <= worker["heartbeat_age_seconds"] < 5


@pytest.mark.django_db
def test_ready_without_a_worker_heartbeat_says_so_and_still_serves_unless_told_to_require_one(
    redis_url, no_heartbeat, settings
):
    response = get("/ready")
    assert response.status_code == 200
    assert response.json_body["checks"]["worker"] == {"ok": False, "heartbeat_age_seconds": None, "required": False}

    settings.MODELGATE_READY_REQUIRES_WORKER = True
    response = get("/ready")
    assert response.status_code == 503
    assert response.json_body["ready"] is False
    assert response.json_body["checks"]["worker"]["required"] is True


@pytest.mark.django_db
def test_probes_write_nothing_to_the_activity_log(redis_url):
    before = Activity.objects.count()
    get("/ready")
    get("/health")
    assert Activity.objects.count() == before


@pytest.mark.django_db
def test_ready_answers_503_at_once_when_the_broker_refuses_connections():
    with celery_broker(f"redis://127.0.0.1:{closed_port()}/0"):
        started = time.monotonic()
        response = get("/ready")
        took = time.monotonic() - started
    assert took < 3
    assert response.status_code == 503
    assert response.json_body["ready"] is False
    assert response.json_body["checks"]["broker"] == {"ok": False, "error": "OperationalError"}
    assert response.json_body["checks"]["database"] == {"ok": True}


@pytest.mark.django_db
def test_ready_gives_up_on_a_broker_that_never_answers_within_about_a_second():
    with socket.socket() as silent:  # accepts TCP connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        with celery_broker(f"redis://127.0.0.1:{silent.getsockname()[1]}/0"):
            started = time.monotonic()
            response = get("/ready")
            took = time.monotonic() - started
    assert took < 3, took
    assert response.status_code == 503
    assert response.json_body["checks"]["broker"]["ok"] is False


@pytest.mark.django_db
def test_ready_answers_503_while_a_migration_is_unapplied(redis_url):
    # As after deploying new code before `migrate`: the database lacks the newest migration.
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    # The newest one: an older one unapplied under an applied newer one is not in the plan.
    newest = next(node for node in MigrationLoader(connection).graph.leaf_nodes() if node[0] == "audit")
    MigrationRecorder(connection).record_unapplied(*newest)
    response = get("/ready")
    assert response.status_code == 503
    assert response.json_body["ready"] is False
    assert response.json_body["checks"]["migrations"] == {"ok": False, "unapplied": 1}
