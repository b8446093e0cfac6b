"""Celery tasks of the registry: they take ids and call an action with Ctx.system(). Nothing in
registry imports this module: lineage.send() enqueues by name (lineage.RESOLVE)."""

from celery import shared_task
from django.conf import settings

from audit.ctx import Ctx

from . import actions, lineage, tracking
from .models import LINEAGE_RESOLVING, ModelVersion


# max_retries=None: the attempts are counted here, so the last one records why it gave up.
@shared_task(bind=True, ignore_result=True, acks_late=True, max_retries=None)
def resolve_lineage(self, version_id):
    """Find the run a version was built by on the tracking server, and record it (or why it
    cannot be found). While the server is unreachable, try again with a doubling delay."""
    version = ModelVersion.objects.live().filter(pk=version_id, lineage_status=LINEAGE_RESOLVING).first()
    if version is None:
        return  # resolved already (a redelivered message), or deleted meanwhile
    try:
        found = lineage.resolve(version)
    except tracking.TrackingUnreachable as exc:
        attempts = self.request.retries + 1
        if attempts <= settings.MODELGATE_LINEAGE_MAX_RETRIES:
            countdown = lineage.retry_delay(self.request.retries)
            lineage.expect_attempt(version_id, countdown)  # the sweep leaves a retry alone
            raise self.retry(exc=exc, countdown=countdown)
        found = lineage.Resolution(reason=f"{exc}; gave up after {attempts} attempts")
    actions.version_lineage_record(Ctx.system(), version_id=version_id, **found.as_kwargs())


@shared_task(ignore_result=True)
def sweep_lineage():
    """Beat: hand off again the lineage resolutions whose hand-off was lost (broker down at
    registration, a worker killed holding it), so no version stays "resolving" for ever."""
    return len(lineage.sweep_due())
