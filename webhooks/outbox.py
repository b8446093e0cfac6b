"""The outbox: record()'s hook writes one Delivery per matching webhook in the recording
transaction; after commit Celery is asked to send them; a beat sweep re-kicks any whose kick
was lost. A delivery is claimed with a conditional UPDATE, so two workers never send the same
attempt, and it waits while an older delivery for the same webhook and model is unfinished,
so receivers see one model's events in order.

A claim is a lease (MODELGATE_WEBHOOK_LEASE_SECONDS, by default the send's connect plus read
timeout) that the sending worker renews while the send runs. A worker that dies stops
renewing; the sweeper then finds the lapsed claim and hands the delivery on, same event id,
still ahead of the model's later events. A claim is known by its attempt number: a worker
whose claim was handed on cannot settle the delivery any more."""

import random
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from audit.ctx import Ctx

# The outbox calls actions (webhook_disable) like any other caller; actions never import it.
from . import actions, attempts, payloads
from .enqueue import follow_jenkins_later, hand_off, kick, schedule
from .models import Delivery, Webhook


def on_activity_recorded(sender, activity, ctx, **kwargs):
    """Connected to registry.activity.activity_recorded (WebhooksConfig.ready())."""
    candidates = Webhook.objects.filter(status=Webhook.ACTIVE).filter(
        Q(model__isnull=True) | Q(model__uid=activity.model_uid)
    ) if activity.model_uid else Webhook.objects.filter(status=Webhook.ACTIVE, model__isnull=True)
    created = []
    for webhook in candidates:
        event = payloads.matched_event(webhook, activity)
        if event is None:
            continue
        event_id, body = payloads.build(webhook, activity, event)
        created.append(Delivery(
            webhook=webhook, event=event, event_id=event_id, activity_seq=activity.seq,
            model_uid=activity.model_uid, payload=body,
        ))
    if created:
        Delivery.objects.bulk_create(created)
        ids = [d.id for d in created]
        transaction.on_commit(lambda: hand_off(ids), robust=True)


def _older_unfinished():
    return Delivery.objects.filter(
        webhook=OuterRef("webhook"), model_uid=OuterRef("model_uid"),
        activity_seq__lt=OuterRef("activity_seq"), is_test=False,
    ).exclude(status__in=Delivery.FINISHED)


def claim(delivery_id):
    """Take a due delivery for one attempt. Returns it, or None if it is not ours to send
    (already claimed, finished, not due, or waiting behind an older one)."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.MODELGATE_WEBHOOK_LEASE_SECONDS)
    updated = (
        Delivery.objects.filter(pk=delivery_id, status=Delivery.PENDING, next_attempt_at__lte=now)
        .exclude(Exists(_older_unfinished()))
        .update(status=Delivery.IN_FLIGHT, claimed_until=lease, attempts=F("attempts") + 1)
    )
    if updated != 1:
        return None
    return Delivery.objects.select_related("webhook").get(pk=delivery_id)


def max_attempts():
    """The first attempt and one retry per step of the schedule."""
    return 1 + len(settings.MODELGATE_WEBHOOK_RETRY_SCHEDULE)


def retry_delay(attempt, retry_after=None):
    """Seconds before attempt number `attempt + 1`: the schedule's step for it with +-20%
    jitter (so receivers that failed together are not all retried at the same moment), never
    sooner than Retry-After, which is honoured up to the schedule's longest step."""
    schedule = settings.MODELGATE_WEBHOOK_RETRY_SCHEDULE
    delay = schedule[min(attempt, len(schedule)) - 1] * random.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, max(schedule)))
    return delay


def parse_retry_after(headers):
    value = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
        except (TypeError, ValueError):
            return None


def next_in_line(delivery):
    """The oldest unfinished delivery for the same webhook and model, to kick after this one."""
    return (
        Delivery.objects.filter(webhook_id=delivery.webhook_id, model_uid=delivery.model_uid, is_test=False)
        .exclude(status__in=Delivery.FINISHED).exclude(pk=delivery.pk)
        .order_by("activity_seq").first()
    )


def due_deliveries(limit=500):
    """Deliveries the sweeper should kick: due PENDING ones at the head of their line, and
    IN_FLIGHT ones whose worker's lease ran out (it died mid-send) are first made PENDING."""
    now = timezone.now()
    Delivery.objects.filter(status=Delivery.IN_FLIGHT, claimed_until__lt=now).update(
        status=Delivery.PENDING, claimed_until=None, next_attempt_at=now
    )
    return list(
        Delivery.objects.filter(status=Delivery.PENDING, next_attempt_at__lte=now)
        .exclude(Exists(_older_unfinished()))
        .order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )


# A retry due within this many seconds is also scheduled on Celery, to go on time rather than
# at the next sweep.
SCHEDULE_RETRIES_WITHIN = 60

# However slow a receiver, a send holds its claim at most this many leases: then it counts as
# stuck and the sweeper may hand the delivery to another worker.
MAX_LEASES_PER_SEND = 4


@contextmanager
def lease_renewed(delivery):
    """Keep renewing the claim on `delivery` while the body runs (a send): every quarter
    lease, from a thread with its own database connection, opened only if a send is slow."""
    lease = settings.MODELGATE_WEBHOOK_LEASE_SECONDS
    stop = threading.Event()

    def renew():
        give_up_at = time.monotonic() + MAX_LEASES_PER_SEND * lease
        try:
            while not stop.wait(lease / 4) and time.monotonic() < give_up_at:
                Delivery.objects.filter(
                    pk=delivery.pk, status=Delivery.IN_FLIGHT, attempts=delivery.attempts
                ).update(claimed_until=timezone.now() + timedelta(seconds=lease))
        finally:
            connection.close()

    renewer = threading.Thread(target=renew, name=f"lease-{delivery.pk}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()


def send_claimed(delivery):
    """Make one attempt at a claimed delivery, holding the claim while it runs, then log the
    attempt and settle the delivery."""
    with lease_renewed(delivery):
        result = attempts.send(delivery)
    return settle(delivery, result)


def _outcome(result):
    """delivered, gone (410), permanent (other 4xx, 3xx, refused destination) or transient
    (timeouts, connection errors, 5xx, 408, 429)."""
    if result.ok:
        return "delivered"
    if result.refused:
        return "permanent"
    code = result.status_code
    if code == 410:
        return "gone"
    if code is not None and (300 <= code < 500) and code not in (408, 429):
        return "permanent"
    return "transient"


def settle(delivery, result):
    """Log the attempt and settle the delivery: delivered, retried later, or finished as
    failed; a webhook that keeps failing (or answered 410) is disabled through its action, in
    the same transaction as the failure that tipped it."""
    outcome = _outcome(result)
    retry_in = None
    with transaction.atomic():
        current = Delivery.objects.select_for_update().select_related("webhook").get(pk=delivery.pk)
        if current.status != Delivery.IN_FLIGHT or current.attempts != delivery.attempts:
            return current  # our claim lapsed and the sweeper handed the delivery on
        attempts.log(current, result)
        now = timezone.now()
        current.claimed_until = None
        if outcome == "delivered":
            current.status, current.finished_at, current.last_error = Delivery.DELIVERED, now, ""
            if current.webhook.consecutive_failures:
                # Only then: an UPDATE of the webhook's row on every delivery would queue all of
                # a webhook's concurrent deliveries behind that one row lock.
                Webhook.objects.filter(pk=current.webhook_id).update(consecutive_failures=0)
        else:
            current.last_error = result.error or f"HTTP {result.status_code}: {result.body[:200]}"
            if outcome == "transient" and current.attempts < max_attempts():
                retry_in = retry_delay(current.attempts, parse_retry_after(result.headers))
                current.status, current.next_attempt_at = Delivery.PENDING, now + timedelta(seconds=retry_in)
            else:
                current.status = Delivery.DEAD if outcome == "transient" else Delivery.FAILED
                current.finished_at = now
        current.save(update_fields=["status", "finished_at", "last_error", "claimed_until", "next_attempt_at"])
        if current.status in (Delivery.FAILED, Delivery.DEAD):
            webhook = Webhook.objects.select_for_update().get(pk=current.webhook_id)
            webhook.consecutive_failures += 1
            webhook.save(update_fields=["consecutive_failures"])
            reason = None
            if outcome == "gone":
                reason = f"the receiver answered 410 Gone (delivery {current.pk})"
            elif webhook.consecutive_failures >= settings.MODELGATE_WEBHOOK_DISABLE_AFTER:
                reason = f"{webhook.consecutive_failures} consecutive deliveries failed"
            if reason:
                actions.webhook_disable(Ctx.system(), webhook=webhook, reason=reason)
    if current.status == Delivery.DELIVERED and current.webhook.target == Webhook.JENKINS and current.jenkins_queue_url:
        transaction.on_commit(lambda: follow_jenkins_later(current.pk), robust=True)
    if retry_in is not None:
        if retry_in <= SCHEDULE_RETRIES_WITHIN:
            schedule(current.pk, retry_in)
        # A later retry is the sweeper's: no worker holds a message for hours, which Redis
        # would hand out again after its visibility timeout.
    elif current.status in Delivery.FINISHED:
        following = next_in_line(current)
        if following is not None:
            kick([following.pk])
    return current
