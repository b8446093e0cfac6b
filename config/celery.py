import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("modelgate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task=None, **kwargs):
    """What Django does around a request, around a task: a connection older than CONN_MAX_AGE,
    or broken by an error, is closed (CELERY_DB_REUSE_MAX keeps Celery from closing every one).
    Not for a task run eagerly (apply()): that is the caller's connection, maybe mid-transaction."""
    from django.db import close_old_connections

    if not getattr(getattr(task, "request", None), "is_eager", False):
        close_old_connections()
