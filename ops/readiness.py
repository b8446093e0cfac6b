"""What /ready checks: can this node serve? Reads only; each check answers within about a
second, and a failure names only the error's class (the details go to the log, not to
whoever can reach the probe)."""

import logging

from celery import current_app
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from . import heartbeat

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 1.0


def _failed(check, exc):
    logger.warning("Readiness check %s failed: %s", check, exc, exc_info=exc)
    return {"ok": False, "error": type(exc).__name__}


def database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:
        return _failed("database", exc)


def migrations():
    """Every migration on disk is applied (as after `migrate`; not while a deploy is half done)."""
    try:
        executor = MigrationExecutor(connection)
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
        return {"ok": not unapplied, "unapplied": len(unapplied)}
    except Exception as exc:
        return _failed("migrations", exc)


def broker():
    timeouts = {"socket_connect_timeout": BROKER_TIMEOUT_SECONDS, "socket_timeout": BROKER_TIMEOUT_SECONDS}
    try:
        with current_app.connection_for_write(
            connect_timeout=BROKER_TIMEOUT_SECONDS, transport_options=timeouts
        ) as conn:
            conn.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_SECONDS)
        return {"ok": True}
    except Exception as exc:
        return _failed("broker", exc)


def worker():
    """The heartbeat's age. Stale after three missed beats. It decides readiness only with
    MODELGATE_READY_REQUIRES_WORKER: web nodes can serve while the workers are down (webhook
    deliveries wait in the outbox), and taking every web node out at once for that would
    turn a delay into an outage."""
    required = settings.MODELGATE_READY_REQUIRES_WORKER
    try:
        age = heartbeat.age()
    except Exception as exc:
        return {**_failed("worker", exc), "heartbeat_age_seconds": None, "required": required}
    fresh = age is not None and age <= 3 * settings.MODELGATE_WORKER_HEARTBEAT_SECONDS
    return {"ok": fresh, "heartbeat_age_seconds": None if age is None else round(age, 3), "required": required}


def report():
    """(ready, checks)."""
    checks = {"database": database(), "migrations": migrations(), "broker": broker(), "worker": worker()}
    needed = ["database", "migrations", "broker"] + (["worker"] if checks["worker"]["required"] else [])
    return all(checks[name]["ok"] for name in needed), checks
