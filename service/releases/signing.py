"""The service's Ed25519 release-signing key: loading, generating for demos, signing, verifying.

The private key comes from settings (``AANWEZIG_SIGNING_KEY``, base64 of the 32 raw bytes).
In demo/dev mode without one, a key is generated once and kept in a file next to the
database (``<db>.signing-key``, mode 0600) so releases stay verifiable across restarts.
The public key is published (PEM) at ``GET /v1/signing-key``.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from service.settings import Settings


class SigningKeyMissing(RuntimeError):
    """No signing key in production settings."""


def key_file(settings: Settings) -> Path:
    db = Path(settings.db)
    return db.with_name(db.name + ".signing-key")


def private_key(settings: Settings) -> Ed25519PrivateKey:
    """The release-signing key from settings, or (demo/dev only) from/into the key file."""
    if settings.signing_key:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(settings.signing_key))
    if settings.mode not in ("demo", "dev"):
        raise SigningKeyMissing("AANWEZIG_SIGNING_KEY is required outside demo/dev mode")
    path = key_file(settings)
    if path.exists():
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(path.read_text().strip()))
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(raw).decode() + "\n")
    return key


def public_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public key as PEM (SubjectPublicKeyInfo), for openssl and for `aanwezig verify`."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_pem(pem: str | bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    return key.sign(data)


def verify(public: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    """True if `signature` is the key's signature of `data`."""
    try:
        public.verify(signature, data)
    except InvalidSignature:
        return False
    return True
