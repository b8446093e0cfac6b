"""Sending one HTTP request to a webhook target, safely: http(s) only, no redirects followed,
connect and read timeouts, a capped response, and the destination address checked before and
again when the socket connects (so DNS rebinding cannot slip past a check made earlier)
against loopback, private, link-local, metadata and other non-public ranges, unless inside an
allowlisted network (MODELGATE_WEBHOOK_ALLOWED_NETWORKS)."""

import base64
import hashlib
import hmac
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

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


def check_address(ip_text):
    ip = ipaddress.ip_address(ip_text.split("%", 1)[0])
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    if any(ip in net for net in allowed_networks()):
        return
    if not ip.is_global or ip.is_multicast:
        raise DestinationRefused(
            f"destination {ip} is not a public address (loopback, private, link-local, metadata "
            "or reserved); allow its network in MODELGATE_WEBHOOK_ALLOWED_NETWORKS if it is an "
            "internal service such as Jenkins"
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


class _GuardedConnectionMixin:
    def _new_conn(self):
        # Check what the name resolves to before connecting: otherwise a refused destination
        # still gets a TCP connection, and whether it answers (refused vs timeout) shows in
        # the delivery log, a port scanner for internal hosts. The peer is checked again once
        # connected, in case the name resolved differently in between (DNS rebinding).
        try:
            resolved = socket.getaddrinfo(self._dns_host, self.port, type=socket.SOCK_STREAM)
        except OSError:
            resolved = []  # let the connect below fail with urllib3's own resolution error
        for *_, sockaddr in resolved:
            check_address(sockaddr[0])
        sock = super()._new_conn()
        try:
            check_address(sock.getpeername()[0])
        except DestinationRefused:
            sock.close()
            raise
        return sock


class GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": GuardedHTTPConnectionPool, "https": GuardedHTTPSConnectionPool,
        }


def session():
    s = requests.Session()
    s.trust_env = False  # no environment proxies: the guard must see the real destination
    adapter = GuardedAdapter(max_retries=0)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.headers["User-Agent"] = USER_AGENT
    return s


@dataclass
class Result:
    status_code: int | None = None
    body: str = ""
    headers: dict | None = None
    latency_ms: int = 0
    error: str = ""
    refused: bool = False  # the SSRF guard refused the destination

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
    """One request, never raising: the outcome (status, first bytes, error) as a Result."""
    started = time.monotonic()
    try:
        check_url(url)
        http = http or session()
        response = http.request(
            method, url, headers=headers or {}, data=data, auth=auth, verify=verify,
            allow_redirects=False, stream=True,
            timeout=(settings.MODELGATE_WEBHOOK_CONNECT_TIMEOUT, settings.MODELGATE_WEBHOOK_READ_TIMEOUT),
        )
        try:
            raw = response.raw.read(settings.MODELGATE_WEBHOOK_MAX_RESPONSE_BYTES, decode_content=True) or b""
        finally:
            response.close()
        result = Result(
            status_code=response.status_code, body=raw.decode("utf-8", "replace"),
            headers=dict(response.headers), latency_ms=int((time.monotonic() - started) * 1000),
        )
        if 300 <= response.status_code < 400:
            result.error = f"redirect to {response.headers.get('Location', '?')} not followed"
        return result
    except DestinationRefused as exc:
        return Result(error=f"refused: {exc}", refused=True, latency_ms=int((time.monotonic() - started) * 1000))
    except requests.RequestException as exc:
        refusal = _unwrap_refusal(exc)
        if refusal is not None:
            return Result(error=f"refused: {refusal}", refused=True, latency_ms=int((time.monotonic() - started) * 1000))
        return Result(error=f"{type(exc).__name__}: {exc}", latency_ms=int((time.monotonic() - started) * 1000))


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
