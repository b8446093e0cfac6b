"""Lineage: the run (on the MLflow tracking server) that built a version, and what reviewers see
of it. A version is registered at once; its run is resolved after commit by a Celery task
(registry/tasks.py, retried while the tracking server is unreachable), which records the result
with actions.version_lineage_record. What pages show of the run (metrics, params, datasets) is
read from the tracking server and cached for MODELGATE_TRACKING_CACHE_SECONDS.

Tasks are sent by name (as webhooks/enqueue.py does), so nothing below tasks.py imports it."""

import logging
import re
from dataclasses import asdict, dataclass
from datetime import timedelta
from urllib.parse import quote

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from . import tracking
from .models import LINEAGE_NONE, LINEAGE_RESOLVED, LINEAGE_RESOLVING, ModelVersion

logger = logging.getLogger(__name__)

RESOLVE = "registry.tasks.resolve_lineage"
# Run, experiment and logged-model ids as MLflow makes them; anything else from the tracking
# server is not stored.
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MAX_DELAY_SECONDS = 3600


@dataclass(frozen=True)
class Resolution:
    """What the tracking server says about a version: its run and experiment, or why not."""
    run_id: str = ""
    experiment_id: str = ""
    run_link: str = ""
    reason: str = ""  # set: the lineage is unavailable, and this says why

    def as_kwargs(self):
        return asdict(self)


def resolve_after_commit(version_id):
    transaction.on_commit(lambda: send(version_id))


def send(version_id, countdown=None):
    """Ask Celery to resolve this version's lineage. A broker outage must not fail the
    registration that asked: it is logged, the version stays "resolving", and the sweep
    (sweep_due) hands it off again. Returns whether the broker took it."""
    try:
        # retry=False: one try, so a broker that is down costs a connect timeout, not Celery's
        # retries; the sweep is the retry.
        current_app.send_task(RESOLVE, args=(version_id,), countdown=countdown, ignore_result=True, retry=False)
    except Exception:  # broker unreachable
        logger.warning("Could not enqueue lineage of version %s; the sweep will", version_id, exc_info=True)
        return False
    expect_attempt(version_id, countdown or 0)
    return True


def _handoff_key(version_id):
    return f"lineage:handed-off:{version_id}"


def expect_attempt(version_id, within):
    """Note that an attempt at this version is on its way within `within` seconds (a hand-off,
    or the task's own retry): the sweep leaves it alone until that time and the grace period
    have passed. The note lives in Django's cache; lost, it costs one redundant attempt."""
    try:
        cache.set(_handoff_key(version_id), 1, within + settings.MODELGATE_LINEAGE_HANDOFF_GRACE_SECONDS)
    except Exception:  # the cache is the broker's Redis too: then the sweep hands it off again
        logger.warning("Could not note the lineage hand-off of version %s", version_id, exc_info=True)


SWEEP_LIMIT = 100


def sweep_due(limit=SWEEP_LIMIT):
    """Hand off again, oldest first and at most `limit` at a time, the resolutions still pending
    for longer than the grace period with no attempt expected (their hand-off was lost).
    Idempotent: the task does nothing for a version no longer resolving, and the action
    records a result once. Returns the version ids handed off."""
    cutoff = timezone.now() - timedelta(seconds=settings.MODELGATE_LINEAGE_HANDOFF_GRACE_SECONDS)
    pending = list(
        ModelVersion.objects.live().filter(lineage_status=LINEAGE_RESOLVING, created_at__lt=cutoff)
        .order_by("created_at").values_list("pk", flat=True)[: limit * 4]
    )
    expected = cache.get_many([_handoff_key(pk) for pk in pending]) if pending else {}
    due = [pk for pk in pending if _handoff_key(pk) not in expected][:limit]
    return [pk for pk in due if send(pk)]


def retry_delay(retries):
    """Seconds before attempt `retries + 2`: doubling from MODELGATE_LINEAGE_RETRY_SECONDS,
    at most an hour."""
    return min(settings.MODELGATE_LINEAGE_RETRY_SECONDS * 2 ** retries, MAX_DELAY_SECONDS)


def resolve(version):
    """The version's run and experiment from the tracking server: a `models:/m-...` source or a
    model_id through the logged model (its source run), a run id (from a `runs:/` source or
    the client) through the run. Raises tracking.TrackingUnreachable when worth trying again."""
    run_id = version.run_id
    try:
        experiment_id = ""
        if version.logged_model_id:
            info = tracking.logged_model(version.logged_model_id)
            run_id = run_id or str(info.get("source_run_id") or "")
            experiment_id = str(info.get("experiment_id") or "")
        if run_id:
            experiment_id = str(tracking.run(run_id).get("info", {}).get("experiment_id") or "")
    except tracking.TrackingNotFound as exc:
        return Resolution(reason=str(exc))
    if not all(_ID.match(value) for value in (run_id, experiment_id) if value):
        return Resolution(reason="the tracking server answered ids Modelgate cannot store")
    if not experiment_id:
        return Resolution(reason="the tracking server does not say which experiment the version comes from")
    link = tracking.run_url(experiment_id, run_id) if run_id else ""
    return Resolution(run_id=run_id, experiment_id=experiment_id, run_link=version.run_link or link)


def run_details(run_id):
    """The run's name, status, experiment, latest metrics, params and dataset inputs, from the
    tracking server, cached for MODELGATE_TRACKING_CACHE_SECONDS (failures too, so a tracking
    server that is down costs one timeout per period, not one per page)."""
    key = f"lineage:run:{quote(run_id, safe='')}"
    details = cache.get(key)
    if details is None:
        try:
            details = _fetch_run(run_id)
        except (tracking.TrackingUnreachable, tracking.TrackingNotFound) as exc:
            details = {"error": str(exc)}
        cache.set(key, details, settings.MODELGATE_TRACKING_CACHE_SECONDS)
    return details


def _fetch_run(run_id):
    run = tracking.run(run_id)
    info, data = run.get("info", {}), run.get("data", {})
    experiment_id = str(info.get("experiment_id") or "")
    experiment = tracking.experiment(experiment_id) if experiment_id else {}
    return {
        "error": "",
        "run_name": info.get("run_name", ""),
        "run_status": info.get("status", ""),
        "experiment_id": experiment_id,
        "experiment_name": experiment.get("name", ""),
        "metrics": sorted(
            ({"key": m["key"], "value": m["value"], "step": int(m.get("step", 0)),
              "timestamp": int(m.get("timestamp", 0))} for m in data.get("metrics", [])),
            key=lambda m: m["key"],
        ),
        "params": sorted(({"key": p["key"], "value": p["value"]} for p in data.get("params", [])),
                         key=lambda p: p["key"]),
        "datasets": [_dataset(entry) for entry in run.get("inputs", {}).get("dataset_inputs", [])],
    }


def _dataset(entry):
    dataset = entry.get("dataset", {})
    tags = {tag.get("key"): tag.get("value") for tag in entry.get("tags", [])}
    return {
        "name": dataset.get("name", ""), "digest": dataset.get("digest", ""),
        "source_type": dataset.get("source_type", ""), "context": tags.get("mlflow.data.context", ""),
    }


def of(version):
    """A version's lineage as the API renders it and pages show it: its status (none, resolving,
    resolved, unavailable) and reason, what is stored, and for a known run its details."""
    lineage = {
        "status": version.lineage_status,
        "reason": version.lineage_reason,
        "run_id": version.run_id,
        "run_link": version.run_link,
        "experiment_id": version.experiment_id,
        "logged_model_id": version.logged_model_id,
        "run_name": "", "run_status": "", "experiment_name": "",
        "metrics": [], "params": [], "datasets": [], "details_error": "",
    }
    if version.lineage_status == LINEAGE_NONE:
        lineage["reason"] = (
            "the version names no run or logged model" if tracking.configured()
            else "no tracking server is configured (MODELGATE_TRACKING_URI)"
        )
    if version.lineage_status == LINEAGE_RESOLVED and version.run_id and tracking.configured():
        details = dict(run_details(version.run_id))
        details.pop("experiment_id", None)  # the stored one was resolved with the run
        lineage["details_error"] = details.pop("error")
        lineage.update(details)
    return lineage


def metric_deltas(candidate, baseline):
    """Every metric of either lineage: {key, value, baseline, delta}, delta = value - baseline
    where both have it."""
    mine = {m["key"]: m["value"] for m in candidate["metrics"]}
    theirs = {m["key"]: m["value"] for m in baseline["metrics"]}
    rows = []
    for key in sorted(mine.keys() | theirs.keys()):
        value, base = mine.get(key), theirs.get(key)
        delta = value - base if value is not None and base is not None else None
        rows.append({"key": key, "value": value, "baseline": base, "delta": delta})
    return rows
