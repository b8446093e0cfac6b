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
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.ctx import Ctx

# The outbox calls actions (webhook_disable) like any other caller; actions never import it.
from . import actions, attempts, payloads
from .enqueue import follow_jenkins_later, hand_off, kick, schedule
from .models import Attempt, Delivery, Webhook


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


def claim(delivery_id):
    """Take a due delivery for one attempt. Returns it, or None if it is not ours to send
    (already claimed, finished, not due, or waiting behind an older one)."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.MODELGATE_WEBHOOK_LEASE_SECONDS)
    updated = (
        Delivery.objects.filter(pk=delivery_id, status=Delivery.PENDING, next_attempt_at__lte=now)
        .at_head_of_line()
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
        .at_head_of_line()
        .order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )


# A retry due within this many seconds is also scheduled on Celery, to go on time rather than
# at the next sweep.
SCHEDULE_RETRIES_WITHIN = 60

# However slow a receiver, a send holds its claim at most this many leases: then it counts as
# stuck and the sweeper may hand the delivery to another worker.
MAX_LEASES_PER_SEND = 4


def _claims(deliveries):
    """The rows still held by these claims (a claim is known by its attempt number)."""
    held = Q(pk__in=[])
    for delivery in deliveries:
        held |= Q(pk=delivery.pk, attempts=delivery.attempts)
    return Delivery.objects.filter(held, status=Delivery.IN_FLIGHT)


@contextmanager
def lease_renewed(*deliveries):
    """Keep renewing the claims on `deliveries` while the body runs (their sends): every
    quarter lease, from a thread with its own database connection, opened only if sending is
    slow."""
    lease = settings.MODELGATE_WEBHOOK_LEASE_SECONDS
    stop = threading.Event()

    def renew():
        give_up_at = time.monotonic() + MAX_LEASES_PER_SEND * lease
        try:
            while not stop.wait(lease / 4) and time.monotonic() < give_up_at:
                _claims(deliveries).update(claimed_until=timezone.now() + timedelta(seconds=lease))
        finally:
            connection.close()

    renewer = threading.Thread(target=renew, name=f"lease-{deliveries[0].pk}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()


# A worker that finishes a delivery goes on with its line itself (no task round trip through
# the broker), for up to this many deliveries and seconds, then hands the line on through
# Celery, so that one busy model does not keep a worker from every other one.
LINE_DELIVERIES = 100
LINE_SECONDS = 1.0
# What follows in a line is claimed, sent (one by one, in order) and settled this many at a
# time: one claim, one settling transaction and one lease thread for all of them.
BATCH = 20


def _with_logged_attempts(queryset):
    """Each delivery with how many attempts its log has (the next one's number), read with it."""
    logged = Attempt.objects.filter(delivery=OuterRef("pk")).order_by().values("delivery").annotate(
        n=Count("pk")).values("n")
    return queryset.annotate(logged_attempts=Coalesce(Subquery(logged), 0))


def claim_following(delivery, limit):
    """After `delivery` finished: claim the next deliveries of its line, as many of the oldest
    unfinished ones (up to `limit`) as are due and unclaimed, without a gap. Returns them in
    order (empty if the next one is in flight, waiting for its retry, or there is none)."""
    now = timezone.now()
    line = (Delivery.objects.filter(webhook_id=delivery.webhook_id, model_uid=delivery.model_uid, is_test=False)
            .exclude(status__in=Delivery.FINISHED).order_by("activity_seq"))
    wanted = []
    for pk, status, due in line.values_list("pk", "status", "next_attempt_at")[:limit]:
        if status != Delivery.PENDING or due > now:
            break
        wanted.append(pk)
    if not wanted:
        return []
    lease = now + timedelta(seconds=settings.MODELGATE_WEBHOOK_LEASE_SECONDS)
    Delivery.objects.filter(pk__in=wanted, status=Delivery.PENDING, next_attempt_at__lte=now).update(
        status=Delivery.IN_FLIGHT, claimed_until=lease, attempts=F("attempts") + 1)
    claimed = list(_with_logged_attempts(Delivery.objects.select_related("webhook")).filter(
        pk__in=wanted, status=Delivery.IN_FLIGHT, claimed_until=lease).order_by("activity_seq"))
    # Another worker taking one of them meanwhile (a sweeper's kick) leaves a gap: keep the
    # unbroken start of the line, give the rest back.
    kept = 0
    while kept < len(claimed) and claimed[kept].pk == wanted[kept]:
        kept += 1
    release(claimed[kept:])
    return claimed[:kept]


def release(deliveries):
    """Give back claims that were not sent: PENDING again, the attempt not counted."""
    if deliveries:
        _claims(deliveries).update(status=Delivery.PENDING, claimed_until=None, attempts=F("attempts") - 1)


def send_claimed(delivery, line_deliveries=1):
    """Make one attempt at a claimed delivery, holding the claim while it runs, then log the
    attempt and settle the delivery. Then its line goes on: what follows is claimed and sent
    here too while it is due and `line_deliveries` and LINE_SECONDS allow, else handed to
    Celery. Returns the first delivery as settled."""
    deadline = time.monotonic() + LINE_SECONDS
    batch, first, sent = [delivery], None, 0
    while True:
        current, go_on = _send_batch(batch, deadline)
        first = first or current
        sent += len(batch)
        if not go_on:
            return first
        room = min(BATCH, line_deliveries - sent)
        if room > 0 and time.monotonic() < deadline and current.webhook.target == Webhook.HTTP:
            batch = claim_following(current, room)
            if not batch:
                return first  # next in flight, waiting for its retry, or none
            continue
        following = next_in_line(current)
        if following is not None:
            kick([following.pk])
        return first


def _send_batch(batch, deadline):
    """Send a batch of claimed deliveries of one line in order, stopping at the first that
    fails (or when the deadline passed), and settle them: the delivered ones together, the
    failed one on its own, the unsent ones given back. Returns (the first delivery as settled,
    whether the line is this worker's to go on with: the last one sent finished, by this claim)."""
    results = []
    with lease_renewed(*batch):
        for delivery in batch:
            result = attempts.send(delivery)
            results.append((delivery, result))
            if not result.ok or time.monotonic() >= deadline:
                break
    release(batch[len(results):])
    delivered = [(d, r) for d, r in results if r.ok]
    failed = results[-1] if not results[-1][1].ok else None
    settled, go_on = [], True
    if delivered:
        if len(delivered) == 1 and failed is None:
            current, ours = settle(*delivered[0])
            settled, go_on = [current], ours
        else:
            go_on = settle_delivered(delivered)
            settled = [d for d, _ in delivered]
    if failed is not None:
        current, ours = settle(*failed)
        settled.append(current)
        go_on = go_on and ours and current.status in Delivery.FINISHED
    # Unsent ones (the deadline passed) were given back: the line goes on from the first of them.
    return settled[0], go_on and settled[-1].status in Delivery.FINISHED


def settle_delivered(pairs):
    """Settle several delivered (delivery, result) pairs of one webhook in one transaction: one
    UPDATE and one INSERT of their attempts. If a claim among them lapsed meanwhile (the
    sweeper handed it on), each is settled on its own instead. Returns whether all were ours."""
    now = timezone.now()
    with transaction.atomic():
        updated = _claims([d for d, _ in pairs]).update(
            status=Delivery.DELIVERED, finished_at=now, last_error="", claimed_until=None)
        if updated == len(pairs):
            attempts.log_many(pairs)
            if pairs[0][0].webhook.consecutive_failures:
                Webhook.objects.filter(pk=pairs[0][0].webhook_id).update(consecutive_failures=0)
            for delivery, _ in pairs:
                delivery.status, delivery.finished_at, delivery.last_error = Delivery.DELIVERED, now, ""
                delivery.claimed_until = None
            return True
        transaction.set_rollback(True)
    return all([settle(d, r)[1] for d, r in pairs])


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
    the same transaction as the failure that tipped it. Returns (the delivery as it now is,
    whether this claim settled it); the next in line is the caller's (send_claimed)."""
    outcome = _outcome(result)
    retry_in = None
    with transaction.atomic():
        current = Delivery.objects.select_for_update().select_related("webhook").get(pk=delivery.pk)
        if current.status != Delivery.IN_FLIGHT or current.attempts != delivery.attempts:
            return current, False  # our claim lapsed and the sweeper handed the delivery on
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
    return current, True
