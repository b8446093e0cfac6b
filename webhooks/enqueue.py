"""Handing work to Celery: send a delivery now, retry it later, follow a Jenkins build.

Tasks are sent by name (webhooks/tasks.py defines them) rather than through the task objects,
so nothing below tasks.py imports it and tasks.py can import the outbox: the plainest one-way
order, and the same way webhooks hands checks to workflows. The message is the one
`task.delay()` would send: the tasks set no routing options, and ignore their results.

Every hand-off may fail (broker down): the rows stay in the database and the sweeper sends
them later, so a failure is logged and nothing is lost."""

import logging

from celery import current_app
from django.conf import settings

logger = logging.getLogger(__name__)

DELIVER = "webhooks.tasks.deliver"
FOLLOW_JENKINS_BUILD = "webhooks.tasks.follow_jenkins_build"


def _send(name, delivery_id, countdown=None):
    current_app.send_task(name, args=(delivery_id,), countdown=countdown, ignore_result=True)


def kick(delivery_ids):
    """Ask Celery to send these now. If the broker is down the rows stay PENDING and the
    sweeper sends them later: nothing is lost."""
    for delivery_id in delivery_ids:
        try:
            _send(DELIVER, delivery_id)
        except Exception:  # broker unreachable: the sweep will pick it up
            logger.warning("Could not enqueue delivery %s; the sweeper will retry", delivery_id, exc_info=True)
            return


def schedule(delivery_id, seconds):
    try:
        _send(DELIVER, delivery_id, countdown=seconds)
    except Exception:
        logger.warning("Could not schedule retry of %s; the sweeper will", delivery_id, exc_info=True)


def follow_jenkins_later(delivery_id, seconds=None):
    try:
        _send(FOLLOW_JENKINS_BUILD, delivery_id,
              countdown=settings.MODELGATE_JENKINS_POLL_SECONDS if seconds is None else seconds)
    except Exception:
        logger.warning("Could not schedule following Jenkins build of %s", delivery_id, exc_info=True)
