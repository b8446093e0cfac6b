"""How long after an approval commits does the receiver have the POST? 100 approvals, one at a
time, through the real actions in this process and a real worker on Redis. The sweeper runs
only once a minute here, so every delivery in time came through the on-commit kick."""

import statistics
import time

import pytest
from django.db import transaction

from workflows import actions as workflow_actions

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

APPROVALS = 100


@pytest.fixture(scope="module")
def worker_env():
    return {"MODELGATE_WEBHOOK_SWEEP_SECONDS": "60"}


def test_an_approval_reaches_the_receiver_well_within_a_second_of_its_commit(
    worker, receiver, secret, make_model, webhook_for, ctx_for, owner, reviewer
):
    make_model("latency", versions=APPROVALS)
    webhook_for(receiver.url, ["MODEL_VERSION_TRANSITIONED_TO_PRODUCTION"], model="latency", secret=secret)
    committed = []

    for number in range(1, APPROVALS + 1):
        workflow_actions.transition_request_create(ctx_for(owner), name="latency", version=number, stage="Production")
        with transaction.atomic():
            # Registered before the approval's own kick, so it runs first: the moment of COMMIT.
            transaction.on_commit(lambda: committed.append(time.time()))
            workflow_actions.transition_approve(ctx_for(reviewer), name="latency", version=number, stage="Production")
        post = receiver.wait_for(number, timeout=10)[-1]
        assert post.json()["version"] == str(number)

    posts = receiver.received()
    assert len(posts) == len(committed) == APPROVALS
    assert all(p.verified == {"standard": True, "databricks": True} for p in posts)
    latencies = sorted((post.at - at) * 1000 for post, at in zip(posts, committed))
    median, p95, worst = statistics.median(latencies), latencies[int(0.95 * APPROVALS) - 1], latencies[-1]
    print(
        f"\nWebhook latency, approval commit -> receiver, over {APPROVALS} approvals: "
        f"median {median:.1f} ms, p95 {p95:.1f} ms, worst {worst:.1f} ms"
    )
    assert latencies[0] > 0
    assert median < 1000
    assert worst < 5000
