"""Notification suite fixtures, all real: an SMTP server on 127.0.0.1 (aiosmtpd) that keeps every
message it accepts and can be taken down and brought back on the same port, and the Celery
worker of the webhook suite (tests/webhooks/conftest.py) pointed at it.

People get email addresses here directly, as the user fixtures of tests/conftest.py make
users directly: setting up the world, not the change under test."""

import email
import email.policy
import socket
import threading
import time

import pytest

from accounts.models import User
from registry import actions as registry_actions
from tests.webhooks.conftest import Worker, celery_broker, flush_redis, wait_until

PUBLIC_URL = "https://modelgate.example.test"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """aiosmtpd's Controller on a fixed port; `messages` are parsed email.message.EmailMessage
    objects, with the envelope's recipients in `rcpt`."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.messages = []
        self._lock = threading.Lock()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        message.rcpt = list(envelope.rcpt_tos)
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        """Down: the port is closed, so a send is refused."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address):
        with self._lock:
            return [m for m in self.messages if address in m.rcpt]

    def wait_for(self, address, count=1, timeout=30.0):
        return wait_until(lambda: (lambda got: got if len(got) >= count else None)(self.to(address)),
                          timeout=timeout, what=f"{count} message(s) to {address}")

    def clear(self):
        with self._lock:
            self.messages.clear()


def subject_of(message):
    # Python folds a non-ASCII subject onto a continuation line and its parser keeps the fold's
    # space; mail clients drop it, so do we.
    return str(message["Subject"]).strip()


def body_of(message):
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture(scope="module")
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mail_worker_process(django_db_setup, redis_url, smtp, tmp_path_factory):
    """One worker for the module, sending to `smtp`, with fast retries, sweeps and digests."""
    from urllib.parse import urlsplit

    from tests.webhooks.conftest import WORKER_REDIS_DB

    parts = urlsplit(redis_url)
    broker = f"redis://{parts.hostname or '127.0.0.1'}:{parts.port or 6379}/{WORKER_REDIS_DB}"
    flush_redis(broker)
    worker = Worker(broker, tmp_path_factory.mktemp("mail-worker"), {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "EMAIL_TIMEOUT": "5",
        "DEFAULT_FROM_EMAIL": "modelgate@example.test",
        "MODELGATE_PUBLIC_URL": PUBLIC_URL,
        "MODELGATE_NOTIFY_SWEEP_SECONDS": "0.5",
        "MODELGATE_NOTIFY_RETRY_SCHEDULE": ",".join(["0.3", "0.6"] + ["1"] * 20),
        "MODELGATE_NOTIFY_DIGEST_SECONDS": "3",
    })
    with celery_broker(broker):
        worker.start()
        try:
            yield worker
        finally:
            worker.stop()


@pytest.fixture
def mail_worker(mail_worker_process, transactional_db, smtp, settings):
    """The module's running worker for one transaction=True test; the SMTP server is up and
    empty. Afterwards nothing is left for the worker to send."""
    from notifications.models import Email

    settings.MODELGATE_PUBLIC_URL = PUBLIC_URL  # the notices are composed in this process
    if smtp.controller is None:
        smtp.start()
    smtp.clear()
    mail_worker_process.ensure_running()
    yield mail_worker_process
    Email.objects.exclude(status__in=Email.FINISHED).update(status=Email.DEAD)
    time.sleep(0.2)


@pytest.fixture
def with_email():
    """with_email(*users): give each user the address <username>@example.test."""

    def give(*users):
        for user in users:
            User.objects.filter(pk=user.pk).update(email=f"{user.username}@example.test")
            user.email = f"{user.username}@example.test"
        return users

    return give


@pytest.fixture
def fraud(ctx_for, owner, reviewer, grant):
    """`fraud` with versions 1 and 2 by `owner`; `reviewer` may decide Production requests."""

    def make(name="fraud", versions=2):
        ctx = ctx_for(owner, via="cli")
        model = registry_actions.model_create(ctx, name=name)
        for number in range(1, versions + 1):
            registry_actions.version_create(ctx, name=name, source=f"s3://bucket/{name}/{number}")
        grant(model, reviewer, level="CAN_MANAGE_PRODUCTION_VERSIONS")
        return model

    return make
