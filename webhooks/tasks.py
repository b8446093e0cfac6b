"""Celery tasks, the top of webhooks: they take ids and call the outbox; the database is the
source of truth. Nothing in webhooks imports this module: work is enqueued by task name
(enqueue.py), so keep these names in step with enqueue.DELIVER and FOLLOW_JENKINS_BUILD."""

import logging
from datetime import timedelta

from celery import current_app, shared_task
from django.conf import settings
from django.utils import timezone

from . import jenkins, outbox
from .enqueue import follow_jenkins_later, kick
from .models import Delivery

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, acks_late=True)
def deliver(delivery_id):
    delivery = outbox.claim(delivery_id)
    if delivery is not None:
        outbox.send_claimed(delivery, line_deliveries=outbox.LINE_DELIVERIES)


@shared_task(ignore_result=True)
def sweep_deliveries():
    """Beat: kick every due delivery whose kick was lost (broker down, worker killed, crash
    between commit and enqueue)."""
    due = outbox.due_deliveries()
    if due:
        logger.info("Sweeper re-kicking %d deliveries", len(due))
        kick(due)
    return len(due)


@shared_task(ignore_result=True)
def follow_jenkins_build(delivery_id):
    delivery = Delivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or not delivery.jenkins_queue_url or delivery.jenkins_result:
        return
    finished, report = jenkins.follow(delivery)
    if finished:
        if report is not None:
            # The check belongs to the workflows app, which webhooks does not import: hand it
            # over by task name (workflows.tasks.record_check).
            current_app.send_task("workflows.tasks.record_check", kwargs=report)
        return
    deadline = delivery.created_at + timedelta(seconds=settings.MODELGATE_JENKINS_FOLLOW_SECONDS)
    if timezone.now() < deadline:
        follow_jenkins_later(delivery_id)
