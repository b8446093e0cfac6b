"""The activity log: record() appends one hash-chained row and hands it to subscribers.

Each row stores the hash of the previous row and its own hash, SHA-256 over the previous hash
and a canonical JSON of the row, so altering, removing or reordering rows breaks the chain
(`manage.py verify_activity`). On PostgreSQL a trigger also refuses UPDATE and DELETE.
"""

import hashlib
import ipaddress
import json
from dataclasses import dataclass
from datetime import timezone as dt_timezone

from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone

from . import events, signing
from .models import Activity, ActivityHead, Generation

GENESIS_HASH = "0" * 64

# Sent synchronously inside the recording transaction with `activity`, `ctx` and `model` (the
# RegisteredModel the caller changed, or None). The webhooks and notifications apps connect
# to it in their AppConfig.ready(); a receiver that raises aborts the whole change.
activity_recorded = Signal()


def _jsonable(value):
    return None if value is None else json.loads(json.dumps(value, default=str))


def _clean_ip(value):
    # The inet column cannot hold an IPv6 zone ("fe80::1%eth0"); the address without it can.
    try:
        return ipaddress.ip_address(value.split("%", 1)[0]).compressed if value else None
    except ValueError:
        return None


def canonical_fields(row):
    return {
        "seq": row.seq,
        "created_at": row.created_at.astimezone(dt_timezone.utc).isoformat(),
        "actor_id": row.actor_id,
        "actor": row.actor,
        "via": row.via,
        "event": row.event,
        "model_uid": row.model_uid,
        "model_name": row.model_name,
        "version": row.version,
        "target": row.target,
        "before": row.before,
        "after": row.after,
        "comment": row.comment,
        "request_id": row.request_id,
        # PostgreSQL spells some addresses its own way (::ffff:1.2.3.4 comes back dotted,
        # Python writes ::ffff:102:304): hash the address, not the database's spelling of it.
        "client_ip": _clean_ip(row.client_ip),
        "token_id": row.token_id,
    }


def _canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compute_hash(prev_hash, row):
    body = _canonical(canonical_fields(row))
    return hashlib.sha256(prev_hash.encode() + body.encode()).hexdigest()


def record(ctx, *, event, model=None, version=None, target="", before=None, after=None, comment=""):
    """Append one activity for the change the caller is making, in the caller's transaction."""
    if event not in events.ALL:
        raise ValueError(f"Unknown event {event!r}: add it to audit/events.py")
    if version is not None and model is None:
        model = version.model
    row = Activity(
        created_at=timezone.now(),
        actor_id=getattr(ctx.user, "pk", None),
        actor=ctx.username,
        via=ctx.via,
        event=event,
        model_uid=model.uid if model else "",
        model_name=model.name if model else "",
        version=version.version if version is not None else None,
        target=target or "",
        before=_jsonable(before),
        after=_jsonable(after),
        comment=comment or "",
        request_id=ctx.request_id or "",
        client_ip=_clean_ip(ctx.client_ip),
        token_id=ctx.token_id,
    )
    # No savepoint of its own: a failure here aborts the caller's change anyway, and every
    # round trip from the head's lock to commit is spent holding it.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            _append_in_one_statement(row)
        else:
            _append(row)
        activity_recorded.send(sender=Activity, activity=row, ctx=ctx, model=model)
    return row


def _append(row):
    """Lock the head, link the row to it, write both and bump the generation."""
    # get_or_create: `manage.py flush` (and the test runner, between transactional tests)
    # empties every table, including the head row the migration seeded.
    head, _ = ActivityHead.objects.select_for_update().get_or_create(pk=1)
    row.seq, row.prev_hash = head.seq + 1, head.hash
    row.hash = compute_hash(head.hash, row)
    row.save(force_insert=True)
    head.seq, head.hash = row.seq, row.hash
    head.save(update_fields=["seq", "hash"])
    _bump_generation(row.model_uid)


def _canonical_around_seq(row):
    """The row's canonical JSON (compute_hash) as the text before and after its seq, which
    only the database knows yet: sorted keys, so it is the same text json.dumps would give."""
    items = sorted(canonical_fields(row).items())
    before = "".join(f"{_canonical(key)}:{_canonical(value)}," for key, value in items if key < "seq")
    after = "".join(f",{_canonical(key)}:{_canonical(value)}" for key, value in items if key > "seq")
    return "{" + before + '"seq":', after + "}"


def _append_in_one_statement(row):
    """What _append does, in one statement: the head is locked, linked and moved inside
    PostgreSQL, so the lock is held for one round trip fewer than four before commit. The
    hash is SHA-256 over the same bytes compute_hash() reads (verify_chain() recomputes it
    in Python); the generation bump rides along."""
    row.seq = 0  # canonical_fields() reads it; the database puts the real one in the text
    prefix, suffix = _canonical_around_seq(row)
    activity, head, generation = Activity._meta.db_table, ActivityHead._meta.db_table, Generation._meta.db_table
    sql = f"""
        WITH head AS (SELECT seq + 1 AS seq, hash AS prev FROM {head} WHERE id = 1 FOR UPDATE),
        linked AS (
            SELECT seq, prev, encode(sha256(convert_to(prev || %s || seq::text || %s, 'UTF8')), 'hex') AS hash
            FROM head
        ),
        inserted AS (
            INSERT INTO {activity} (seq, created_at, actor_id, actor, via, event, model_uid, model_name,
                                    version, target, before, after, comment, request_id, client_ip,
                                    token_id, prev_hash, hash)
            SELECT seq, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s::inet, %s, prev, hash
            FROM linked
            RETURNING id, seq, prev_hash, hash
        ),
        moved AS (UPDATE {head} SET seq = inserted.seq, hash = inserted.hash FROM inserted WHERE {head}.id = 1),
        bumped AS (
            INSERT INTO {generation} (scope, value) SELECT %s, 1 FROM inserted
            ON CONFLICT (scope) DO UPDATE SET value = {generation}.value + 1
        )
        SELECT id, seq, prev_hash, hash FROM inserted"""
    params = [
        prefix, suffix, row.created_at, row.actor_id, row.actor, row.via, row.event, row.model_uid,
        row.model_name, row.version, row.target,
        None if row.before is None else json.dumps(row.before), None if row.after is None else json.dumps(row.after),
        row.comment, row.request_id, row.client_ip, row.token_id, row.model_uid,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        appended = cursor.fetchone()
        if appended is None:
            # No head row: `manage.py flush` (and the test runner, between transactional
            # tests) empties every table, including the one the migration seeded.
            cursor.execute(f"INSERT INTO {head} (id, seq, hash) VALUES (1, 0, %s) ON CONFLICT DO NOTHING", [GENESIS_HASH])
            cursor.execute(sql, params)
            appended = cursor.fetchone()
    row.pk, row.seq, row.prev_hash, row.hash = appended
    row._state.adding, row._state.db = False, connection.alias


def _bump_generation(scope):
    # The change's model, or the whole registry when it names none (people, tokens, teams,
    # registry-wide grants and policies): what a cached read of that scope may depend on.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Generation._meta.db_table} (scope, value) VALUES (%s, 1) "
            f"ON CONFLICT (scope) DO UPDATE SET value = {Generation._meta.db_table}.value + 1",
            [scope],
        )


@dataclass
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""


def verify_chain(chunk_size=2000):
    """Walk the whole log; report the first row that was altered, removed or reordered."""
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    for row in Activity.objects.order_by("seq").iterator(chunk_size=chunk_size):
        if row.seq != expected_seq:
            return ChainReport(
                False, checked, expected_seq,
                f"row #{expected_seq} is missing (next row found is #{row.seq})",
            )
        if row.prev_hash != prev_hash:
            return ChainReport(
                False, checked, row.seq,
                f"row #{row.seq} does not follow row #{row.seq - 1} (removed or reordered)",
            )
        if compute_hash(prev_hash, row) != row.hash:
            return ChainReport(False, checked, row.seq, f"row #{row.seq} was altered")
        prev_hash, expected_seq, checked = row.hash, expected_seq + 1, checked + 1
    head = ActivityHead.objects.filter(pk=1).first()
    if head is not None and head.seq != checked:
        return ChainReport(
            False, checked, checked + 1,
            f"the log ends at row #{checked} but {head.seq} rows were written (rows removed)",
        )
    if head is not None and head.seq and head.hash != prev_hash:
        return ChainReport(False, checked, checked, f"row #{checked} does not match the chain head")
    return ChainReport(True, checked)


def verify_checkpoints(database_checkpoints, external_checkpoints, public_key=None):
    """Check signed checkpoints against the log: each must carry a valid signature, name a
    row that exists, and match that row's hash. `database_checkpoints` are the ones stored
    beside the log; `external_checkpoints` the copies kept outside the database (a file,
    a collector): one there but not in the database was removed from it. Returns
    (ChainReport, how many checkpoints were verified)."""
    by_seq = {}
    for checkpoint in [*database_checkpoints, *external_checkpoints]:
        seen = by_seq.setdefault(checkpoint["seq"], checkpoint)
        if seen != checkpoint:
            return ChainReport(False, 0, checkpoint["seq"],
                               f"two different checkpoints claim row #{checkpoint['seq']}"), 0
    stored = {c["seq"] for c in database_checkpoints}
    hashes = dict(Activity.objects.filter(seq__in=by_seq).values_list("seq", "hash"))
    for seq in sorted(by_seq):
        checkpoint = by_seq[seq]
        if not signing.verifies(checkpoint, public_key):
            return ChainReport(False, 0, seq, f"the checkpoint of row #{seq} has no valid signature (forged, or another key)"), 0
        if seq not in stored:
            return ChainReport(False, 0, seq, f"the checkpoint of row #{seq} was removed from the database"), 0
        if seq not in hashes:
            return ChainReport(False, 0, seq, f"row #{seq} was signed by a checkpoint but is gone (rows removed)"), 0
        if hashes[seq] != checkpoint["hash"]:
            return ChainReport(False, 0, seq, f"row #{seq} differs from its signed checkpoint: the log was rewritten"), 0
    return ChainReport(True, len(by_seq)), len(by_seq)
