"""The email outbox, the same idea as the webhooks one: record()'s hook writes one Notice per
person told (notices.recipients) and, for people who get email at once, its Email, in the
recording transaction; after commit the worker is asked to send them (on the hand-off thread,
so the request never waits on the broker); a beat sweep sends whatever that kick missed, makes
the daily digests, and hands on sends whose worker died. Sending is claimed with a conditional
UPDATE and a lease, so two workers never send one email at the same time; a failed send is
retried on MODELGATE_NOTIFY_RETRY_SCHEDULE, then the email is DEAD (its error kept).

None of this is an activity: like webhook deliveries, the outbox is bookkeeping of the
activity that caused it."""

import logging
import random
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Min
from django.utils import timezone

from webhooks.enqueue import HandOffFailed, in_background, send_by_name

from . import compose, recipients
from .models import Email, Notice, Preference

logger = logging.getLogger(__name__)

SEND = "notifications.tasks.send_email"  # keep in step with tasks.py
# A retry due within this many seconds is also scheduled on Celery; later ones are the sweeper's.
SCHEDULE_RETRIES_WITHIN = 60


def on_activity_recorded(sender, activity, ctx, model=None, **kwargs):
    """Connected to audit.activity.activity_recorded (NotificationsConfig.ready())."""
    if activity.event not in recipients.FOLLOWED_EVENTS:
        return  # most activity (tags, tokens, policies...) tells nobody: no query at all
    subject = recipients.subject_of(activity, model)
    if subject is None:
        return
    told = recipients.recipients(subject)
    if not told:
        return
    title, text = compose.notice_text(subject)
    stop = compose.stop_text(subject.model.name)
    emails = []
    for person in told:
        notice = Notice(user=person.user, activity_seq=activity.seq, model_uid=activity.model_uid,
                        subject=title[:300], text=text, reason=person.reason, stop=stop)
        if person.delivery == Preference.IMMEDIATE:
            notice.email = Email.objects.create(
                user=person.user, to_address=person.user.email, subject=title[:300],
                body=compose.immediate_body(notice),
            )
            emails.append(notice.email.pk)
        notice.save(force_insert=True)
    if emails:
        transaction.on_commit(lambda: hand_off(emails), robust=True)


# Handing on to the worker ------------------------------------------------------------------------

def kick(email_ids, countdown=None):
    """Ask the worker to send these. A broker that does not take them leaves them to the sweeper."""
    for email_id in email_ids:
        try:
            send_by_name(SEND, email_id, countdown=countdown)
        except HandOffFailed as exc:
            logger.warning("Could not enqueue %d emails (%s); the sweeper will send them", len(email_ids), exc)
            return


def hand_off(email_ids):
    in_background(lambda: kick(email_ids))


# Sending ----------------------------------------------------------------------------------------

def claim(email_id):
    now = timezone.now()
    updated = Email.objects.filter(pk=email_id, status=Email.PENDING, next_attempt_at__lte=now).update(
        status=Email.SENDING, attempts=F("attempts") + 1,
        claimed_until=now + timedelta(seconds=settings.MODELGATE_NOTIFY_LEASE_SECONDS),
    )
    return Email.objects.get(pk=email_id) if updated == 1 else None


def _permanent(exc):
    """An answer no retry changes: the server refused the address or the message (5xx)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def retry_delay(attempt):
    """Seconds before attempt `attempt + 1`: the schedule's step, with +-20% jitter."""
    schedule = settings.MODELGATE_NOTIFY_RETRY_SCHEDULE
    return schedule[min(attempt, len(schedule)) - 1] * random.uniform(0.8, 1.2)


def send_claimed(email):
    """Send one claimed email through Django's email backend, then settle it."""
    message = EmailMessage(
        subject=email.subject, body=email.body, from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to_address], headers={"Message-ID": email.message_id, "Auto-Submitted": "auto-generated"},
        connection=get_connection(fail_silently=False),
    )
    try:
        message.send()
    except Exception as exc:  # any failure of the server or the network: settled below
        return settle(email, error=f"{type(exc).__name__}: {exc}"[:2000], permanent=_permanent(exc))
    return settle(email)


def settle(email, error=None, permanent=False):
    retry_in = None
    with transaction.atomic():
        current = Email.objects.select_for_update().get(pk=email.pk)
        if current.status != Email.SENDING or current.attempts != email.attempts:
            return current  # our claim lapsed and the sweeper handed it on
        now = timezone.now()
        current.claimed_until = None
        if error is None:
            current.status, current.sent_at, current.last_error = Email.SENT, now, ""
        else:
            current.last_error = error
            if not permanent and current.attempts <= len(settings.MODELGATE_NOTIFY_RETRY_SCHEDULE):
                retry_in = retry_delay(current.attempts)
                current.status, current.next_attempt_at = Email.PENDING, now + timedelta(seconds=retry_in)
            else:
                current.status = Email.DEAD
        current.save(update_fields=["status", "sent_at", "last_error", "claimed_until", "next_attempt_at"])
    if retry_in is not None and retry_in <= SCHEDULE_RETRIES_WITHIN:
        kick([current.pk], countdown=retry_in)
    return current


# The sweep: lapsed claims, due emails, digests ---------------------------------------------------

def due_emails(limit=500):
    now = timezone.now()
    Email.objects.filter(status=Email.SENDING, claimed_until__lt=now).update(
        status=Email.PENDING, claimed_until=None, next_attempt_at=now
    )
    return list(
        Email.objects.filter(status=Email.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )


def make_digests():
    """One digest email per person whose oldest waiting notice is MODELGATE_NOTIFY_DIGEST_SECONDS
    old, gathering every notice of theirs waiting (so nobody gets more than one a day). Returns
    the new emails' ids."""
    cutoff = timezone.now() - timedelta(seconds=settings.MODELGATE_NOTIFY_DIGEST_SECONDS)
    waiting = Notice.objects.filter(email__isnull=True).values("user_id").annotate(oldest=Min("created_at"))
    made = []
    for row in waiting.filter(oldest__lte=cutoff):
        with transaction.atomic():
            notices = list(
                Notice.objects.select_for_update(skip_locked=True).select_related("user")
                .filter(user_id=row["user_id"], email__isnull=True).order_by("activity_seq")
            )
            if not notices:
                continue
            user = notices[0].user
            gone_quiet = Preference.objects.filter(user=user, delivery=Preference.OFF).exists()
            if not user.email or not user.is_active or gone_quiet:
                Notice.objects.filter(pk__in=[n.pk for n in notices]).delete()  # nobody to send them to
                continue
            subject, body = compose.digest(notices)
            email = Email.objects.create(user=user, to_address=user.email, subject=subject, body=body, is_digest=True)
            Notice.objects.filter(pk__in=[n.pk for n in notices]).update(email=email)
            made.append(email.pk)
    return made
