"""A lineage resolution whose hand-off to Celery was lost (the broker was down when the version
was registered) is handed off again by the beat sweep, once, and resolved by a real worker; the
sweep leaves alone what is on its way (a fresh hand-off, a retry) and takes a bounded number at
a time. The tracking server is the edge Modelgate does not own: a local one answering runs/get."""

import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from audit import events
from audit.models import Activity
from registry import actions, lineage
from registry.models import ModelVersion
from tests.webhooks.conftest import (  # noqa: F401 (fixtures)
    celery_broker, wait_until, worker, worker_broker_url, worker_process,
)


class Tracking:
    """runs/get for any run: experiment 7. Counts the lookups."""

    def __init__(self):
        self.lookups = []
        tracking = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                run_id = parse_qs(parts.query).get("run_id", [""])[0]
                tracking.lookups.append(run_id)
                body = json.dumps({"run": {"info": {"run_id": run_id, "experiment_id": "7"}, "data": {}}}).encode()
                self.send_response(200 if parts.path == "/api/2.0/mlflow/runs/get" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


@pytest.fixture(scope="module")
def tracking():
    server = Tracking()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture(scope="module")
def worker_env(tracking):
    return {
        "MODELGATE_TRACKING_URI": tracking.url,
        "MODELGATE_LINEAGE_SWEEP_SECONDS": "0.5",
        "MODELGATE_LINEAGE_HANDOFF_GRACE_SECONDS": "1",
    }


@pytest.fixture
def dead_broker():
    """A broker URL nobody listens on: every hand-off is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


@pytest.fixture
def fraud(settings, tracking, ctx_for, owner):
    settings.MODELGATE_TRACKING_URI = tracking.url
    actions.model_create(ctx_for(owner), name="fraud")
    return lambda run: actions.version_create(ctx_for(owner), name="fraud", source=f"runs:/{run}/model")


def resolved_events(version):
    return Activity.objects.filter(event=events.VERSION_LINEAGE_RESOLVED, model_uid=version.model.uid,
                                   version=int(version.version)).count()


@pytest.mark.django_db(transaction=True)
def test_a_version_registered_while_the_broker_was_down_is_resolved_by_the_sweep_once(
    worker, tracking, fraud, dead_broker, caplog
):
    with celery_broker(dead_broker):
        version = fraud("0a1b2c")
    # Its hand-off was lost: only the sweep can hand it to the worker.
    assert f"Could not enqueue lineage of version {version.pk}; the sweep will" in caplog.text

    done = wait_until(lambda: ModelVersion.objects.filter(pk=version.pk, lineage_status="resolved").first(),
                      timeout=30, interval=0.1, what="the sweep to hand the lost resolution off again")
    assert (done.run_id, done.experiment_id) == ("0a1b2c", "7")
    assert tracking.lookups.count("0a1b2c") == 1

    # A hand-off that arrives once it is resolved (a sweep racing a slow broker) does nothing.
    assert lineage.send(version.pk)
    time.sleep(1.5)  # the worker takes it, and the sweep runs three times meanwhile
    assert tracking.lookups.count("0a1b2c") == 1
    assert resolved_events(done) == 1


@pytest.mark.django_db
def test_the_sweep_takes_only_lost_hand_offs_older_than_the_grace_period_a_bounded_number_at_a_time(
    settings, fraud
):
    # Without a commit nothing is handed off: all four are "lost" until the sweep finds them.
    versions = [fraud(run) for run in ("0a01", "0a02", "0a03", "0a04", "0a05")]
    old = timezone.now() - timedelta(seconds=settings.MODELGATE_LINEAGE_HANDOFF_GRACE_SECONDS + 5)
    for age, version in enumerate(versions[:4]):
        ModelVersion.objects.filter(pk=version.pk).update(created_at=old - timedelta(seconds=10 - age))
    lineage.expect_attempt(versions[3].pk, 300)  # its retry is on its way
    # versions[4] is fresh: its own hand-off may still arrive.

    assert lineage.sweep_due(limit=2) == [versions[0].pk, versions[1].pk]
    assert lineage.sweep_due(limit=2) == [versions[2].pk]  # the first two are on their way now
    assert lineage.sweep_due(limit=2) == []
