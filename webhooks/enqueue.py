"""Handing work to Celery: send a delivery now, retry it later, follow a Jenkins build.

Tasks are sent by name (webhooks/tasks.py defines them) rather than through the task objects,
so nothing below tasks.py imports it and tasks.py can import the outbox: the plainest one-way
order, and the same way webhooks hands checks to workflows. The message is the one
`task.delay()` would send: the tasks set no routing options, and ignore their results.

Only a delivery at the head of its line (no older unfinished one for its webhook and model) is
handed to Celery; the worker that finishes it hands on the next one (outbox.settle). A delivery
handed on while it must wait would only be refused by the worker, a wasted round trip each.

Every hand-off may fail (broker down): the rows stay in the database and the sweeper sends
them later, so a failure is logged and nothing is lost. Two things keep a broker outage from
slowing the registry down:

- a write's hand-off (`hand_off`) runs on a thread of its own in each process, so the request
  that committed never waits on the broker;
- a circuit breaker: after a hand-off fails, none is tried for
  MODELGATE_WEBHOOK_HANDOFF_PAUSE_SECONDS (each try costs redis-py's connection retries);
  what is skipped meanwhile waits for the sweeper, and says so in the delivery log."""

import logging
import os
import queue
import threading
import time

from celery import current_app
from django.conf import settings
from django.db import connection

from .models import Delivery

logger = logging.getLogger(__name__)

DELIVER = "webhooks.tasks.deliver"
FOLLOW_JENKINS_BUILD = "webhooks.tasks.follow_jenkins_build"


class HandOffFailed(Exception):
    """The broker did not take the task (or the breaker is open after it did not)."""


class _Breaker:
    def __init__(self):
        self.open_until = 0.0
        self.reason = ""

    def check(self):
        if self.is_open():
            raise HandOffFailed(self.reason)

    def is_open(self):
        return time.monotonic() < self.open_until

    def trip(self, exc):
        self.reason = f"the broker did not take the hand-off ({type(exc).__name__}: {exc})"
        self.open_until = time.monotonic() + settings.MODELGATE_WEBHOOK_HANDOFF_PAUSE_SECONDS
        return self.reason


breaker = _Breaker()


def send_by_name(name, row_id, countdown=None):
    """One try at handing task `name` (row_id) to the broker, or HandOffFailed. Shared with the
    notifications outbox: one broker, one breaker."""
    breaker.check()
    try:
        # retry=False: one try; the sweeper is the retry.
        current_app.send_task(name, args=(row_id,), countdown=countdown, ignore_result=True, retry=False)
    except Exception as exc:
        raise HandOffFailed(breaker.trip(exc)) from exc



def kick(delivery_ids):
    """Ask Celery to send these now. Returns None, or why the broker did not take them: then
    the rows stay PENDING and the sweeper sends them later; nothing is lost."""
    for delivery_id in delivery_ids:
        try:
            send_by_name(DELIVER, delivery_id)
        except HandOffFailed as exc:
            logger.warning("Could not enqueue %d deliveries (%s); the sweeper will send them", len(delivery_ids), exc)
            return str(exc)
    return None


def probe():
    """Whether the broker is reachable, for a write whose deliveries wait behind others (so
    nothing is handed off): None, or why not (then the breaker opens, as after a failed
    hand-off). One connection, off the request, at most two quick tries."""
    try:
        breaker.check()
    except HandOffFailed as exc:
        return str(exc)
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, interval_max=0)
    except Exception as exc:
        return breaker.trip(exc)
    return None


def _note_waiting(delivery_ids, reason):
    """Say in the delivery log why these wait for the sweeper (kept once they are sent)."""
    try:
        Delivery.objects.filter(pk__in=delivery_ids, status=Delivery.PENDING).update(
            handoff_error=f"{reason}; the sweeper sends it (every {settings.MODELGATE_WEBHOOK_SWEEP_SECONDS:g} s)"
        )
    finally:
        connection.close()  # the hand-off thread's own connection: not held between outages


class _HandOffThread:
    """One hand-off thread per process (started again in a forked child), fed by a queue of
    jobs (callables)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pid = None
        self.jobs = None

    def put(self, job):
        with self.lock:
            if self.pid != os.getpid():
                self.pid, self.jobs = os.getpid(), queue.SimpleQueue()
                threading.Thread(target=self._run, args=(self.jobs,), name="webhooks-hand-off", daemon=True).start()
        self.jobs.put(job)

    @staticmethod
    def _run(jobs):
        while True:
            job = jobs.get()
            try:
                job()
            except Exception:  # the thread must outlive any one job; the sweepers have the rows
                logger.exception("Hand-off job %s failed", job)


def _kick_and_note(delivery_ids, heads):
    # Deliveries behind others are not handed off, but while the broker is down they too wait
    # for the sweeper (it restarts their line), and say so.
    reason = kick(heads) if heads else probe()
    if reason is not None:
        _note_waiting(delivery_ids, reason)


hand_off_thread = _HandOffThread()


def hand_off(delivery_ids):
    """A write's hand-off, after its commit: kick() the ones at the head of their line on the
    process's hand-off thread. If the broker does not take them, the delivery log says why they
    wait; a process that exits first leaves them to the sweeper all the same.

    Which are at the head is read here, after the commit, not in the writing transaction: a
    worker finishing the delivery ahead either committed before this read (then this one is
    the head) or reads the next in line after this commit (then it hands this one on)."""
    delivery_ids = list(delivery_ids)
    heads = list(Delivery.objects.filter(pk__in=delivery_ids).at_head_of_line().order_by("activity_seq")
                  .values_list("pk", flat=True))
    hand_off_thread.put(lambda: _kick_and_note(delivery_ids, heads))


def in_background(job):
    """Run job() on the process's hand-off thread (after a commit: the request never waits on
    the broker). The notifications outbox hands its emails on this way too."""
    hand_off_thread.put(job)


def schedule(delivery_id, seconds):
    try:
        send_by_name(DELIVER, delivery_id, countdown=seconds)
    except HandOffFailed:
        logger.warning("Could not schedule retry of %s; the sweeper will", delivery_id, exc_info=True)


def follow_jenkins_later(delivery_id, seconds=None):
    try:
        send_by_name(FOLLOW_JENKINS_BUILD, delivery_id,
              countdown=settings.MODELGATE_JENKINS_POLL_SECONDS if seconds is None else seconds)
    except HandOffFailed:
        logger.warning("Could not schedule following Jenkins build of %s", delivery_id, exc_info=True)
