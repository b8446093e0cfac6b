"""The activity log's own write: a signed checkpoint of its head."""

from django.db import transaction
from django.utils import timezone

from . import checkpoints, events, signing
from .activity import record
from .models import Activity, ActivityHead, Checkpoint, iso


def checkpoint_create(ctx):
    """Sign the log's head so that a later rewrite of any row up to it fails verification,
    and write the checkpoint outside the database after commit. The checkpoint's own activity
    row is the head it signs. Nothing happens (None) when the log is empty or nothing was
    recorded since the last checkpoint, so an idle registry does not fill its log."""
    with transaction.atomic():
        head, _ = ActivityHead.objects.select_for_update().get_or_create(pk=1)
        last_event = Activity.objects.filter(seq=head.seq).values_list("event", flat=True).first()
        if head.seq == 0 or last_event == events.ACTIVITY_CHECKPOINTED:
            return None
        row = record(ctx, event=events.ACTIVITY_CHECKPOINTED, target=str(head.seq + 1),
                     after={"covers": f"rows 1 to {head.seq + 1}"})
        created_at = timezone.now()
        kid, signature = signing.sign(row.seq, row.hash, iso(created_at))
        checkpoint = Checkpoint.objects.create(
            seq=row.seq, hash=row.hash, created_at=created_at, key_id=kid, signature=signature,
        )
        published = checkpoint.as_json()
        transaction.on_commit(lambda: checkpoints.publish(published))
    return checkpoint
