"""Several nodes on one PostgreSQL and one Redis, as docs/deploy.md sets them up: two gunicorn
web servers (two worker processes each), two Celery workers and one beat, driven at once over
HTTP. Versions stay gapless, each model's webhook events reach the receiver in order, and no
event arrives twice except as the documented retry (same event id, after a failed attempt).
The metrics of a server add up all its worker processes (multiprocess mode)."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from accounts.actions import token_create
from audit.ctx import Ctx
from registry.models import ModelVersion
from tests.webhooks.conftest import (
    WORKER_REDIS_DB,
    Receiver,
    celery_broker,
    flush_redis,
    new_secret,
    wait_until,
    worker_database_url,
)
from webhooks import actions as webhook_actions
from webhooks.models import Delivery

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODELS = ("fraud", "churn", "ranker")
CALLERS, ROUNDS = 8, 5  # each caller: ROUNDS x (create a version, tag it)


class Node:
    """One process of the deployment, in its own process group, its output in a file."""

    def __init__(self, name, command, env, workdir, ready):
        self.name, self.ready = name, ready
        self.log_path = workdir / f"{name}.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def log(self):
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while not self.ready(self):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{self.name} did not start:\n{self.log()[-3000:]}")
            time.sleep(0.1)

    def stop(self):
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(timeout=wait)
                return
            except ProcessLookupError:
                return
            except subprocess.TimeoutExpired:
                continue


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serving(url):
    def check(node):
        try:
            return requests.get(f"{url}/health", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    return check


@pytest.fixture
def deployment(transactional_db, redis_url, tmp_path, settings):
    """Two web servers, two workers, one beat. Stopped before the test database is flushed."""
    parts = urlsplit(redis_url)
    broker = f"redis://{parts.hostname or '127.0.0.1'}:{parts.port or 6379}/{WORKER_REDIS_DB}"
    flush_redis(broker)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": worker_database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "REDIS_URL": broker,
        "SECRET_KEY": settings.SECRET_KEY,
        "MODELGATE_ENCRYPTION_KEY": settings.MODELGATE_ENCRYPTION_KEY,
        "MODELGATE_VAR_DIR": str(tmp_path / "var"),
        "MODELGATE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "MODELGATE_WEBHOOK_SWEEP_SECONDS": "1",
        "MODELGATE_WEBHOOK_RETRY_SCHEDULE": "0.3,0.6,1.2,2.4",
        "MODELGATE_WORKER_HEARTBEAT_SECONDS": "1",
        "MODELGATE_METRICS_ALLOWED_NETWORKS": "127.0.0.0/8",
        "MODELGATE_ACTIVITY_CHECKPOINT_SECONDS": "3600",
        "PYTHONUNBUFFERED": "1",
    }
    nodes, web_urls = [], []
    for n in (1, 2):
        port = _free_port()
        metrics_dir = tmp_path / f"metrics-{n}"
        metrics_dir.mkdir()
        web_urls.append(f"http://127.0.0.1:{port}")
        nodes.append(Node(
            f"web-{n}",
            [str(BIN / "gunicorn"), "-c", "python:ops.gunicorn", "config.wsgi:application",
             "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"],
            {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}, tmp_path, _serving(web_urls[-1]),
        ))
    for n in (1, 2):
        nodes.append(Node(
            f"worker-{n}",
            [str(BIN / "celery"), "-A", "config", "worker", "--concurrency", "2", "-l", "info",
             "-n", f"ops-multi-{os.getpid()}-{n}@%h", "--without-gossip", "--without-mingle"],
            env, tmp_path, lambda node: " ready." in node.log(),
        ))
    nodes.append(Node(
        "beat", [str(BIN / "celery"), "-A", "config", "beat", "-l", "info", "-s", str(tmp_path / "beat-schedule")],
        env, tmp_path, lambda node: "beat: Starting" in node.log(),
    ))
    with celery_broker(broker):
        try:
            for node in nodes:
                node.wait_ready()
            yield web_urls, nodes
        finally:
            for node in nodes:
                node.stop()


def _scrape(url):
    text = requests.get(f"{url}/metrics", timeout=5).text
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def test_two_web_servers_and_two_workers_keep_versions_gapless_and_each_models_events_in_order(
    deployment, owner, admin_user, settings
):
    web_urls, nodes = deployment
    settings.MODELGATE_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    secret = new_secret()
    receiver = Receiver(secret=secret)
    receiver.reply(503)  # the first event's first attempt fails: it must come again, same id
    try:
        webhook_actions.webhook_create(
            Ctx(user=admin_user, via="cli"), flavor="modelgate", events=["model_version.created", "model_version_tag.set"],
            url=receiver.url, model_name="", secret=secret,
        )
        _, raw = token_create(Ctx.cli(owner), user=owner, name="multi-node")
        headers = {"Authorization": f"Bearer {raw}"}
        for n, name in enumerate(MODELS):
            created = requests.post(f"{web_urls[n % 2]}/api/2.0/mlflow/registered-models/create",
                                    json={"name": name}, headers=headers, timeout=10)
            assert created.status_code == 200, created.text

        sent_to = Counter()
        lock = threading.Lock()

        def caller(number):
            session = requests.Session()
            session.headers.update(headers)
            numbers = []
            for round_ in range(ROUNDS):
                url = web_urls[(number + round_) % 2]
                name = MODELS[(number + round_) % len(MODELS)]
                response = session.post(f"{url}/api/2.0/mlflow/model-versions/create",
                                        json={"name": name, "source": f"s3://bucket/{name}"}, timeout=30)
                assert response.status_code == 200, response.text
                version = response.json()["model_version"]["version"]
                tagged = session.post(f"{web_urls[(number + round_ + 1) % 2]}/api/2.0/mlflow/model-versions/set-tag",
                                      json={"name": name, "version": version, "key": "by", "value": str(number)},
                                      timeout=30)
                assert tagged.status_code == 200, tagged.text
                with lock:
                    sent_to[url] += 1
                numbers.append((name, int(version)))
            return numbers

        started = time.monotonic()
        with ThreadPoolExecutor(CALLERS) as pool:
            made = [pair for numbers in pool.map(caller, range(CALLERS)) for pair in numbers]
        events = 2 * CALLERS * ROUNDS

        # Versions: each number once per model, 1..n, no gap, whichever server made it.
        for name in MODELS:
            got = sorted(number for model, number in made if model == name)
            assert got == list(range(1, len(got) + 1)), (name, got)
            stored = sorted(ModelVersion.objects.filter(model__name=name).values_list("version", flat=True))
            assert stored == got

        # Every event reaches the receiver, accepted exactly once.
        def accepted():
            return [r for r in receiver.received() if 200 <= r.answered < 300]

        wait_until(lambda: len(accepted()) >= events, timeout=40, what=f"{events} accepted deliveries")
        time.sleep(1.5)  # a duplicate would arrive now
        arrivals = receiver.received()
        by_event = defaultdict(list)
        for request in arrivals:
            by_event[request.event_id].append(request)
        assert len(by_event) == events
        assert set(by_event) == set(Delivery.objects.values_list("event_id", flat=True))
        for event_id, attempts in by_event.items():
            assert [a.answered for a in attempts if 200 <= a.answered < 300] == [200], event_id
            # A repeat is only the retry of an attempt that failed, with the same id and body.
            assert all(a.answered >= 500 for a in attempts[:-1]), event_id
            assert len({a.body for a in attempts}) == 1
        assert sum(len(a) > 1 for a in by_event.values()) == 1  # the one 503

        # Each model's events in the order the activity log recorded them.
        per_model = defaultdict(list)
        for request in accepted():
            data = request.json()["data"]
            per_model[data["model_name"]].append(data["activity_seq"])
        assert set(per_model) == set(MODELS)
        for name, seqs in per_model.items():
            assert seqs == sorted(seqs), (name, seqs)
        # Both workers took part.
        assert all("succeeded" in node.log() for node in nodes if node.name.startswith("worker"))

        # Each server's /metrics counts the requests of both its worker processes.
        for url in web_urls:
            samples = _scrape(url)
            creates = sum(s.value for s in samples if s.name == "modelgate_http_requests_total"
                          and s.labels["route"] == "api/2.0/mlflow/model-versions/create" and s.labels["status"] == "200")
            assert creates == sent_to[url]
            ready = requests.get(f"{url}/ready", timeout=5).json()
            assert ready["ready"] is True and ready["checks"]["worker"]["ok"] is True
        assert time.monotonic() - started < 45
    finally:
        receiver.close()
