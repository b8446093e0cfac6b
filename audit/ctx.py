"""Ctx: who is acting, and through what. Every action takes it first."""

import uuid
from dataclasses import dataclass, field

VIA_API = "api"
VIA_ADMIN = "admin"
VIA_UI = "ui"
VIA_SYSTEM = "system"
VIA_CLI = "cli"


@dataclass(frozen=True)
class Ctx:
    user: object  # accounts.User, or None for the system itself
    via: str = VIA_API
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    client_ip: str | None = None
    token_id: int | None = None

    @classmethod
    def from_request(cls, request, via=VIA_API):
        django_request = getattr(request, "_request", request)
        token = getattr(request, "auth", None)
        return cls(
            user=request.user,
            via=via,
            request_id=getattr(django_request, "request_id", None) or uuid.uuid4().hex,
            client_ip=django_request.META.get("REMOTE_ADDR"),
            token_id=getattr(token, "pk", None),
        )

    @classmethod
    def system(cls, request_id=None):
        return cls(user=None, via=VIA_SYSTEM, request_id=request_id or uuid.uuid4().hex)

    @classmethod
    def cli(cls, user=None):
        return cls(user=user, via=VIA_CLI)

    @property
    def username(self):
        return getattr(self.user, "username", None) or "system"
