from celery import shared_task

from audit.ctx import Ctx
from registry.models import RegisteredModel

from . import actions, selectors


@shared_task(ignore_result=True)
def record_check(*, model_uid, name, version, check, status, details_url="", summary="", **_):
    """A check result reported by the system (the webhooks app's Jenkins follower)."""
    model = RegisteredModel.objects.filter(uid=model_uid).first()
    if model is None:
        return  # the model was deleted meanwhile
    actions.check_report(
        Ctx.system(), name=model.name, version=version, check=check, status=status,
        details_url=details_url, summary=summary,
    )


@shared_task(ignore_result=True)
def close_stale_requests():
    """Beat: close the stale pending requests (policies.stale_reason), one action each; the
    action decides again under the model lock."""
    closed = 0
    for request_id in selectors.stale_request_ids():
        if actions.transition_request_close_stale(Ctx.system(), request_id=request_id) is not None:
            closed += 1
    return closed
