"""Webhook delivery benchmark: sustained throughput and approval-to-receiver latency, with a
real Celery worker, PostgreSQL and Redis, and a receiver on 127.0.0.1. Nothing leaves this
machine, and the whole run is bounded (--timeout).

    .venv/bin/python bench/webhooks.py            (or: make bench-webhooks)

1. Throughput: --deliveries version-tag events over --models models are written while the
   worker is stopped (each model's events are delivered in order, so many models let the
   worker send in parallel); then the worker starts and drains the backlog. Deliveries per
   second = events / (last arrival - first arrival). Every event must arrive: 0 lost.
2. Latency: --approvals Production approvals, one at a time; for each, the time from its
   commit to the receiver having the POST. The median must stay under 50 ms.

It uses a database of its own (BENCH_DATABASE_URL, made afresh and dropped afterwards) and a
Redis database of its own (BENCH_REDIS_URL, flushed). Exit status 1 if a target is missed.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parents[1]
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/modelgate_bench_webhooks")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
TARGET_PER_SECOND = 200
TARGET_MEDIAN_MS = 50


def only_loopback(url, what):
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"{what} must be on 127.0.0.1, not {host}: the benchmark talks to nothing else.")


class Receiver:
    """Answers 200 at once and notes when each event id arrived."""

    def __init__(self):
        self.arrivals = {}  # event id -> [time.time() of each arrival]
        self.cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                at = time.time()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with receiver.cond:
                    receiver.arrivals.setdefault(self.headers.get("webhook-id"), []).append(at)
                    receiver.cond.notify_all()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, event_ids, deadline):
        with self.cond:
            while not all(e in self.arrivals for e in event_ids):
                if time.monotonic() > deadline:
                    return False
                self.cond.wait(0.5)
        return True

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def environment():
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "MODELGATE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "MODELGATE_VAR_DIR": tempfile.mkdtemp(prefix="modelgate-bench-"),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
    })
    return env


def recreate_database():
    import psycopg

    parts = urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/")
    admin = DATABASE_URL.replace(parts.path, "/postgres", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin, name


def drop_database(admin, name):
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Worker:
    def __init__(self, env, concurrency, workdir):
        self.env, self.concurrency, self.workdir, self.proc = env, concurrency, workdir, None

    def start(self):
        log = open(Path(self.workdir) / "worker.log", "ab")
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("celery")), "-A", "config", "worker", "-B", "-l", self.env["LOG_LEVEL"].lower(),
             "--concurrency", str(self.concurrency), "-s", str(Path(self.workdir) / "beat-schedule"),
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()

    def stop(self):
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc = None


def run(args, receiver, worker):
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from audit.ctx import Ctx
    from registry import actions as registry
    from registry.models import RegisteredModel
    from webhooks import actions as webhooks
    from webhooks.models import Delivery
    from workflows import actions as workflows

    users = get_user_model()
    admin = users.objects.create_superuser("bench-admin", "bench@example.com", "bench-admin-pw")
    owner = users.objects.create_user("bench-owner", password="bench-owner-pw")
    reviewer = users.objects.create_user("bench-reviewer", password="bench-reviewer-pw")
    as_owner, as_reviewer = Ctx(user=owner, via="cli"), Ctx(user=reviewer, via="cli")

    names = [f"bench-{n}" for n in range(args.models)]
    for name in names:
        registry.model_create(as_owner, name=name)
        registry.version_create(as_owner, name=name, source=f"s3://bench/{name}/1")
    hook = webhooks.webhook_create(Ctx(user=admin, via="cli"), flavor="databricks", url=receiver.url,
                                   events=["MODEL_VERSION_TAG_SET"], secret="bench-secret")

    # 1. Throughput: a backlog written while the worker is stopped, then drained.
    started = time.monotonic()
    for number in range(args.deliveries):
        registry.version_tag_set(as_owner, name=names[number % args.models], version=1, key="n", value=str(number))
    written = time.monotonic() - started
    event_ids = list(Delivery.objects.filter(webhook=hook).values_list("event_id", flat=True))
    worker.start()
    if not receiver.wait_for(event_ids, args.deadline):
        print(f"Timed out: {len(receiver.arrivals)} of {len(event_ids)} events arrived", file=sys.stderr)
    firsts = [min(receiver.arrivals[e]) for e in event_ids if e in receiver.arrivals]
    lost = len(event_ids) - len(firsts)
    duplicates = sum(len(receiver.arrivals[e]) - 1 for e in event_ids if e in receiver.arrivals)
    span = (max(firsts) - min(firsts)) if len(firsts) > 1 else float("inf")
    per_second = len(firsts) / span if span else 0.0
    print(f"Throughput: {len(event_ids)} events written in {written:.1f} s ({len(event_ids) / written:.0f}/s); "
          f"delivered {len(firsts)} in {span:.2f} s = {per_second:.0f} deliveries/s with {args.concurrency} "
          f"worker processes; lost {lost}, duplicates {duplicates}")
    webhooks.webhook_update(Ctx(user=admin, via="cli"), webhook_id=hook.pk, status="DISABLED")

    # 2. Latency: approvals one at a time, commit -> receiver.
    registry.model_create(as_owner, name="bench-latency")
    for number in range(1, args.approvals + 1):
        registry.version_create(as_owner, name="bench-latency", source=f"s3://bench/latency/{number}")
    model = RegisteredModel.objects.get(name="bench-latency")
    registry.model_permissions_change(
        as_owner, uid=model.uid, replace=False,
        access_control_list=[{"user_name": reviewer.username, "permission_level": "CAN_MANAGE_PRODUCTION_VERSIONS"}],
    )
    latency_hook = webhooks.webhook_create(
        Ctx(user=admin, via="cli"), flavor="databricks", url=receiver.url, model_name="bench-latency",
        events=["MODEL_VERSION_TRANSITIONED_TO_PRODUCTION"], secret="bench-secret",
    )
    latencies = []
    for number in range(1, args.approvals + 1):
        workflows.transition_request_create(as_owner, name="bench-latency", version=number, stage="Production")
        committed = []
        with transaction.atomic():
            transaction.on_commit(lambda: committed.append(time.time()))  # runs before the hand-off
            workflows.transition_approve(as_reviewer, name="bench-latency", version=number, stage="Production")
        event_id = Delivery.objects.filter(webhook=latency_hook).order_by("-activity_seq").values_list(
            "event_id", flat=True).first()
        if not receiver.wait_for([event_id], min(args.deadline, time.monotonic() + 10)):
            print(f"Approval {number}: not delivered within 10 s", file=sys.stderr)
            lost += 1
            continue
        latencies.append((receiver.arrivals[event_id][0] - committed[0]) * 1000)
    latencies.sort()
    median = statistics.median(latencies) if latencies else float("inf")
    p95 = latencies[max(0, int(0.95 * len(latencies)) - 1)] if latencies else float("inf")
    print(f"Latency, approval commit -> receiver, over {len(latencies)} approvals: median {median:.1f} ms, "
          f"p95 {p95:.1f} ms, worst {latencies[-1] if latencies else float('inf'):.1f} ms")

    ok = per_second >= TARGET_PER_SECOND and lost == 0 and median < TARGET_MEDIAN_MS
    print(f"Targets (>= {TARGET_PER_SECOND}/s, 0 lost, median < {TARGET_MEDIAN_MS} ms): {'met' if ok else 'MISSED'}")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--models", type=int, default=40)
    parser.add_argument("--approvals", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4, help="worker processes")
    parser.add_argument("--timeout", type=float, default=300, help="seconds for the whole run")
    args = parser.parse_args()
    args.deadline = time.monotonic() + args.timeout
    only_loopback(DATABASE_URL, "BENCH_DATABASE_URL")
    only_loopback(REDIS_URL, "BENCH_REDIS_URL")

    env = environment()
    os.environ.update(env)
    sys.path.insert(0, str(BASE_DIR))
    import django
    import redis

    admin_db, name = recreate_database()
    redis.Redis.from_url(REDIS_URL).flushdb()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    receiver = Receiver()
    worker = Worker(env, args.concurrency, env["MODELGATE_VAR_DIR"])
    print(f"Worker log: {env['MODELGATE_VAR_DIR']}/worker.log")
    # The whole run is bounded: an alarm ends it, cleaning up, if it overruns.
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError(f"over {args.timeout:.0f} s")))
    signal.alarm(int(args.timeout) + 30)
    try:
        ok = run(args, receiver, worker)
    finally:
        signal.alarm(0)
        worker.stop()
        receiver.close()
        from django.db import connections

        connections.close_all()
        drop_database(admin_db, name)
        redis.Redis.from_url(REDIS_URL).flushdb()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
