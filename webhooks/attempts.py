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
    try:
        http = transport.kept_session_for(webhook)
    except ValueError:  # a URL that cannot be parsed: send() says so as the attempt's error
        http = transport.session_for(webhook)
    return transport.send(
        "POST", webhook.url, headers=headers, data=body, verify=webhook.enable_ssl_verification, http=http,
    )


def _attempt(delivery, result):
    # The number after the delivery's earlier attempts: counted when it was claimed
    # (outbox.claim_following reads it with the delivery), else now.
    logged = getattr(delivery, "logged_attempts", None)
    return Attempt(
        delivery=delivery, number=(delivery.attempt_log.count() if logged is None else logged) + 1,
        status_code=result.status_code, latency_ms=result.latency_ms, response_excerpt=result.body[:4096],
        error=result.error, internal_destination=result.internal,
        **({"started_at": result.started_at} if result.started_at else {}),
    )


def log(delivery, result):
    """The Attempt row for a send's result, numbered after the delivery's earlier ones."""
    attempt = _attempt(delivery, result)
    attempt.save()
    return attempt


def log_many(pairs):
    """The Attempt rows of several (delivery, result) pairs, in one INSERT."""
    return Attempt.objects.bulk_create([_attempt(delivery, result) for delivery, result in pairs])
