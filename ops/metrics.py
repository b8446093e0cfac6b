"""Prometheus metrics (prometheus-client), all named modelgate_*.

Requests are counted and timed by ops.middleware as they happen. The registry's queues and
the activity log are read from the database when /metrics is scraped (ops.selectors), so
every web node reports the same values for them.

With several gunicorn worker processes, set PROMETHEUS_MULTIPROC_DIR to an empty directory
writable by all of them (bin/run-local does): each process then writes its counts there and a
scrape of any one process adds up all of them. Without it, each process reports only its own
requests."""

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from . import selectors

# Created unregistered: each scrape builds its own registry (see exposition()).
REQUESTS = Counter(
    "modelgate_http_requests", "HTTP requests served, by method, URL pattern and status.",
    ["method", "route", "status"], registry=None,
)
LATENCY = Histogram(
    "modelgate_http_request_duration_seconds", "Time to answer an HTTP request, by method and URL pattern.",
    ["method", "route"], registry=None,
)


class RegistryStateCollector:
    """The queues and the activity log, read at scrape time."""

    GAUGES = (
        ("modelgate_webhook_deliveries_pending", "deliveries_pending",
         "Webhook deliveries not yet delivered nor given up (pending or in flight)."),
        ("modelgate_webhook_deliveries_failed", "deliveries_failed",
         "Webhook deliveries given up: refused by the receiver, or out of retries."),
        ("modelgate_webhook_oldest_pending_delivery_age_seconds", "oldest_pending_delivery_age",
         "Age of the oldest webhook delivery still pending (0 when none is)."),
        ("modelgate_transition_requests_pending", "transition_requests_pending",
         "Stage and alias requests waiting for a review."),
        ("modelgate_lineage_pending", "lineage_pending",
         "Versions whose run is still being looked up on the tracking server (lineage resolving)."),
        ("modelgate_activity_head_seq", "activity_head_seq",
         "Sequence number of the activity log's last row."),
        ("modelgate_activity_rows_since_last_checkpoint", "rows_since_checkpoint",
         "Activity rows recorded after the last signed checkpoint."),
        ("modelgate_activity_seconds_since_last_checkpoint", "seconds_since_checkpoint",
         "Seconds since the last signed checkpoint of the activity log (absent before the first)."),
        ("modelgate_worker_heartbeat_age_seconds", "worker_heartbeat_age",
         "Seconds since a Celery worker last ran the beat's heartbeat (absent if none ever did)."),
    )

    def collect(self):
        state = selectors.registry_state()
        for name, key, documentation in self.GAUGES:
            gauge = GaugeMetricFamily(name, documentation)
            if state[key] is not None:
                gauge.add_metric([], state[key])
            yield gauge


def exposition():
    """The text a scrape returns."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(RegistryStateCollector())
    return generate_latest(registry)
