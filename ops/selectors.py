"""What /metrics reports about the registry's queues and its activity log: whole-registry
counts, for whoever may read the metrics (ops.policies), never a row's content."""

from django.db.models import Count, Min, Q
from django.utils import timezone

from audit.models import ActivityHead, Checkpoint
from registry.models import LINEAGE_RESOLVING, ModelVersion
from webhooks.models import Delivery
from workflows.models import TransitionRequest

from . import heartbeat


def _seconds_since(moment, now):
    return None if moment is None else max(0.0, (now - moment).total_seconds())


def registry_state():
    now = timezone.now()
    unfinished = Q(status__in=(Delivery.PENDING, Delivery.IN_FLIGHT))
    deliveries = Delivery.objects.aggregate(
        pending=Count("pk", filter=unfinished),
        failed=Count("pk", filter=Q(status__in=(Delivery.FAILED, Delivery.DEAD))),
        oldest_pending=Min("created_at", filter=unfinished),
    )
    head_seq = ActivityHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
    checkpoint = Checkpoint.objects.order_by("-seq").values("seq", "created_at").first()
    return {
        "deliveries_pending": deliveries["pending"],
        "deliveries_failed": deliveries["failed"],
        "oldest_pending_delivery_age": _seconds_since(deliveries["oldest_pending"], now) or 0.0,
        "transition_requests_pending": TransitionRequest.objects.filter(status=TransitionRequest.PENDING).count(),
        "lineage_pending": ModelVersion.objects.live().filter(lineage_status=LINEAGE_RESOLVING).count(),
        "activity_head_seq": head_seq,
        "rows_since_checkpoint": head_seq - (checkpoint["seq"] if checkpoint else 0),
        "seconds_since_checkpoint": _seconds_since(checkpoint and checkpoint["created_at"], now),
        "worker_heartbeat_age": heartbeat.age(),
    }
