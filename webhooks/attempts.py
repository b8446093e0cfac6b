"""One attempt at a delivery: send it (a Jenkins trigger, or a signed POST of the frozen
payload) and log it as an Attempt row. The outbox's sends and a webhook's test event both go
through here, so the delivery log shows every attempt the same way."""

from . import jenkins, transport
from .models import Attempt, Webhook


def send(delivery):
    """Send the delivery once, outside any transaction (no lock is held while a receiver
    answers). Returns the transport.Result."""
    webhook = delivery.webhook
    body = bytes(delivery.payload)
    if webhook.target == Webhook.JENKINS:
        return jenkins.trigger(webhook, delivery, body)
    headers = transport.signed_headers(webhook, delivery.event_id, body)
    return transport.send(
        "POST", webhook.url, headers=headers, data=body, verify=webhook.enable_ssl_verification,
        http=transport.session_for(webhook),
    )


def log(delivery, result):
    """The Attempt row for a send's result, numbered after the delivery's earlier ones."""
    return Attempt.objects.create(
        delivery=delivery, number=delivery.attempt_log.count() + 1, status_code=result.status_code,
        latency_ms=result.latency_ms, response_excerpt=result.body[:4096], error=result.error,
        internal_destination=result.internal,
    )
