"""Signed checkpoints of the activity log (`manage.py activity_checkpoint`, the beat task, the
checkpoints API, `manage.py verify_activity`): someone who can rewrite the database, and
recompute the hash chain with the documented recipe, still cannot pass verification, because
the signing key and the checkpoint copies are out of the database's reach."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import StringIO

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.db import DatabaseError, transaction

from audit import events, signing
from audit.activity import GENESIS_HASH, compute_hash, verify_chain
from audit.ctx import Ctx
from audit.models import Activity, ActivityHead, Checkpoint
from audit.tasks import checkpoint_activity
from registry import actions
from tests.audit.test_activity_log import tamper


@pytest.fixture
def checkpoint_file(tmp_path, settings):
    settings.MODELGATE_ACTIVITY_CHECKPOINT_FILE = str(tmp_path / "outside" / "checkpoints.jsonl")
    return tmp_path / "outside" / "checkpoints.jsonl"


@pytest.fixture
def key_file(tmp_path, settings):
    path = tmp_path / "activity-signing.pem"
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption(),
    ))
    settings.MODELGATE_ACTIVITY_SIGNING_KEY = str(path)
    return path


@pytest.fixture
def log(owner_ctx, checkpoint_file, key_file):
    actions.model_create(owner_ctx, name="fraud")
    for _ in range(3):
        actions.version_create(owner_ctx, name="fraud", source="s3://b/p")
    actions.version_transition(owner_ctx, name="fraud", version="2", stage="Production")


def run(command, *args):
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def checkpoint_now(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return run("activity_checkpoint")


def forge_from(seq, comment):
    """The attack: rewrite row `seq`, then recompute every later hash and the head with the
    documented recipe, so that the chain alone verifies."""
    rows = list(Activity.objects.filter(seq__gte=seq).order_by("seq"))
    prev = Activity.objects.get(seq=seq - 1).hash if seq > 1 else GENESIS_HASH
    for row in rows:
        if row.seq == seq:
            row.comment = comment
        row.prev_hash = prev
        row.hash = compute_hash(prev, row)
        tamper("UPDATE registry_activity SET comment = %s, prev_hash = %s, hash = %s WHERE seq = %s",
               [row.comment, row.prev_hash, row.hash, row.seq])
        prev = row.hash
    tamper("UPDATE registry_activityhead SET hash = %s", [prev])


def test_a_checkpoint_signs_the_head_in_its_own_row_and_is_written_outside_the_database(
    log, checkpoint_file, django_capture_on_commit_callbacks
):
    out = checkpoint_now(django_capture_on_commit_callbacks)

    row = Activity.objects.order_by("-seq").first()
    assert row.event == events.ACTIVITY_CHECKPOINTED and row.actor == "system" and row.via == "cli"
    checkpoint = Checkpoint.objects.get()
    assert (checkpoint.seq, checkpoint.hash) == (row.seq, row.hash)
    assert f"Checkpoint of row #{row.seq}" in out
    (line,) = checkpoint_file.read_text().splitlines()
    assert json.loads(line) == checkpoint.as_json()
    assert signing.verifies(checkpoint.as_json())
    assert "OK: 6 rows, hash chain intact. 1 signed checkpoints verified" in run("verify_activity")


def test_an_idle_log_gets_no_new_checkpoint(log, django_capture_on_commit_callbacks):
    checkpoint_now(django_capture_on_commit_callbacks)
    assert "none written" in checkpoint_now(django_capture_on_commit_callbacks)
    assert checkpoint_activity() is None
    assert Checkpoint.objects.count() == 1

    actions.model_tag_set(Ctx.system(), name="fraud", key="team", value="risk")
    assert checkpoint_activity() == Activity.objects.order_by("-seq").first().seq
    assert Checkpoint.objects.count() == 2


def test_a_rewritten_row_with_a_recomputed_chain_fails_verification(log, django_capture_on_commit_callbacks):
    checkpoint_now(django_capture_on_commit_callbacks)
    forge_from(3, "relabelled by someone with database access")
    assert verify_chain().ok  # the chain alone is fooled...

    with pytest.raises(CommandError, match="row #6 differs from its signed checkpoint: the log was rewritten"):
        run("verify_activity")  # ...the signed checkpoint is not


def test_rows_after_the_last_checkpoint_are_covered_by_the_next_one(log, django_capture_on_commit_callbacks):
    checkpoint_now(django_capture_on_commit_callbacks)
    actions.model_tag_set(Ctx.system(), name="fraud", key="team", value="risk")
    checkpoint_now(django_capture_on_commit_callbacks)
    forge_from(7, "rewritten after the first checkpoint")

    with pytest.raises(CommandError, match="row #8 differs from its signed checkpoint"):
        run("verify_activity")


def test_a_forged_checkpoint_fails_verification(log, checkpoint_file, django_capture_on_commit_callbacks):
    checkpoint_now(django_capture_on_commit_callbacks)
    forge_from(3, "forged")
    # The forger also "re-signs" by writing a checkpoint for the new chain: without the key,
    # only with another one.
    head = ActivityHead.objects.get()
    other = Ed25519PrivateKey.generate()
    forged = {"seq": head.seq, "hash": head.hash, "created_at": "2026-01-01T00:00:00+00:00",
              "key_id": signing.key_id()}
    forged["signature"] = base64.b64encode(other.sign(signing.signed_message(**{
        "seq": forged["seq"], "hash_": forged["hash"], "created_at": forged["created_at"], "kid": forged["key_id"],
    }))).decode()
    tamper("DELETE FROM audit_checkpoint")
    tamper("INSERT INTO audit_checkpoint (seq, hash, created_at, key_id, signature) VALUES (%s, %s, now(), %s, %s)",
           [forged["seq"], forged["hash"], forged["key_id"], forged["signature"]])

    with pytest.raises(CommandError, match="no valid signature|two different checkpoints"):
        run("verify_activity")


def test_a_checkpoint_removed_from_the_database_is_missed_from_the_outside_copy(
    log, django_capture_on_commit_callbacks
):
    checkpoint_now(django_capture_on_commit_callbacks)
    tamper("DELETE FROM audit_checkpoint")

    with pytest.raises(CommandError, match="was removed from the database"):
        run("verify_activity")


def test_rows_removed_below_a_checkpoint_fail_verification(log, django_capture_on_commit_callbacks):
    checkpoint_now(django_capture_on_commit_callbacks)
    tamper("DELETE FROM registry_activity WHERE seq >= 5")
    tamper("UPDATE registry_activityhead SET seq = 4, hash = (SELECT hash FROM registry_activity WHERE seq = 4)")
    assert verify_chain().ok

    with pytest.raises(CommandError, match="row #6 was signed by a checkpoint but is gone"):
        run("verify_activity")


def test_checkpoints_verify_with_the_public_key_alone(log, django_capture_on_commit_callbacks, tmp_path):
    checkpoint_now(django_capture_on_commit_callbacks)
    public = base64.b64encode(signing.public_key_bytes()).decode()
    assert "1 signed checkpoints verified" in run("verify_activity", "--public-key", public)
    stranger = base64.b64encode(signing.public_key_bytes(Ed25519PrivateKey.generate().public_key())).decode()
    with pytest.raises(CommandError, match="no valid signature"):
        run("verify_activity", "--public-key", stranger)


def test_without_a_key_file_the_key_comes_from_the_secret_key(settings):
    settings.MODELGATE_ACTIVITY_SIGNING_KEY = ""
    first = signing.key_id()
    settings.SECRET_KEY = "another-secret-key-for-this-test"
    assert signing.key_id() != first


def test_checkpoints_are_append_only_in_the_database(log, django_capture_on_commit_callbacks):
    checkpoint_now(django_capture_on_commit_callbacks)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Checkpoint.objects.update(hash="0" * 64)


def test_the_checkpoints_api_lists_them_with_the_public_key(log, api_as, owner, django_capture_on_commit_callbacks):
    checkpoint_now(django_capture_on_commit_callbacks)
    api = api_as(owner, prefix="/api/2.0/modelgate/")
    body = api.get("activity/checkpoints").json_body
    assert body["key_id"] == signing.key_id()
    assert base64.b64decode(body["public_key"]) == signing.public_key_bytes()
    assert body["checkpoints"] == [Checkpoint.objects.get().as_json()]
    assert api.get("activity/checkpoints", since_seq=body["checkpoints"][0]["seq"]).json_body["checkpoints"] == []
    bad = api.get("activity/checkpoints", since_seq="many")
    assert bad.status_code == 400 and bad.json_body["error_code"] == "INVALID_PARAMETER_VALUE"


def test_each_checkpoint_is_posted_to_the_configured_url(log, settings, django_capture_on_commit_callbacks):
    received = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        settings.MODELGATE_ACTIVITY_CHECKPOINT_URL = f"http://127.0.0.1:{server.server_port}/checkpoints"
        checkpoint_now(django_capture_on_commit_callbacks)
    finally:
        server.shutdown()
    assert received == [Checkpoint.objects.get().as_json()]
