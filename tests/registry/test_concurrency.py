"""Concurrent writers, with real threads and real transactions: version numbers stay gapless
and unique under the model's row lock, and the activity chain stays whole under its head lock."""

import threading

import pytest
from django.db import connection

from audit.activity import verify_chain
from audit.models import Activity
from registry import actions
from registry.models import ModelVersion

WRITERS = 8


def run_concurrently(work):
    """Run work(i) in WRITERS threads released together; re-raise the first failure."""
    barrier = threading.Barrier(WRITERS)
    errors = []

    def target(i):
        try:
            barrier.wait(timeout=10)
            work(i)
        except Exception as exc:  # collected and re-raised in the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    if errors:
        raise errors[0]


@pytest.mark.django_db(transaction=True)
def test_concurrent_version_creates_get_gapless_unique_numbers(owner_ctx):
    actions.model_create(owner_ctx, name="fraud")

    run_concurrently(lambda i: actions.version_create(owner_ctx, name="fraud", source=f"s3://b/{i}"))

    numbers = sorted(ModelVersion.objects.values_list("version", flat=True))
    assert numbers == list(range(1, WRITERS + 1))


@pytest.mark.django_db(transaction=True)
def test_concurrent_writes_on_different_models_keep_the_activity_chain_whole(owner_ctx):
    run_concurrently(lambda i: actions.model_create(owner_ctx, name=f"model-{i}"))

    assert sorted(Activity.objects.values_list("seq", flat=True)) == list(range(1, WRITERS + 1))
    report = verify_chain()
    assert report.ok, report.problem
    assert report.checked == WRITERS
