"""Celery beat: the workers' heartbeat (ops/heartbeat.py)."""

from celery import shared_task

from . import heartbeat


@shared_task(ignore_result=True)
def worker_heartbeat():
    heartbeat.beat()
