"""Celery tasks, the top of notifications: they take ids and call the outbox; the database is
the source of truth. Work is enqueued by name (outbox.SEND), so keep the names in step."""

import logging

from celery import shared_task

from . import outbox

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, acks_late=True)
def send_email(email_id):
    email = outbox.claim(email_id)
    if email is not None:
        outbox.send_claimed(email)


@shared_task(ignore_result=True)
def sweep_notifications():
    """Beat: make the digests that are due, then kick every due email whose kick was lost
    (broker down, worker killed) or whose retry is the sweeper's."""
    outbox.make_digests()
    due = outbox.due_emails()
    if due:
        logger.info("Notifications sweeper kicking %d emails", len(due))
        outbox.kick(due)
    return len(due)
