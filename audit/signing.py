"""The key that signs activity checkpoints. It is never stored in the database, so someone
who can rewrite the database (and recompute the hash chain) still cannot sign a checkpoint
for the rewritten chain.

MODELGATE_ACTIVITY_SIGNING_KEY names an Ed25519 private key file (PEM, PKCS#8: `openssl
genpkey -algorithm ed25519 -out activity-signing.pem`). Without it, the key is derived from
SECRET_KEY (HKDF-SHA256), which is then the secret to guard.
"""

import base64
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=4)
def _load_key(path, secret_key):
    if path:
        try:
            key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise ImproperlyConfigured(f"MODELGATE_ACTIVITY_SIGNING_KEY: cannot load {path}: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ImproperlyConfigured("MODELGATE_ACTIVITY_SIGNING_KEY must be an Ed25519 private key.")
        return key
    seed = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"modelgate activity checkpoints", info=b"ed25519",
    ).derive(secret_key.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def private_key():
    return _load_key(settings.MODELGATE_ACTIVITY_SIGNING_KEY, settings.SECRET_KEY)


def public_key_bytes(key=None):
    key = key or private_key().public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_bytes=None):
    """A short fingerprint of the public key, so a checkpoint says which key signed it."""
    return hashlib.sha256(public_bytes or public_key_bytes()).hexdigest()[:16]


def signed_message(seq, hash_, created_at, kid):
    return json.dumps(
        {"seq": seq, "hash": hash_, "created_at": created_at, "key_id": kid},
        sort_keys=True, separators=(",", ":"),
    ).encode()


def sign(seq, hash_, created_at):
    kid = key_id()
    signature = private_key().sign(signed_message(seq, hash_, created_at, kid))
    return kid, base64.b64encode(signature).decode()


def verifies(checkpoint, public_bytes=None):
    """Whether a checkpoint (a dict: seq, hash, created_at, key_id, signature) was signed by
    the key whose public half is given (this server's by default)."""
    public_bytes = public_bytes or public_key_bytes()
    if checkpoint.get("key_id") != key_id(public_bytes):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_bytes).verify(
            base64.b64decode(checkpoint["signature"]),
            signed_message(checkpoint["seq"], checkpoint["hash"], checkpoint["created_at"], checkpoint["key_id"]),
        )
    except (InvalidSignature, KeyError, TypeError, ValueError):
        return False
    return True
