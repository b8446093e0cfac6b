"""Sending one HTTP request to a webhook target, safely: http(s) only, no redirects followed,
connect and read timeouts, a capped response, and the destination's addresses checked when the
socket connects (resolved once; the connection goes to a checked address, so DNS rebinding
cannot slip past the check) against loopback, private, link-local, metadata and other
non-public ranges. Internal networks an operator allowlisted (MODELGATE_WEBHOOK_ALLOWED_NETWORKS)
are reachable only by a session made with allow_internal=True: webhooks whose destination a
registry admin set. A Result says whether the request reached such an internal address."""

import base64
import hashlib
import hmac
import ipaddress
import os
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from http.cookiejar import DefaultCookiePolicy
from functools import partial
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils import timezone
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError

USER_AGENT = "Modelgate-Webhooks/1"


class DestinationRefused(Exception):
    """The target is not an address webhooks may reach (SSRF guard)."""


def allowed_networks():
    networks = []
    for cidr in settings.MODELGATE_WEBHOOK_ALLOWED_NETWORKS:
        try:
            networks.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            continue
    return networks


def check_address(ip_text, *, allow_internal):
    """Raise DestinationRefused unless webhooks may reach this address: a public one, or with
    allow_internal one inside an allowlisted network. Returns whether it is such an internal one."""
    ip = ipaddress.ip_address(ip_text.split("%", 1)[0])
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    if ip.is_global and not ip.is_multicast:
        return False
    if allow_internal and any(ip in net for net in allowed_networks()):
        return True
    why = f"destination {ip} is not a public address (loopback, private, link-local, metadata or reserved)"
    if allow_internal:
        raise DestinationRefused(
            f"{why}; allow its network in MODELGATE_WEBHOOK_ALLOWED_NETWORKS if it is an internal service such as Jenkins"
        )
    raise DestinationRefused(
        f"{why}; only a registry admin may point a webhook at an internal network (MODELGATE_WEBHOOK_ALLOWED_NETWORKS)"
    )


DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url):
    """Where a request to `url` goes: (scheme, host, port), the port made explicit. Raises
    ValueError for a URL that cannot be parsed (a malformed IPv6 host, a port that is no number)."""
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port or DEFAULT_PORTS.get(parts.scheme)


def check_url(url):
    """What can be checked before connecting: scheme, no credentials in the URL, a host. A URL
    that cannot be parsed raises ValueError (see origin)."""
    scheme, host, _ = origin(url)
    if scheme not in ("http", "https"):
        raise DestinationRefused(f"only http and https URLs are allowed, not '{scheme}'")
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise DestinationRefused("credentials in the URL are not allowed; use the authorization header")
    if not host:
        raise DestinationRefused("the URL has no host")


class Guard:
    """One session's SSRF guard: whether its requests may reach allowlisted internal networks,
    and whether one did (its answer is then not for everyone's eyes: selectors.outcome_for)."""

    def __init__(self, allow_internal):
        self.allow_internal = allow_internal
        self.reached_internal = False

    def check(self, ip_text):
        if check_address(ip_text, allow_internal=self.allow_internal):
            self.reached_internal = True


class _GuardedConnectionMixin:
    def __init__(self, *args, guard, **kwargs):
        self.guard = guard
        super().__init__(*args, **kwargs)

    def _new_conn(self):
        # Resolve once, check every address, then connect to a checked address, not to the
        # name again: a name that answers differently the second time (DNS rebinding) cannot
        # take the connection elsewhere, and a refused destination never gets a TCP
        # connection, so whether it answers (refused vs timeout) cannot map internal ports.
        try:
            resolved = socket.getaddrinfo(self._dns_host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        addresses = list(dict.fromkeys(sockaddr[0] for *_, sockaddr in resolved))
        for address in addresses:
            self.guard.check(address)
        name = self._dns_host
        try:
            for number, address in enumerate(addresses, 1):
                # urllib3 connects to _dns_host; the Host header and TLS (SNI, certificate)
                # use the name, which is put back below.
                self._dns_host = address
                try:
                    return super()._new_conn()
                except ConnectTimeoutError:  # refused or timed out: try the next, as urllib3 does
                    if number == len(addresses):
                        raise
            raise NameResolutionError(self.host, self, socket.gaierror("no addresses"))
        finally:
            self._dns_host = name


class GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    def __init__(self, guard, **kwargs):
        self.guard = guard  # before HTTPAdapter.__init__, which makes the pool manager
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        # The pools hand their keyword arguments on to every connection they make: the guard.
        self.poolmanager.pool_classes_by_scheme = {
            "http": partial(GuardedHTTPConnectionPool, guard=self.guard),
            "https": partial(GuardedHTTPSConnectionPool, guard=self.guard),
        }


def session(*, allow_internal=False):
    """A requests session behind the guard. allow_internal: for a webhook whose destination
    a registry admin set (Webhook.destination_set_by_admin), allowlisted networks are reachable."""
    s = requests.Session()
    s.trust_env = False  # no environment proxies: the guard must see the real destination
    s.guard = Guard(allow_internal)
    adapter = GuardedAdapter(s.guard, max_retries=0)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.headers["User-Agent"] = USER_AGENT
    return s


def session_for(webhook):
    """The session a webhook's requests go through: allowlisted internal networks are reachable
    only when a registry admin set its destination."""
    return session(allow_internal=webhook.destination_set_by_admin)


class _KeptSessions:
    """Sessions kept alive across deliveries, one per destination (scheme, host, port), whether
    internal networks are reachable and the allowlist as it was: each process (a Celery pool
    child) reuses its connections to a receiver instead of a TCP (and TLS) handshake per
    delivery. The guard checked each connection's address when it was made; a change of the
    allowlist or of who set the destination makes another session. They keep no cookies (one
    webhook's receiver must not hand another webhook's requests state). A session that once
    reached an allowlisted internal address keeps saying so (Result.internal), the cautious way."""

    LIMIT = 64

    def __init__(self):
        self.lock = threading.Lock()
        self.pid = None
        self.sessions = OrderedDict()

    def get(self, url, *, allow_internal):
        key = (origin(url), allow_internal, tuple(settings.MODELGATE_WEBHOOK_ALLOWED_NETWORKS))
        with self.lock:
            if self.pid != os.getpid():  # a forked child never shares its parent's sockets
                self.pid, self.sessions = os.getpid(), OrderedDict()
            kept = self.sessions.get(key)
            if kept is None:
                kept = self.sessions[key] = session(allow_internal=allow_internal)
                kept.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
                while len(self.sessions) > self.LIMIT:
                    self.sessions.popitem(last=False)[1].close()
            self.sessions.move_to_end(key)
            return kept


kept_sessions = _KeptSessions()


def kept_session_for(webhook):
    """A webhook delivery's session, kept alive for the next delivery to the same destination.
    Raises ValueError for a URL that cannot be parsed."""
    return kept_sessions.get(webhook.url, allow_internal=webhook.destination_set_by_admin)


@dataclass
class Result:
    status_code: int | None = None
    body: str = ""
    headers: dict | None = None
    latency_ms: int = 0
    error: str = ""
    refused: bool = False  # the SSRF guard refused the destination
    internal: bool = False  # it went to an allowlisted internal network
    started_at: datetime | None = None

    @property
    def ok(self):
        return self.status_code is not None and 200 <= self.status_code < 300


def _unwrap_refusal(exc):
    seen = exc
    while seen is not None:
        if isinstance(seen, DestinationRefused):
            return seen
        seen = seen.__cause__ or seen.__context__ or (seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None)
    return None


def send(method, url, *, headers=None, data=None, auth=None, verify=True, http=None):
    """One request, never raising: the outcome (status, first bytes, error) as a Result. `http`
    is a session(); without one, only public addresses are reachable."""
    http = http or session()
    started_at, started = timezone.now(), time.monotonic()
    result = _request(http, method, url, headers=headers, data=data, auth=auth, verify=verify)
    result.latency_ms = int((time.monotonic() - started) * 1000)
    result.internal = http.guard.reached_internal
    result.started_at = started_at
    return result


def _request(http, method, url, *, headers, data, auth, verify):
    try:
        check_url(url)
        response = http.request(
            method, url, headers=headers or {}, data=data, auth=auth, verify=verify,
            allow_redirects=False, stream=True,
            timeout=(settings.MODELGATE_WEBHOOK_CONNECT_TIMEOUT, settings.MODELGATE_WEBHOOK_READ_TIMEOUT),
        )
        kept = False
        try:
            raw = response.raw.read(settings.MODELGATE_WEBHOOK_MAX_RESPONSE_BYTES, decode_content=True) or b""
            # Read to its end, the connection may serve the next request (keep-alive); a larger
            # answer than is read is cut off with its connection.
            kept = not response.raw.read(1)
        finally:
            if kept:
                response.raw.release_conn()
            else:
                response.close()
        result = Result(status_code=response.status_code, body=raw.decode("utf-8", "replace"), headers=dict(response.headers))
        if 300 <= response.status_code < 400:
            result.error = f"redirect to {response.headers.get('Location', '?')} not followed"
        return result
    except DestinationRefused as exc:
        return Result(error=f"refused: {exc}", refused=True)
    except requests.RequestException as exc:
        refusal = _unwrap_refusal(exc)
        if refusal is not None:
            return Result(error=f"refused: {refusal}", refused=True)
        return Result(error=f"{type(exc).__name__}: {exc}")


# Signing ----------------------------------------------------------------------------------------

def _standard_key(secret):
    # Standard Webhooks secrets are "whsec_" + base64; any other secret is used as its bytes.
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_"):])
        except ValueError:
            pass
    return secret.encode()


def standard_webhooks_headers(secret, event_id, body, timestamp):
    headers = {"webhook-id": event_id, "webhook-timestamp": str(timestamp)}
    if secret:
        mac = hmac.new(_standard_key(secret), f"{event_id}.{timestamp}.".encode() + body, hashlib.sha256)
        headers["webhook-signature"] = "v1," + base64.b64encode(mac.digest()).decode()
    return headers


def databricks_signature(secret, body):
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def mlflow_headers(secret, delivery_id, body, timestamp):
    headers = {"X-MLflow-Delivery-Id": delivery_id, "X-MLflow-Timestamp": str(timestamp)}
    if secret:
        mac = hmac.new(secret.encode(), f"{delivery_id}.{timestamp}.".encode() + body, hashlib.sha256)
        headers["X-MLflow-Signature"] = "v1," + base64.b64encode(mac.digest()).decode()
    return headers


def signed_headers(webhook, event_id, body, timestamp=None):
    """Every delivery carries the Standard Webhooks headers; Databricks-flavoured ones add
    X-Databricks-Signature (hex HMAC of the body), MLflow ones the X-MLflow-* headers, and a
    body-only `X-Modelgate-Signature-256: sha256=<hex>` serves receivers such as Jenkins'
    Generic Webhook Trigger that can only verify the body."""
    timestamp = timestamp or int(time.time())
    secret = webhook.secret
    headers = {"Content-Type": "application/json", **standard_webhooks_headers(secret, event_id, body, timestamp)}
    if secret:
        headers["X-Modelgate-Signature-256"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if webhook.flavor == "databricks" and secret:
        headers["X-Databricks-Signature"] = databricks_signature(secret, body)
    if webhook.flavor == "mlflow":
        headers.update(mlflow_headers(secret, event_id, body, timestamp))
    authorization = webhook.authorization
    if authorization:
        headers["Authorization"] = authorization
    return headers
