"""The activity log: hash-chained, append-only on PostgreSQL, and verifiable
(audit/activity.py, `manage.py verify_activity`)."""

from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit import events
from audit.activity import GENESIS_HASH, compute_hash, record, verify_chain
from audit.ctx import Ctx
from audit.models import Activity, ActivityHead
from registry import actions


@pytest.fixture
def log(owner_ctx):
    """Eight activities: a model, three versions, a tag, an alias, a transition, an update."""
    actions.model_create(owner_ctx, name="fraud")
    for _ in range(3):
        actions.version_create(owner_ctx, name="fraud", source="s3://b/p")
    actions.model_tag_set(owner_ctx, name="fraud", key="team", value="risk")
    actions.alias_set(owner_ctx, name="fraud", alias="champion", version="2")
    actions.version_transition(owner_ctx, name="fraud", version="2", stage="Production")
    actions.model_update(owner_ctx, name="fraud", description="Card fraud")
    assert Activity.objects.count() == 8


@contextmanager
def triggers_off():
    """Tamper as an attacker with database access would: the append-only trigger is bypassed
    for this connection only (we connect as a superuser), then restored."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")


def tamper(sql, params=()):
    with triggers_off(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def verify_command():
    from io import StringIO

    out = StringIO()
    call_command("verify_activity", stdout=out)
    return out.getvalue()


# The chain -----------------------------------------------------------------------------------

def test_rows_are_numbered_from_1_and_each_links_to_the_previous_hash(log):
    rows = list(Activity.objects.order_by("seq"))

    assert [row.seq for row in rows] == list(range(1, 9))
    assert rows[0].prev_hash == GENESIS_HASH
    for previous, row in zip(rows, rows[1:]):
        assert row.prev_hash == previous.hash
    for row in rows:
        assert row.hash == compute_hash(row.prev_hash, row)
    assert len({row.hash for row in rows}) == 8


def test_the_chain_head_holds_the_last_row(log):
    last = Activity.objects.order_by("-seq").first()

    head = ActivityHead.objects.get()
    assert (head.seq, head.hash) == (last.seq, last.hash)


def test_a_row_records_who_did_what_through_which_channel(owner, owner_ctx):
    actions.model_create(owner_ctx, name="fraud")

    row = Activity.objects.get()
    assert (row.actor_id, row.actor, row.via) == (owner.pk, "owner", "api")
    assert (row.event, row.model_name, row.client_ip) == (events.MODEL_CREATED, "fraud", "127.0.0.1")
    assert row.request_id == owner_ctx.request_id


def test_the_system_itself_is_recorded_as_system(db):
    row = record(Ctx.system(), event=events.MODEL_UPDATED)

    assert (row.actor_id, row.actor, row.via) == (None, "system", "system")


def test_recording_an_unknown_event_is_refused(owner_ctx):
    with pytest.raises(ValueError, match="Unknown event"):
        record(owner_ctx, event="registered_model.exploded")

    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    "client_ip",
    ["203.0.113.9", "2001:db8::1", "::ffff:203.0.113.9", "::203.0.113.9", "2001:db8:0:0:1:0:0:1"],
)
def test_client_addresses_however_postgresql_spells_them_keep_the_chain_intact(owner, client_ip):
    # A dual-stack server sees IPv4 clients as ::ffff:a.b.c.d; PostgreSQL's inet spells those
    # back differently from Python, and the hash must not depend on the spelling.
    actions.model_create(Ctx(user=owner, client_ip=client_ip), name="fraud")

    assert Activity.objects.get().client_ip is not None
    assert verify_chain().ok


def test_an_address_with_an_ipv6_zone_is_recorded_without_the_zone(owner):
    actions.model_create(Ctx(user=owner, client_ip="fe80::1%eth0"), name="fraud")

    assert Activity.objects.get().client_ip == "fe80::1"
    assert verify_chain().ok


def test_something_that_is_not_an_address_is_recorded_as_no_address(owner):
    actions.model_create(Ctx(user=owner, client_ip="unknown"), name="fraud")

    assert Activity.objects.get().client_ip is None


def test_the_hash_postgresql_computes_is_the_one_python_recomputes(owner):
    # On PostgreSQL, record() links and hashes a row inside one statement (the text around
    # its seq is built in Python); verification recomputes it in Python. Text that could trip
    # the splice: non-ASCII, quotes, a nested "seq" key, a '"seq":' inside a string.
    ctx = Ctx(user=owner, client_ip="::ffff:203.0.113.9", request_id="r-1")
    rows = [
        record(ctx, event=events.MODEL_UPDATED, target='Modèle "β" 🚀', comment='"seq":0, "seq": 1',
               before={"seq": 7, "nested": {"seq": [1, "é"]}}, after={"z": None, "a": 1.5}),
        record(ctx, event=events.MODEL_UPDATED, before=None, after=None),
    ]
    stored = list(Activity.objects.order_by("seq"))
    assert [(r.seq, r.hash) for r in rows] == [(s.seq, s.hash) for s in stored]
    for row in stored:
        assert row.hash == compute_hash(row.prev_hash, row)
    assert stored[1].prev_hash == stored[0].hash
    assert verify_chain().ok


def test_recording_starts_a_new_chain_when_the_head_row_is_gone(owner_ctx):
    # `manage.py flush` (and the test runner between transactional tests) empties every table,
    # including the head row the migration seeded.
    ActivityHead.objects.all().delete()

    actions.model_create(owner_ctx, name="fraud")
    actions.model_create(owner_ctx, name="churn")

    assert list(Activity.objects.values_list("seq", flat=True)) == [1, 2]
    assert verify_chain().ok


# Verification --------------------------------------------------------------------------------

def test_verification_passes_on_an_intact_log(log):
    report = verify_chain()

    assert report.ok
    assert report.checked == 8
    assert report.first_bad_seq is None
    assert "Activity log OK: 8 rows" in verify_command()


def test_verification_passes_on_an_empty_log(db):
    assert verify_chain().ok
    assert "Activity log OK: 0 rows" in verify_command()


def test_verification_reads_the_log_in_chunks(log):
    assert verify_chain(chunk_size=3).ok


@pytest.mark.parametrize(
    "column, value",
    [("comment", "nothing to see"), ("actor", "someone-else"), ("event", events.MODEL_DELETED),
     ("after", '{"stage": "Archived"}'), ("created_at", "2020-01-01T00:00:00Z")],
)
def test_verification_finds_an_altered_row(log, column, value):
    tamper(f"UPDATE registry_activity SET {column} = %s WHERE seq = 5", [value])

    report = verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 5
    assert report.checked == 4
    assert "row #5 was altered" in report.problem


def test_the_command_fails_naming_the_altered_row(log):
    tamper("UPDATE registry_activity SET comment = 'x' WHERE seq = 3")

    with pytest.raises(CommandError, match=r"FAILED at row #3: row #3 was altered"):
        verify_command()


def test_verification_finds_a_deleted_row(log):
    tamper("DELETE FROM registry_activity WHERE seq = 4")

    report = verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 4
    assert "row #4 is missing" in report.problem
    with pytest.raises(CommandError, match="row #4"):
        verify_command()


def test_verification_finds_the_first_row_deleted(log):
    tamper("DELETE FROM registry_activity WHERE seq = 1")

    assert verify_chain().first_bad_seq == 1


def test_verification_finds_the_last_rows_deleted(log):
    tamper("DELETE FROM registry_activity WHERE seq >= 7")

    report = verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 7
    assert "rows removed" in report.problem


def test_verification_finds_a_row_rewritten_with_a_recomputed_hash(log):
    # The forger fixes the row's own hash, but the next row still links to the old one.
    row = Activity.objects.get(seq=5)
    row.comment = "forged"
    tamper(
        "UPDATE registry_activity SET comment = %s, hash = %s WHERE seq = 5",
        [row.comment, compute_hash(row.prev_hash, row)],
    )

    report = verify_chain()

    assert (report.ok, report.first_bad_seq) == (False, 6)
    assert "does not follow row #5" in report.problem


def test_verification_finds_a_rewritten_tail_by_the_chain_head(log):
    # Rewriting row 8, the last one, leaves no next row to disagree: the head does.
    row = Activity.objects.get(seq=8)
    row.comment = "forged"
    tamper(
        "UPDATE registry_activity SET comment = %s, hash = %s WHERE seq = 8",
        [row.comment, compute_hash(row.prev_hash, row)],
    )

    report = verify_chain()

    assert (report.ok, report.first_bad_seq) == (False, 8)
    assert "chain head" in report.problem


def test_verification_finds_two_rows_swapped(log):
    tamper(
        "UPDATE registry_activity SET seq = -3 WHERE seq = 3;"
        "UPDATE registry_activity SET seq = 3 WHERE seq = 4;"
        "UPDATE registry_activity SET seq = 4 WHERE seq = -3"
    )

    report = verify_chain()

    assert (report.ok, report.first_bad_seq) == (False, 3)


# Append-only in the database -----------------------------------------------------------------

def test_the_database_refuses_to_update_an_activity_row(log):
    with pytest.raises(DatabaseError, match="append-only: UPDATE is not allowed"):
        with transaction.atomic():
            Activity.objects.filter(seq=2).update(comment="rewritten")

    assert Activity.objects.get(seq=2).comment == ""


def test_the_database_refuses_to_update_a_row_with_raw_sql(log):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE registry_activity SET actor = 'x'")

    assert set(Activity.objects.values_list("actor", flat=True)) == {"owner"}


def test_the_database_refuses_to_delete_an_activity_row(log):
    with pytest.raises(DatabaseError, match="append-only: DELETE is not allowed"):
        with transaction.atomic():
            Activity.objects.filter(seq=8).delete()

    assert Activity.objects.count() == 8
    assert verify_chain().ok


def test_tampering_leaves_the_trigger_on_for_everyone_else(log):
    tamper("UPDATE registry_activity SET comment = 'x' WHERE seq = 1")

    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic():
            Activity.objects.filter(seq=1).update(comment="y")
