"""Celery beat: sign the activity log's head every MODELGATE_ACTIVITY_CHECKPOINT_SECONDS."""

from celery import shared_task

from .actions import checkpoint_create
from .ctx import Ctx


@shared_task(ignore_result=True)
def checkpoint_activity():
    checkpoint = checkpoint_create(Ctx.system())
    return checkpoint.seq if checkpoint else None
