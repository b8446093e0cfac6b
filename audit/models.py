"""The activity log's tables: the rows and the chain's head."""

from datetime import timezone as dt_timezone

from django.db import models


def iso(moment):
    """A moment as the log hashes and signs it: ISO 8601 in UTC."""
    return moment.astimezone(dt_timezone.utc).isoformat()


class Activity(models.Model):
    """One row of the append-only, hash-chained activity log.

    No foreign keys: the log outlives the users, models and versions it mentions, and a
    cascading UPDATE or DELETE would be refused by the append-only trigger anyway.
    """

    seq = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor = models.CharField(max_length=150)
    via = models.CharField(max_length=16)
    event = models.CharField(max_length=64, db_index=True)
    model_uid = models.CharField(max_length=32, blank=True, default="")
    model_name = models.CharField(max_length=256, blank=True, default="")
    version = models.PositiveIntegerField(null=True, blank=True)
    target = models.CharField(max_length=256, blank=True, default="")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    comment = models.TextField(blank=True, default="")
    request_id = models.CharField(max_length=64, blank=True, default="")
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    token_id = models.BigIntegerField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "activities"
        # The tables (and the append-only trigger on PostgreSQL) were created by the
        # registry's first migrations; the audit app took them over as they are.
        db_table = "registry_activity"
        indexes = [
            models.Index(fields=["model_uid", "seq"], name="registry_ac_model_u_18a631_idx"),
            models.Index(fields=["model_name", "version", "seq"], name="registry_ac_model_n_f3238f_idx"),
            models.Index(fields=["created_at"], name="registry_ac_created_a8d771_idx"),
        ]

    def __str__(self):
        return f"#{self.seq} {self.event} by {self.actor}"


class ActivityHead(models.Model):
    """The chain's tip, one row. Locking it serialises appends so seq and prev_hash are exact."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        db_table = "registry_activityhead"


class Checkpoint(models.Model):
    """A signed statement that the activity log's row `seq` had hash `hash`. The signing key
    is outside the database, and every checkpoint is also written outside it (a file, a
    URL), so a rewrite of the log that recomputes the chain still fails verification."""

    seq = models.BigIntegerField(unique=True)
    hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=128)

    class Meta:
        ordering = ["seq"]

    def __str__(self):
        return f"checkpoint #{self.seq}"

    def as_json(self):
        return {
            "seq": self.seq, "hash": self.hash, "created_at": iso(self.created_at),
            "key_id": self.key_id, "signature": self.signature,
        }


class Generation(models.Model):
    """How many activities have touched a scope: one model (scope = its uid) or the registry
    as a whole (scope ''). record() bumps it in the change's own transaction, so a cache of
    what a model's reads render (registry/api/hot.py) is current exactly while the
    generations it was built at still hold: one indexed read tells."""

    scope = models.CharField(max_length=32, primary_key=True)
    value = models.BigIntegerField(default=0)
