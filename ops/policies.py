"""Who may read /metrics: a registry admin (superuser) signed in as the API signs in, or a
client whose address is inside MODELGATE_METRICS_ALLOWED_NETWORKS (a Prometheus on the
internal network). The address is the connecting peer (REMOTE_ADDR), never X-Forwarded-For,
which any client can write."""

import ipaddress

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from accounts.policies import is_registry_admin


def _network(cidr):
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"MODELGATE_METRICS_ALLOWED_NETWORKS: {cidr!r} is not a network (e.g. 10.0.0.0/8)."
        ) from None


def allowed_networks():
    # A typo here must stop start-up (ops.apps), not quietly shut Prometheus out.
    return [_network(cidr) for cidr in settings.MODELGATE_METRICS_ALLOWED_NETWORKS]


def address_may_read_metrics(address):
    try:
        ip = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return False
    ip = getattr(ip, "ipv4_mapped", None) or ip
    return any(ip in network for network in allowed_networks())


def user_may_read_metrics(user):
    # is_registry_admin(None) means the system; an anonymous caller is not that.
    return user is not None and is_registry_admin(user)
