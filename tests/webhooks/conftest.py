"""Webhook suite fixtures, all real processes and sockets:

- `Receiver`: a threaded HTTP server on 127.0.0.1 that records every request (headers, raw
  body, arrival time), answers what the test scripts (status codes, Retry-After, hanging, or
  down: its port closed), and verifies the signatures a receiver would: Standard Webhooks
  (`webhook-signature`), `X-Databricks-Signature`, `X-MLflow-Signature`, with the shared secret.
  A request whose signature does not verify is answered 401, as a careful receiver would.
- `FakeJenkins`: the edge we do not own. The crumb issuer (with its session cookie),
  `buildWithParameters` under Basic auth, the queue item and the build's JSON.
- `Worker`: `celery -A config worker -B` as a subprocess in its own process group, on its own
  Redis database and on the same PostgreSQL test database as the tests (rows written by
  `transaction=True` tests are committed and visible to it). The test process's Celery app is
  pointed at the same broker, so the on-commit kicks reach that worker.
"""

import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")
# The worker's broker: its own Redis database, flushed before each worker module starts.
WORKER_REDIS_DB = int(os.environ.get("MODELGATE_TEST_WORKER_REDIS_DB", "14"))
SOURCE = "s3://bucket/models"


# Waiting ---------------------------------------------------------------------------------------


def wait_until(predicate, timeout=20.0, interval=0.05, what="the condition"):
    """Poll until predicate() is truthy and return its value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def new_secret():
    """A Standard Webhooks secret: whsec_ + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


# Signatures, verified as a receiver does (reference: webhooks-jenkins-audit.md 3, databricks 3.7,
# mlflow 3.3) ------------------------------------------------------------------------------------

TIMESTAMP_TOLERANCE = 300


def _b64_hmac(key, message):
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def standard_webhooks_key(secret):
    if secret.startswith("whsec_"):
        return base64.b64decode(secret[len("whsec_"):])
    return secret.encode()


def _fresh(timestamp):
    return timestamp.isdigit() and abs(time.time() - int(timestamp)) <= TIMESTAMP_TOLERANCE


def verify_signatures(headers, body, secret):
    """{scheme: verified?} for every signature scheme the request carries. `headers` has
    lower-case names; `body` is the exact bytes received."""
    results = {}
    if "webhook-signature" in headers:
        msg_id, timestamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
        try:
            key = standard_webhooks_key(secret)
        except ValueError:  # not valid base64 after whsec_: nothing can verify against it
            key = None
        expected = _b64_hmac(key, f"{msg_id}.{timestamp}.".encode() + body) if key is not None else ""
        offered = [s.split(",", 1)[1] for s in headers["webhook-signature"].split() if s.startswith("v1,")]
        results["standard"] = (
            bool(expected) and bool(msg_id) and "." not in msg_id and _fresh(timestamp)
            and any(hmac.compare_digest(expected, s) for s in offered)
        )
    if "x-databricks-signature" in headers:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        results["databricks"] = hmac.compare_digest(expected, headers["x-databricks-signature"])
    if "x-mlflow-signature" in headers:
        delivery_id = headers.get("x-mlflow-delivery-id", "")
        timestamp = headers.get("x-mlflow-timestamp", "")
        expected = "v1," + _b64_hmac(secret.encode(), f"{delivery_id}.{timestamp}.".encode() + body)
        results["mlflow"] = _fresh(timestamp) and hmac.compare_digest(expected, headers["x-mlflow-signature"])
    return results


# The receiver ----------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict = field(default_factory=dict)
    hang: bool = False  # hold the answer until the receiver is released (or closed)
    delay: float = 0.0  # seconds to wait before answering


@dataclass
class Received:
    method: str
    path: str
    headers: dict  # lower-case names
    body: bytes
    at: float  # time.time() on arrival
    mono: float  # time.monotonic() on arrival
    verified: dict
    answered: int

    def json(self):
        return json.loads(self.body)

    @property
    def event_id(self):
        return self.headers.get("webhook-id")


class Receiver:
    """A webhook receiver on 127.0.0.1. `reply(...)` queues answers (an int is a status),
    used in arrival order; then `default` answers. `down()` closes the port, `up()` reopens it."""

    def __init__(self, secret="", host="127.0.0.1"):
        self.secret = secret
        self.host = host
        self.port = 0
        self.requests = []
        self.replies = []
        self.default = Reply()
        self.released = threading.Event()
        self._cond = threading.Condition()
        self._server = None
        self.up()

    def url_for(self, path="/hook"):
        return f"http://{self.host}:{self.port}{path}"

    @property
    def url(self):
        return self.url_for()

    def up(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver._handle(self)

            do_GET = do_PUT = do_PATCH = do_DELETE = do_POST

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer((self.host, self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self._server = server

    def down(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def close(self):
        self.released.set()
        self.down()

    def reply(self, *replies):
        with self._cond:
            self.replies.extend(Reply(r) if isinstance(r, int) else r for r in replies)

    def _handle(self, handler):
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        verified = verify_signatures(headers, body, self.secret) if self.secret else {}
        with self._cond:
            if self.secret and not (verified.get("standard") and all(verified.values())):
                reply = Reply(401, b"signature verification failed")
            else:
                reply = self.replies.pop(0) if self.replies else self.default
            self.requests.append(Received(
                method=handler.command, path=urlsplit(handler.path).path, headers=headers, body=body,
                at=time.time(), mono=time.monotonic(), verified=verified, answered=reply.status,
            ))
            self._cond.notify_all()
        if reply.hang:
            self.released.wait(30)
        time.sleep(reply.delay)
        try:
            handler.send_response(reply.status)
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(reply.body)))
            handler.end_headers()
            handler.wfile.write(reply.body)
        except OSError:
            pass  # the sender went away (a killed worker)

    def received(self, path=None):
        with self._cond:
            return [r for r in self.requests if path is None or r.path == path]

    def wait_for(self, count, timeout=20.0, path=None):
        """The first `count` requests (to `path`), waiting for them to arrive."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [r for r in self.requests if path is None or r.path == path]
                if len(got) >= count:
                    return got
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"The receiver got {len(got)} of {count} requests in {timeout}s")
                self._cond.wait(remaining)


@pytest.fixture
def make_receiver():
    made = []

    def make(secret=""):
        receiver = Receiver(secret=secret)
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def secret():
    return new_secret()


@pytest.fixture
def receiver(make_receiver, secret):
    """A receiver holding `secret`: unsigned or wrongly signed requests get 401."""
    return make_receiver(secret)


# A fake Jenkins --------------------------------------------------------------------------------


class FakeJenkins:
    """Enough of Jenkins' remote API (webhooks-jenkins-audit.md 2b): Basic auth with an API
    token (no crumb) or a password (then the crumb from /crumbIssuer/api/json, bound to its
    session cookie, is required on POST); buildWithParameters answers 201 + Location of a queue
    item; the item is first blocked, then left with its executable; the build is building until
    `finish` is set and at least one poll has seen it building, then it has `result`."""

    CRUMB_FIELD = "Jenkins-Crumb"

    def __init__(self, user="modelgate", api_token="", password="", result="SUCCESS", queue_base=None,
                 build_base=None):
        self.user, self.api_token, self.password, self.result = user, api_token, password, result
        self.finish = threading.Event()
        self.finish.set()
        self.triggers = []  # one dict per accepted buildWithParameters
        self.refused = []  # (path, status, why)
        self.crumbs_issued = 0
        self._crumbs = {}  # session id -> crumb
        self._queue = {}  # item id -> {"job", "polls", "build"}
        self._builds = {}  # (job, number) -> {"polls"}
        self._next_item, self._next_build = 100, 41
        self._lock = threading.Lock()
        jenkins = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                jenkins._handle(self)

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # Where it says its queue items and builds are (a Jenkins whose root URL is set to
        # another host names that one): itself unless told otherwise.
        self.queue_base, self.build_base = queue_base or self.base_url, build_base or self.base_url
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.finish.set()
        self._server.shutdown()
        self._server.server_close()

    @staticmethod
    def job_path(job):
        return "".join(f"/job/{quote(s, safe='')}" for s in job.split("/"))

    def _auth(self, handler):
        header = handler.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        user, _, credential = base64.b64decode(header[6:]).decode().partition(":")
        if user != self.user:
            return None
        if self.api_token and hmac.compare_digest(credential, self.api_token):
            return "token"
        if self.password and hmac.compare_digest(credential, self.password):
            return "password"
        return None

    def _send(self, handler, status, body=None, headers=None):
        raw = json.dumps(body).encode() if body is not None else b""
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        if body is not None:
            handler.send_header("Content-Type", "application/json;charset=utf-8")
        handler.send_header("Content-Length", str(len(raw)))
        handler.end_headers()
        handler.wfile.write(raw)

    def _refuse(self, handler, path, status, why):
        self.refused.append((path, status, why))
        self._send(handler, status, {"message": why})

    def _handle(self, handler):
        path = urlsplit(handler.path).path
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        auth = self._auth(handler)
        if auth is None:
            return self._refuse(handler, path, 401, "Invalid password/token for user")
        with self._lock:
            if handler.command == "GET" and path == "/crumbIssuer/api/json":
                session, crumb = uuid.uuid4().hex, uuid.uuid4().hex
                self._crumbs[session] = crumb
                self.crumbs_issued += 1
                return self._send(
                    handler, 200,
                    {"_class": "hudson.security.csrf.DefaultCrumbIssuer", "crumb": crumb,
                     "crumbRequestField": self.CRUMB_FIELD},
                    {"Set-Cookie": f"JSESSIONID.fake={session}; Path=/; HttpOnly"},
                )
            trigger = re.fullmatch(r"((?:/job/[^/]+)+)/buildWithParameters", path)
            if handler.command == "POST" and trigger:
                job = "/".join(trigger.group(1).split("/")[2::2])
                if auth == "password":
                    cookies = dict(
                        c.strip().split("=", 1) for c in handler.headers.get("Cookie", "").split(";") if "=" in c
                    )
                    expected = self._crumbs.get(cookies.get("JSESSIONID.fake", ""))
                    if expected is None or handler.headers.get(self.CRUMB_FIELD) != expected:
                        return self._refuse(handler, path, 403, "No valid crumb was included in the request")
                item = self._next_item
                self._next_item += 1
                self._queue[item] = {"job": job, "polls": 0, "build": None}
                self.triggers.append({
                    "job": job, "auth": auth, "item": item,
                    "params": {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()},
                    "headers": {k.lower(): v for k, v in handler.headers.items()},
                })
                return self._send(handler, 201, headers={"Location": f"{self.queue_base}/queue/item/{item}/"})
            queued = re.fullmatch(r"/queue/item/(\d+)/api/json", path)
            if handler.command == "GET" and queued and int(queued.group(1)) in self._queue:
                item = self._queue[int(queued.group(1))]
                item["polls"] += 1
                if item["polls"] == 1:
                    return self._send(handler, 200, {
                        "id": int(queued.group(1)), "blocked": True, "buildable": False,
                        "why": "Waiting for next available executor", "inQueueSince": int(time.time() * 1000),
                    })
                if item["build"] is None:
                    item["build"] = self._next_build
                    self._next_build += 1
                    self._builds[(item["job"], item["build"])] = {"polls": 0}
                url = f"{self.build_base}{self.job_path(item['job'])}/{item['build']}/"
                return self._send(handler, 200, {
                    "id": int(queued.group(1)), "blocked": False,
                    "executable": {"number": item["build"], "url": url},
                })
            build = re.fullmatch(r"((?:/job/[^/]+)+)/(\d+)/api/json", path)
            if handler.command == "GET" and build:
                job = "/".join(build.group(1).split("/")[2::2])
                state = self._builds.get((job, int(build.group(2))))
                if state is not None:
                    state["polls"] += 1
                    done = state["polls"] > 1 and self.finish.is_set()
                    return self._send(handler, 200, {
                        "number": int(build.group(2)), "building": not done,
                        "result": self.result if done else None,
                        "url": f"{self.base_url}{build.group(1)}/{build.group(2)}/",
                    })
        return self._refuse(handler, path, 404, "Not Found")


@pytest.fixture
def make_jenkins():
    made = []

    def make(**kwargs):
        jenkins = FakeJenkins(**kwargs)
        made.append(jenkins)
        return jenkins

    yield make
    for jenkins in made:
        jenkins.close()


# Celery: the broker and a real worker ----------------------------------------------------------


def use_broker(url):
    """Point this process's Celery app (the on-commit kicks) at `url`. Its connection and
    producer pools are looked up again by URL (kombu keeps one pool per broker URL for the
    process; they are left open, as switching back reuses them)."""
    from config.celery import app

    app.conf.broker_url = url
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@contextlib.contextmanager
def celery_broker(url):
    from config.celery import app

    previous = app.conf.broker_url
    use_broker(url)
    try:
        yield
    finally:
        use_broker(previous)


def flush_redis(url):
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.flushdb()
    finally:
        client.close()


def worker_database_url():
    """The PostgreSQL test database pytest-django created, as a DATABASE_URL."""
    from django.db import connection

    db = connection.settings_dict
    credentials = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return (
        f"postgres://{credentials}{'@' if credentials else ''}{db.get('HOST') or '127.0.0.1'}:"
        f"{db.get('PORT') or 5432}/{db['NAME']}"
    )


class Worker:
    """`celery -A config worker -B` (beat embedded: the sweeper) in its own process group."""

    def __init__(self, broker_url, workdir, overrides=None):
        from django.conf import settings

        self.broker_url = broker_url
        self.workdir = Path(workdir)
        self.runs = 0
        self.proc = None
        self.log_path = None
        env = dict(os.environ)
        env.update({
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": worker_database_url(),
            "DATABASE_CONN_MAX_AGE": "0",
            "REDIS_URL": broker_url,
            # Webhook secrets are encrypted with a key derived from SECRET_KEY: the same one.
            "SECRET_KEY": settings.SECRET_KEY,
            "MODELGATE_ENCRYPTION_KEY": settings.MODELGATE_ENCRYPTION_KEY,
            "MODELGATE_VAR_DIR": str(self.workdir / "var"),
            "MODELGATE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
            "MODELGATE_WEBHOOK_SWEEP_SECONDS": "1",
            "MODELGATE_WEBHOOK_RETRY_SCHEDULE": "0.3,0.6,1.2,2.4,4.8,9.6,19.2,38.4,76.8",
            "MODELGATE_JENKINS_POLL_SECONDS": "0.3",
            # Requests made here email their deciders (admin has an address): no SMTP server
            # here, so the worker drops them (tests/notifications points it at a real one).
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(overrides or {})
        self.env = env

    def start(self, timeout=60):
        self.runs += 1
        self.log_path = self.workdir / f"worker-{self.runs}.log"
        command = [
            str(CELERY), "-A", "config", "worker", "-B", "--concurrency", "2", "-l", "info",
            "-s", str(self.workdir / f"beat-schedule-{self.runs}"),
            "-n", f"webhooks-tests-{os.getpid()}-{self.runs}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                command, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            text = self.log()
            if " ready." in text and "beat: Starting" in text:
                return
            if self.proc.poll() is not None:
                pytest.fail(f"The Celery worker exited with {self.proc.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"The Celery worker was not ready in {timeout}s:\n{self.log_tail()}")
            time.sleep(0.1)

    def ensure_running(self):
        """Start it again if it is not running, as a process supervisor would: Celery's worker
        exits ("Unrecoverable error") when its Redis goes away while it holds unacknowledged
        messages."""
        if self.proc is not None and self.proc.poll() is not None:
            self._signal_group(signal.SIGKILL)  # whatever of its group is left (beat, pool)
            self.proc = None
        if self.proc is None:
            self.start()

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def log_tail(self, lines=60):
        return "\n".join(self.log().splitlines()[-lines:])

    def _signal_group(self, sig):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def kill(self):
        """SIGKILL the whole group (worker, pool children, beat): no shutdown, no acks."""
        if self.proc is None:
            return
        self._signal_group(signal.SIGKILL)
        self.proc.wait(timeout=15)
        self.proc = None

    def stop(self):
        if self.proc is None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        # Pool children and the beat process live in the group too: make sure none survives.
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self.proc = None


@pytest.fixture(scope="module")
def worker_env():
    """Extra environment for this module's worker (modules override this fixture)."""
    return {}


@pytest.fixture(scope="module")
def worker_broker_url(redis_url):
    """The worker's broker: the machine's Redis, on a database of its own."""
    parts = urlsplit(redis_url)
    return f"redis://{parts.hostname or '127.0.0.1'}:{parts.port or 6379}/{WORKER_REDIS_DB}"


@pytest.fixture(scope="module")
def worker_process(django_db_setup, worker_broker_url, worker_env, tmp_path_factory):
    """One worker for the module, started after the test database exists, killed (with its
    whole process group) at the end."""
    flush_redis(worker_broker_url)
    worker = Worker(worker_broker_url, tmp_path_factory.mktemp("celery-worker"), worker_env)
    with celery_broker(worker_broker_url):
        worker.start()
        try:
            yield worker
        finally:
            worker.stop()


@pytest.fixture
def worker(worker_process, transactional_db, request):
    """The module's running worker, for one transaction=True test. Afterwards nothing is left
    for it to do, so it does not write while the test database is flushed."""
    worker_process.ensure_running()
    yield worker_process
    from webhooks.models import Delivery, Webhook

    Webhook.objects.update(status=Webhook.DISABLED)
    Delivery.objects.exclude(status__in=Delivery.FINISHED).update(status=Delivery.DEAD)
    time.sleep(0.2)
    if getattr(request.node, "rep_call_failed", False):
        print(f"--- worker log ({worker_process.log_path}) ---\n{worker_process.log_tail()}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call_failed = report.failed
    return report


# Settings --------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    """The receivers, Jenkins and the live server are on 127.0.0.1: allow it in this process as
    the worker's environment does (SSRF tests take it away again)."""
    settings.MODELGATE_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    return settings


# Registry state through the real actions -------------------------------------------------------


@pytest.fixture
def make_model(ctx_for, owner, reviewer, grant):
    """make_model(name, versions=1) -> a model made by `owner` with that many versions in
    None; `reviewer` may approve Production moves on it."""
    from registry import actions

    def make(name, versions=1):
        ctx = ctx_for(owner, via="cli")
        model = actions.model_create(ctx, name=name)
        for number in range(1, versions + 1):
            actions.version_create(ctx, name=name, source=f"{SOURCE}/{name}/{number}")
        grant(model, reviewer, level="CAN_MANAGE_PRODUCTION_VERSIONS")
        model.refresh_from_db()
        return model

    return make


@pytest.fixture
def promote(ctx_for, owner, reviewer):
    """promote(name, version, stage="Production") -> the approval Outcome: `owner` requests,
    `reviewer` approves (separation of duties holds for Production)."""
    from workflows import actions

    def run(name, version, stage="Production", comment="ship it"):
        actions.transition_request_create(ctx_for(owner), name=name, version=version, stage=stage)
        return actions.transition_approve(ctx_for(reviewer), name=name, version=version, stage=stage, comment=comment)

    return run


@pytest.fixture
def webhook_for(ctx_for, admin_user):
    """webhook_for(url, events, model=None, flavor="databricks", **kw) through the action, by a
    registry admin: the receivers are on loopback, an internal network only a registry admin
    may point a webhook at (and the allowlist lets in here)."""
    from webhooks import actions

    def make(url, events, model=None, flavor="databricks", **kwargs):
        return actions.webhook_create(
            ctx_for(admin_user), flavor=flavor, events=list(events), url=url, model_name=model or "", **kwargs
        )

    return make


@pytest.fixture
def fraud_hook(make_model, webhook_for, receiver, secret):
    """`fraud` v1 and a webhook on its version tags to `receiver`."""
    make_model("fraud")
    return webhook_for(receiver.url, ["MODEL_VERSION_TAG_SET"], model="fraud", secret=secret)


@pytest.fixture
def tag(ctx_for, owner):
    """tag(key) sets a version tag on fraud v1: one event."""
    from registry import actions

    return lambda key, value="1": actions.version_tag_set(ctx_for(owner), name="fraud", version=1, key=key, value=value)


def settled(webhook, count=1, statuses=None, timeout=20.0):
    """The webhook's first `count` finished deliveries (or in `statuses`), oldest first."""
    from webhooks.models import Delivery

    statuses = statuses or Delivery.FINISHED
    return wait_until(
        lambda: (lambda rows: rows if len(rows) >= count else None)(
            list(Delivery.objects.filter(webhook=webhook, status__in=statuses).order_by("activity_seq"))
        ),
        timeout=timeout, what=f"{count} finished deliveries of {webhook}",
    )


def attempt_log(delivery):
    from webhooks.models import Attempt

    return list(Attempt.objects.filter(delivery=delivery).order_by("number"))


# Real clients against the live server ----------------------------------------------------------
