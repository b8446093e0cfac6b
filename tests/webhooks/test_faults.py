"""Faults: the receiver down, the broker down, the worker killed mid-send, receivers that say
410, keep failing, ask to retry later or refuse for good. The outbox must lose nothing that
should arrive, keep each model's events in order, and give up where it should
(webhooks-jenkins-audit.md 3.2).

This module runs its own redis-server (so stopping it harms nobody else), and one worker on it
with fast retries, a 3 s lease and disabling after 3 consecutive failures."""

import gc
import shutil
import socket
import subprocess
import time

import pytest
import redis

from audit.models import Activity
from webhooks.models import Attempt, Delivery, Webhook

from .conftest import Reply, attempt_log, settled, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 3
FAST_RETRIES = "0.3,0.6,1.2,2.4,4.8,9.6,19.2"  # 8 attempts
DISABLE_AFTER = 3
SWEEP_AND_MARGIN = 1.5

# Events that had to reach their receiver in these tests, and how many never did.
LEDGER = {"expected": 0, "lost": 0}


class RedisServer:
    """A private redis-server on a free port, no persistence: stopping it loses what it held,
    as a crashed broker does."""

    def __init__(self, workdir):
        self.workdir = workdir
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout=20):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: the fault tests run their own Redis.")
        log = open(self.workdir / "redis.log", "ab")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(self.workdir)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        try:
            wait_until(lambda: self._ping(client), timeout=timeout, what="the private redis-server")
        finally:
            client.close()

    @staticmethod
    def _ping(client):
        try:
            return client.ping()
        except redis.RedisError:
            return False

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
            self.proc = None

    @property
    def running(self):
        return self.proc is not None


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def worker_broker_url(private_redis):
    return private_redis.url


@pytest.fixture(scope="module")
def worker_env():
    return {
        "MODELGATE_WEBHOOK_RETRY_SCHEDULE": FAST_RETRIES,
        "MODELGATE_WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS),
        "MODELGATE_WEBHOOK_DISABLE_AFTER": str(DISABLE_AFTER),
    }


@pytest.fixture(scope="module", autouse=True)
def lost_deliveries_report():
    yield
    print(
        f"\nDeliveries lost in the fault tests: {LEDGER['lost']} "
        f"(of {LEDGER['expected']} that had to arrive)"
    )


@pytest.fixture
def ledger():
    """ledger(event_ids, receiver): these events had to reach this receiver; counted at the
    end of the test, whether it passed or not."""
    entries = []
    yield lambda event_ids, receiver: entries.append((list(event_ids), receiver))
    for event_ids, receiver in entries:
        arrived = {r.event_id for r in receiver.received() if 200 <= r.answered < 300}
        LEDGER["expected"] += len(event_ids)
        LEDGER["lost"] += len([e for e in event_ids if e not in arrived])


def test_a_receiver_that_is_down_gets_the_delivery_after_retries_once_it_is_back(
    worker, receiver, fraud_hook, tag, ledger
):
    receiver.down()
    tag("validated")
    delivery = Delivery.objects.get(webhook=fraud_hook)
    ledger([delivery.event_id], receiver)

    wait_until(lambda: Attempt.objects.filter(delivery=delivery).count() >= 2, what="two failed attempts")
    delivery.refresh_from_db()
    assert delivery.status in (Delivery.PENDING, Delivery.IN_FLIGHT)
    receiver.up()

    [post] = receiver.wait_for(1, timeout=30)
    [delivery] = settled(fraud_hook)
    assert delivery.status == Delivery.DELIVERED
    assert post.event_id == delivery.event_id and post.verified == {"standard": True, "databricks": True}
    attempts = attempt_log(delivery)
    assert len(attempts) >= 3 and delivery.attempts == len(attempts)
    assert [a.number for a in attempts] == list(range(1, len(attempts) + 1))
    assert all(a.status_code is None and a.error.startswith("ConnectionError") for a in attempts[:-1])
    assert (attempts[-1].status_code, attempts[-1].error) == (200, "")
    gaps = [(b.started_at - a.started_at).total_seconds() for a, b in zip(attempts, attempts[1:])]
    assert gaps[1] > gaps[0]  # backing off


WRITES_WHILE_DOWN = 20


def test_writes_while_redis_is_down_stay_fast_and_all_arrive_in_order_through_the_sweeper_once_it_is_back(
    worker, private_redis, receiver, fraud_hook, api_as, owner, admin_user, ledger
):
    api = api_as(owner)

    def timed_write(key):
        started = time.monotonic()
        response = api.post("model-versions/set-tag", name="fraud", version="1", key=key, value="1")
        assert response.status_code == 200, response.content
        return time.monotonic() - started

    # What a write costs on this machine right now, with the broker up (after a first one that
    # warms the connections up): a busy machine gets some slack.
    baseline = sorted(timed_write(f"up{n}") for n in range(6))[1:][2]
    receiver.wait_for(6)
    limit = max(0.1, 2 * baseline)
    # A full garbage collection of this test process's heap (large once other modules ran)
    # takes ~0.2 s; collect now so that none lands inside a timed write.
    gc.collect()
    private_redis.stop()
    try:
        took = [timed_write(f"k{n}") for n in range(WRITES_WHILE_DOWN)]
        # The hand-off to the broker is off the request: no write waits for it.
        assert max(took) < limit, (f"limit {limit * 1000:.0f} ms", " ".join(f"{t * 1000:.0f}" for t in took))
        deliveries = list(Delivery.objects.filter(webhook=fraud_hook, status=Delivery.PENDING).order_by("activity_seq"))
        ledger([d.event_id for d in deliveries], receiver)
        assert len(deliveries) == WRITES_WHILE_DOWN
        waiting = wait_until(
            lambda: (lambda rows: rows if all(d.handoff_error for d in rows) else None)(
                list(Delivery.objects.filter(pk__in=[d.pk for d in deliveries]))
            ),
            what="every delivery to say why it waits",
        )
        assert {(d.status, d.attempts) for d in waiting} == {(Delivery.PENDING, 0)}
        time.sleep(SWEEP_AND_MARGIN)
        assert len(receiver.received()) == 6
    finally:
        private_redis.start()
    worker.ensure_running()

    posts = receiver.wait_for(6 + WRITES_WHILE_DOWN, timeout=90)[6:]
    assert [p.event_id for p in posts] == [d.event_id for d in deliveries]  # and in order
    assert [p.json()["tags"][0]["key"] for p in posts] == [f"k{n}" for n in range(WRITES_WHILE_DOWN)]
    assert {d.status for d in settled(fraud_hook, 6 + WRITES_WHILE_DOWN)} == {Delivery.DELIVERED}
    # The delivery log still says why each one waited.
    logged = api_as(admin_user, prefix="/api/2.0/modelgate/").get("deliveries/get", id=deliveries[0].pk)
    assert logged.json_body["delivery"]["status"] == "DELIVERED"
    assert logged.json_body["delivery"]["handoff_error"].startswith("the broker did not take the hand-off (")
    assert "Connection refused" in logged.json_body["delivery"]["handoff_error"]
    assert logged.json_body["delivery"]["handoff_error"].endswith("; the sweeper sends it (every 5 s)")


def test_a_delivery_in_flight_when_the_worker_is_killed_is_sent_again_by_a_new_worker_with_the_same_id(
    worker, receiver, fraud_hook, tag, ledger
):
    receiver.reply(Reply(hang=True))  # the first request never gets its answer
    tag("validated")
    delivery = Delivery.objects.get(webhook=fraud_hook)
    ledger([delivery.event_id], receiver)
    [first] = receiver.wait_for(1)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.IN_FLIGHT

    worker.kill()
    receiver.released.set()
    worker.start()

    _, second = receiver.wait_for(2, timeout=30)
    assert second.event_id == first.event_id == delivery.event_id
    assert second.body == first.body
    assert second.headers["webhook-timestamp"] >= first.headers["webhook-timestamp"]
    assert second.verified == {"standard": True, "databricks": True}
    assert second.mono - first.mono >= LEASE_SECONDS - 0.5  # not before the lease ran out
    [delivery] = settled(fraud_hook)
    assert delivery.status == Delivery.DELIVERED
    # Two claims; the killed worker never recorded its attempt, the new one did.
    assert delivery.attempts == 2
    assert [(a.status_code, a.error) for a in attempt_log(delivery)] == [(200, "")]
    time.sleep(SWEEP_AND_MARGIN)
    assert len(receiver.received()) == 2


def test_a_send_slower_than_the_lease_keeps_its_claim_and_is_sent_once(worker, receiver, fraud_hook, tag, ledger):
    receiver.reply(Reply(delay=LEASE_SECONDS + 2))  # answers 200, but only after the lease
    tag("validated")
    delivery = Delivery.objects.get(webhook=fraud_hook)
    ledger([delivery.event_id], receiver)

    [delivery] = settled(fraud_hook)
    time.sleep(SWEEP_AND_MARGIN)
    assert [r.answered for r in receiver.received()] == [200]
    assert (delivery.status, delivery.attempts) == (Delivery.DELIVERED, 1)
    assert [(a.status_code, a.error) for a in attempt_log(delivery)] == [(200, "")]


def test_a_410_gone_disables_the_webhook_on_the_record_and_nothing_more_is_sent(
    worker, receiver, fraud_hook, tag
):
    receiver.reply(Reply(410, b"gone"))
    tag("validated")

    [delivery] = settled(fraud_hook)
    assert delivery.status == Delivery.FAILED and delivery.attempts == 1
    fraud_hook.refresh_from_db()
    assert fraud_hook.status == Webhook.DISABLED
    disabled = Activity.objects.get(event="webhook.disabled", target=fraud_hook.id)
    assert (disabled.via, disabled.actor, disabled.model_name) == ("system", "system", "fraud")
    assert "410" in disabled.comment and delivery.pk in disabled.comment
    assert disabled.before == {"status": "ACTIVE"} and disabled.after["status"] == "DISABLED"

    tag("another")
    assert Delivery.objects.filter(webhook=fraud_hook).count() == 1
    time.sleep(SWEEP_AND_MARGIN)
    assert len(receiver.received()) == 1


def test_consecutive_failures_disable_the_webhook_and_a_success_resets_the_count(
    worker, receiver, fraud_hook, tag
):
    receiver.reply(400, 400, 200, 400, 400, 400)
    expected = [(1, "ACTIVE"), (2, "ACTIVE"), (0, "ACTIVE"), (1, "ACTIVE"), (2, "ACTIVE"), (3, "DISABLED")]
    for number, (failures, status) in enumerate(expected, start=1):
        tag(f"k{number}")
        settled(fraud_hook, number)
        fraud_hook.refresh_from_db()
        assert (fraud_hook.consecutive_failures, fraud_hook.status) == (failures, status), f"after event {number}"

    disabled = Activity.objects.get(event="webhook.disabled", target=fraud_hook.id)
    assert disabled.comment == f"Disabled: {DISABLE_AFTER} consecutive deliveries failed."
    assert [r.answered for r in receiver.received()] == [400, 400, 200, 400, 400, 400]  # no retries


def test_a_model_s_second_event_waits_until_the_first_one_has_been_delivered(
    worker, receiver, fraud_hook, tag, ledger
):
    receiver.reply(503, 503)
    tag("first")
    tag("second")
    first, second = Delivery.objects.filter(webhook=fraud_hook).order_by("activity_seq")
    ledger([first.event_id, second.event_id], receiver)

    posts = receiver.wait_for(4)
    assert [(p.event_id, p.answered) for p in posts] == [
        (first.event_id, 503), (first.event_id, 503), (first.event_id, 200), (second.event_id, 200),
    ]
    assert posts[3].mono > posts[2].mono
    first, second = settled(fraud_hook, 2)
    assert (first.status, first.attempts) == (Delivery.DELIVERED, 3)
    assert (second.status, second.attempts) == (Delivery.DELIVERED, 1)  # never sent out of turn
    time.sleep(SWEEP_AND_MARGIN)
    assert len(receiver.received()) == 4


def test_retry_after_is_honoured(worker, receiver, fraud_hook, tag, ledger):
    receiver.reply(Reply(429, b"slow down", {"Retry-After": "2"}))
    tag("validated")
    delivery = Delivery.objects.get(webhook=fraud_hook)
    ledger([delivery.event_id], receiver)

    first, second = receiver.wait_for(2, timeout=20)
    # Without Retry-After the next attempt would come after ~0.3 s (the module's first step).
    assert 2.0 <= second.mono - first.mono < 4.0
    assert second.event_id == first.event_id
    [delivery] = settled(fraud_hook)
    assert [(a.status_code, a.response_excerpt) for a in attempt_log(delivery)] == [(429, "slow down"), (200, "ok")]


def test_a_4xx_answer_is_permanent_and_not_retried(worker, receiver, fraud_hook, tag):
    receiver.default = Reply(422, b"unprocessable")
    tag("validated")

    [delivery] = settled(fraud_hook)
    assert (delivery.status, delivery.attempts) == (Delivery.FAILED, 1)
    assert delivery.last_error == "HTTP 422: unprocessable"
    assert [(a.number, a.status_code) for a in attempt_log(delivery)] == [(1, 422)]
    time.sleep(SWEEP_AND_MARGIN)
    assert len(receiver.received()) == 1
    fraud_hook.refresh_from_db()
    assert (fraud_hook.status, fraud_hook.consecutive_failures) == (Webhook.ACTIVE, 1)


def test_a_line_sent_in_a_batch_stops_at_a_failure_retries_it_and_goes_on_in_order(
    worker, receiver, fraud_hook, tag, ledger
):
    # The first answer is slow, so the next five wait behind it and go out as one batch; the
    # third of those fails once.
    receiver.reply(Reply(200, delay=0.5), 200, 200, 503, 200, 200, 200)
    for n in range(6):
        tag(f"k{n}")
    deliveries = list(Delivery.objects.filter(webhook=fraud_hook).order_by("activity_seq"))
    ledger([d.event_id for d in deliveries], receiver)

    posts = receiver.wait_for(7, timeout=30)
    assert [p.answered for p in posts] == [200, 200, 200, 503, 200, 200, 200]
    assert [p.event_id for p in posts] == [d.event_id for d in deliveries[:4]] + [d.event_id for d in deliveries[3:]]
    assert [p.json()["tags"][0]["key"] for p in posts if p.answered == 200] == [f"k{n}" for n in range(6)]
    done = settled(fraud_hook, 6)
    assert {d.status for d in done} == {Delivery.DELIVERED}
    assert [[a.number for a in attempt_log(d)] for d in done] == [[1], [1], [1], [1, 2], [1], [1]]
    assert [d.attempts for d in done] == [1, 1, 1, 2, 1, 1]  # the unsent ones' claims were given back
