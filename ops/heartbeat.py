"""The workers' heartbeat: beat sends ops.tasks.worker_heartbeat every
MODELGATE_WORKER_HEARTBEAT_SECONDS and whichever worker runs it stamps the time in the shared
cache (Redis, or files under VAR_DIR). Its age therefore says that beat, the broker and at
least one worker all worked that recently; it cannot say how many workers there are."""

import socket
import time

from django.core.cache import cache

CACHE_KEY = "ops:worker-heartbeat"


def beat():
    cache.set(CACHE_KEY, {"at": time.time(), "host": socket.gethostname()}, timeout=None)


def age():
    """Seconds since the last heartbeat, or None if no worker ever wrote one."""
    last = cache.get(CACHE_KEY)
    return None if last is None else max(0.0, time.time() - last["at"])
