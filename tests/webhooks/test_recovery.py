"""Recovery with the shipped defaults: a real worker on the default retry schedule (5 s, 30 s,
...), the default claim lease and the default sweep, so these tests measure what an operator
gets. A receiver that blinks is reached again within seconds, not minutes."""

import time

import pytest

from webhooks.models import Delivery

from .conftest import Reply, attempt_log, settled

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def worker_env():
    # Empty values give the settings' defaults (config/env.py), overriding the suite's fast ones.
    return {"MODELGATE_WEBHOOK_RETRY_SCHEDULE": "", "MODELGATE_WEBHOOK_SWEEP_SECONDS": ""}


def test_a_receiver_that_answers_503_twice_gets_the_event_within_two_minutes(
    worker, receiver, fraud_hook, tag
):
    receiver.reply(503, 503)
    written = time.monotonic()
    tag("validated")

    posts = receiver.wait_for(3, timeout=120)
    assert [p.answered for p in posts] == [503, 503, 200]
    assert posts[2].mono - written < 120
    assert len({p.event_id for p in posts}) == 1
    # The default schedule's first two steps, 5 s and 30 s, each +-20%.
    first_wait, second_wait = posts[1].mono - posts[0].mono, posts[2].mono - posts[1].mono
    assert 4 <= first_wait < 8, first_wait
    assert 24 <= second_wait < 40, second_wait
    [delivery] = settled(fraud_hook)
    assert (delivery.status, delivery.attempts) == (Delivery.DELIVERED, 3)
    assert [a.status_code for a in attempt_log(delivery)] == [503, 503, 200]


def test_a_worker_killed_mid_send_is_replaced_and_the_model_s_events_arrive_within_45_seconds_in_order(
    worker, receiver, fraud_hook, tag
):
    receiver.reply(Reply(hang=True))  # the first request never gets its answer
    for key in ("first", "second", "third"):
        tag(key)
    deliveries = list(Delivery.objects.filter(webhook=fraud_hook).order_by("activity_seq"))
    [hung] = receiver.wait_for(1)

    worker.kill()
    killed = time.monotonic()
    receiver.released.set()
    worker.start()

    posts = receiver.wait_for(4, timeout=45)
    assert posts[-1].mono - killed < 45
    assert [p.event_id for p in posts] == [d.event_id for d in deliveries[:1] + deliveries]
    assert hung.event_id == posts[1].event_id and hung.body == posts[1].body
    assert [p.json()["tags"][0]["key"] for p in posts[1:]] == ["first", "second", "third"]
    assert {d.status for d in settled(fraud_hook, 3)} == {Delivery.DELIVERED}
