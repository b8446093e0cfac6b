"""Webhook secrets at rest: Fernet, keyed by MODELGATE_ENCRYPTION_KEY or a key derived from
SECRET_KEY, so every process of a deployment decrypts what another encrypted."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet():
    configured = settings.MODELGATE_ENCRYPTION_KEY
    if configured:
        return Fernet(configured.encode())
    digest = hashlib.sha256(b"modelgate-webhook-secrets:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(value):
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(token):
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise RuntimeError("A webhook secret cannot be decrypted: was the encryption key changed?") from None
