"""The activity log's models moved from `registry` to `audit` (audit 0001, registry 0005).
A database whose log was written at the old layout keeps every row, and its chain verifies."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from audit.activity import GENESIS_HASH, compute_hash, record, verify_chain
from audit.ctx import Ctx
from audit.models import Activity

OLD_LAYOUT = [("registry", "0004_version_storage_location"), ("audit", None)]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def write_old_layout_log(apps, count):
    """Rows as the registry wrote them before the move, through its historical models."""
    OldActivity = apps.get_model("registry", "Activity")
    OldHead = apps.get_model("registry", "ActivityHead")
    head, _ = OldHead.objects.get_or_create(pk=1)
    prev = head.hash
    for seq in range(head.seq + 1, head.seq + count + 1):
        row = OldActivity(
            seq=seq, created_at=timezone.now(), actor_id=None, actor="alice", via="api",
            event="registered_model.created", model_uid=f"uid{seq}", model_name=f"model-{seq}",
            version=None, target="", before=None, after={"name": f"model-{seq}"}, comment="",
            request_id=f"req{seq}", client_ip="10.0.0.1", token_id=None, prev_hash=prev,
        )
        row.hash = compute_hash(prev, row)
        row.save(force_insert=True)
        prev = row.hash
    head.seq, head.hash = head.seq + count, prev
    head.save()


@pytest.mark.django_db(transaction=True)
def test_a_log_written_at_the_registry_layout_is_kept_and_verifies_after_the_move(capsys):
    executor = migrate(OLD_LAYOUT)
    try:
        old_apps = executor.loader.project_state(OLD_LAYOUT[:1]).apps
        write_old_layout_log(old_apps, 5)
    finally:
        migrate(latest())

    assert list(Activity.objects.values_list("seq", flat=True)) == [1, 2, 3, 4, 5]
    assert Activity.objects.get(seq=1).prev_hash == GENESIS_HASH
    call_command("verify_activity")
    assert "Activity log OK: 5 rows, hash chain intact." in capsys.readouterr().out

    # The log goes on where the old layout left it.
    row = record(Ctx.system(), event="registered_model.created", comment="after the move")
    assert (row.seq, row.prev_hash) == (6, Activity.objects.get(seq=5).hash)
    assert verify_chain().ok
    assert ContentType.objects.filter(app_label="audit", model="activity").exists()
    assert not ContentType.objects.filter(app_label="registry", model="activity").exists()


@pytest.mark.django_db(transaction=True)
def test_the_append_only_trigger_still_guards_the_moved_table():
    record(Ctx.system(), event="registered_model.created")

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Activity.objects.update(comment="rewritten")
