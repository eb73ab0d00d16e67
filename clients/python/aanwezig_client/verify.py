"""Offline verification of a downloaded release, with no server code: the zip as the API
sends it (bytes or a path), or the folder it was unpacked into.

A release verifies when the Ed25519 signature in ``datapackage.json.sig`` over the exact bytes
of ``datapackage.json`` verifies with the service's public key (``GET /v1/signing-key``), every
resource the package lists is there with the listed sha256, and nothing else is there (unsigned
content never travels next to signed content unnoticed). The same rules as the service's own
``aanwezig verify``; a failure raises :class:`VerificationError` naming the file and why.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections import Counter
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PACKAGE = "datapackage.json"
SIGNATURE = "datapackage.json.sig"
MAX_PACKAGE_BYTES = 4 * 1024 * 1024
MAX_SIGNATURE_BYTES = 1024


class VerificationError(Exception):
    """A downloaded release does not verify; the message says which file and why."""


def _public(pem: str | bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    except ValueError:
        key = None
    if not isinstance(key, Ed25519PublicKey):
        raise VerificationError("the public key is not an Ed25519 public key in PEM form")
    return key


def _files(source: bytes | str | Path) -> dict[str, bytes]:
    """The files of a download by '/'-separated name."""
    if isinstance(source, (bytes, bytearray)):
        return _from_zip(zipfile.ZipFile(io.BytesIO(source)))
    path = Path(source)
    if path.is_dir():
        return {p.relative_to(path).as_posix(): p.read_bytes()
                for p in sorted(path.rglob("*")) if p.is_file()}
    return _from_zip(zipfile.ZipFile(path))


def _from_zip(archive: zipfile.ZipFile) -> dict[str, bytes]:
    names = [i.filename for i in archive.infolist() if not i.is_dir()]
    twice = sorted(n for n, k in Counter(names).items() if k > 1)
    if twice:
        raise VerificationError(f"{twice[0]} appears more than once in the archive")
    try:
        return {name: archive.read(name) for name in names}
    except (zipfile.BadZipFile, EOFError, RuntimeError) as exc:
        raise VerificationError(f"the archive is damaged ({exc})") from None


def verify(source: bytes | str | Path, public_pem: str | bytes) -> list[str]:
    """Verify one release download; returns the verified names, datapackage.json first."""
    files = _files(source)
    public = _public(public_pem)
    for needed in (PACKAGE, SIGNATURE):
        if needed not in files:
            raise VerificationError(f"{needed} is missing")
    package, signature = files[PACKAGE], files[SIGNATURE]
    if len(package) > MAX_PACKAGE_BYTES or len(signature) > MAX_SIGNATURE_BYTES:
        raise VerificationError("datapackage.json or its signature is larger than any the "
                                "service writes")
    try:
        public.verify(signature, package)
    except InvalidSignature:
        raise VerificationError(f"the signature over {PACKAGE} does not verify with this "
                                "public key") from None
    checked = [PACKAGE]
    for resource in json.loads(package)["resources"]:
        name = resource["path"]
        if name not in files:
            raise VerificationError(f"{name} is listed in {PACKAGE} but missing")
        if "sha256:" + hashlib.sha256(files[name]).hexdigest() != resource["hash"]:
            raise VerificationError(f"{name} does not match its sha256 in {PACKAGE}")
        checked.append(name)
    extra = sorted(set(files) - set(checked) - {SIGNATURE})
    if extra:
        raise VerificationError(f"{extra[0]} is not part of the signed release (not listed in "
                                f"{PACKAGE})")
    return checked
