"""Jenkins as a webhook target: trigger `buildWithParameters` (API token over Basic; or, with
a password, a CSRF crumb from /crumbIssuer/api/json and its session cookie), remember the
queue item, follow it to the build, and report the build's result as a check `jenkins/<job>`
on the version."""

import json
from urllib.parse import quote

from django.utils import timezone

from . import payloads, transport

RESULT_TO_CHECK = {"SUCCESS": "success"}  # UNSTABLE, FAILURE, ABORTED, NOT_BUILT: failure


def job_url(webhook):
    """`folder/sub/job` -> <base>/job/folder/job/sub/job/job/"""
    base = webhook.url.rstrip("/")
    segments = [s for s in webhook.jenkins_job.strip("/").split("/") if s]
    return base + "".join(f"/job/{quote(s, safe='')}" for s in segments) + "/"


def _session(webhook):
    http = transport.session_for(webhook)
    http.auth = (webhook.jenkins_user, webhook.jenkins_token) if webhook.jenkins_user else None
    return http


def _crumb_headers(webhook, http):
    """Jenkins' CSRF crumb; the session keeps the cookie the crumb is bound to."""
    result = transport.send(
        "GET", webhook.url.rstrip("/") + "/crumbIssuer/api/json", http=http,
        auth=http.auth, verify=webhook.enable_ssl_verification,
    )
    if not result.ok:
        return None, result
    try:
        data = json.loads(result.body)
        return {data["crumbRequestField"]: data["crumb"]}, result
    except (ValueError, KeyError):
        result.error = "the crumb issuer's answer is not the expected JSON"
        result.status_code = None
        return None, result


def trigger(webhook, delivery, body):
    """Queue the job with the event as parameters. 201 (queued) and 303 (merged into an
    equivalent queued item) both carry the queue item's Location."""
    http = _session(webhook)
    headers = transport.signed_headers(webhook, delivery.event_id, body)
    headers.pop("Content-Type", None)
    headers.pop("Authorization", None)  # Jenkins takes Basic user:token from the session
    if webhook.jenkins_uses_password:
        crumb, crumb_result = _crumb_headers(webhook, http)
        if crumb is None:
            crumb_result.error = crumb_result.error or f"crumb issuer answered HTTP {crumb_result.status_code}"
            return crumb_result
        headers.update(crumb)
    result = transport.send(
        "POST", job_url(webhook) + "buildWithParameters", headers=headers,
        data=payloads.jenkins_parameters(webhook, delivery, body), auth=http.auth, http=http,
        verify=webhook.enable_ssl_verification,
    )
    location = (result.headers or {}).get("Location", "")
    if result.status_code in (201, 303) and location:
        delivery.jenkins_queue_url = location if location.endswith("/") else location + "/"
        delivery.save(update_fields=["jenkins_queue_url"])
        result.status_code = 201 if result.status_code == 303 else result.status_code
    elif result.status_code in (201, 303):
        result.error, result.status_code = "Jenkins queued the build but sent no Location", None
    return result


def _on_jenkins(webhook, url):
    """Whether `url` is on the configured Jenkins: the scheme, host and port of its base_url,
    the only place its credentials are sent."""
    try:
        return transport.origin(url) == transport.origin(webhook.url)
    except ValueError:
        return False


def _not_followed(delivery, what, url):
    """Jenkins named a queue item or build on another origin (its root URL set to another
    host, or an answer not from Jenkins): finish without a request there, as a failed check
    that says why."""
    delivery.jenkins_result = "NOT_FOLLOWED"
    delivery.save(update_fields=["jenkins_result"])
    return True, _check(
        delivery, "failure",
        f"Jenkins named {what} at {url}, outside its base_url {delivery.webhook.url}: not followed, as "
        "Jenkins credentials go only to the base_url's scheme, host and port (set base_url to Jenkins' root URL).",
    )


def follow(delivery):
    """One look at the queue item / build. Returns (finished, check_report_kwargs or None)."""
    webhook = delivery.webhook
    http = _session(webhook)
    verify = webhook.enable_ssl_verification
    if not delivery.jenkins_build_url:
        if not _on_jenkins(webhook, delivery.jenkins_queue_url):
            return _not_followed(delivery, "the queue item", delivery.jenkins_queue_url)
        result = transport.send("GET", delivery.jenkins_queue_url + "api/json", http=http, auth=http.auth, verify=verify)
        if not result.ok:
            return False, None
        item = json.loads(result.body or "{}")
        if item.get("cancelled"):
            delivery.jenkins_result = "CANCELLED"
            delivery.save(update_fields=["jenkins_result"])
            return True, _check(delivery, "failure", "Jenkins cancelled the queued build.")
        executable = item.get("executable") or {}
        if not executable.get("url"):
            return False, None
        delivery.jenkins_build_url = executable["url"] if executable["url"].endswith("/") else executable["url"] + "/"
        delivery.jenkins_build_number = executable.get("number")
        delivery.save(update_fields=["jenkins_build_url", "jenkins_build_number"])
    if not _on_jenkins(webhook, delivery.jenkins_build_url):
        return _not_followed(delivery, "the build", delivery.jenkins_build_url)
    result = transport.send(
        "GET", delivery.jenkins_build_url + "api/json?tree=number,url,building,result",
        http=http, auth=http.auth, verify=verify,
    )
    if not result.ok:
        return False, None
    build = json.loads(result.body or "{}")
    if build.get("building") or not build.get("result"):
        return False, None
    delivery.jenkins_result = build["result"]
    delivery.save(update_fields=["jenkins_result"])
    status = RESULT_TO_CHECK.get(build["result"], "failure")
    return True, _check(delivery, status, f"Jenkins build #{delivery.jenkins_build_number}: {build['result']}")


def _check(delivery, status, summary):
    body = json.loads(bytes(delivery.payload))
    data = body.get("data", body)
    name, version = data.get("model_name"), data.get("version")
    if not name or not version:
        return None  # an event without a version (e.g. a model created) has nothing to check
    return {
        "model_uid": delivery.model_uid, "name": name, "version": str(version),
        "check": f"jenkins/{delivery.webhook.jenkins_job.strip('/')}", "status": status,
        "details_url": delivery.jenkins_build_url, "summary": summary,
        "reported_at": timezone.now().isoformat(),
    }
