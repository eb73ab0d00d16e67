"""Offline verification of a downloaded release: the zip exactly as the API sends it, the
folder it was unpacked into, or a region's archive (one folder per release).

A release verifies when

1. the Ed25519 signature in ``datapackage.json.sig`` over the exact bytes of
   ``datapackage.json`` verifies with the service's public key (``GET /v1/signing-key``);
2. every resource the package lists is there, with the listed sha256;
3. nothing else is there: a file the package does not list, or a second copy of a listed one
   inside a zip, is refused, so unsigned content never travels next to signed content
   unnoticed.

A region's archive (``GET /v1/regions/{level}/{code}/archive``) holds one such folder per
release, the service's public key as ``signing-key.pem`` (which must be the key given to
verify with), and at its root its own signed package listing ``index.csv`` and ``weekly.csv``;
index.csv names every release folder, so a folder added or removed whole is noticed too.
(Archives made before the root package carry none: there a removed folder goes unnoticed.)

The signature is checked before anything in datapackage.json is believed, and files are
hashed in chunks, so a large or hostile archive costs time, not memory.

Every failure raises :class:`VerificationError` with one line naming the file and the reason.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from service.releases.signing import load_public_pem, verify

PACKAGE = "datapackage.json"
SIGNATURE = "datapackage.json.sig"
#: The public key a region's archive carries at its root.
ARCHIVE_KEY = "signing-key.pem"
#: A region archive's list of its release folders, signed through its root package.
INDEX = "index.csv"
#: Larger than any datapackage.json or signature the service writes (a few kB and 64 bytes).
MAX_PACKAGE_BYTES = 4 * 1024 * 1024
MAX_SIGNATURE_BYTES = 1024
CHUNK = 1 << 20


class VerificationError(Exception):
    """A downloaded release does not verify; the message says which file and why."""


class _Files(Protocol):
    """The files of a download by relative '/'-separated name, each readable in chunks."""

    def names(self) -> list[str]: ...

    def size(self, name: str) -> int: ...

    def chunks(self, name: str) -> Iterator[bytes]: ...


class _Memory:
    def __init__(self, files: dict[str, bytes]):
        self._files = files

    def names(self) -> list[str]:
        return list(self._files)

    def size(self, name: str) -> int:
        return len(self._files[name])

    def chunks(self, name: str) -> Iterator[bytes]:
        yield self._files[name]


class _Folder:
    def __init__(self, folder: Path):
        self._folder = folder

    def names(self) -> list[str]:
        return sorted(p.relative_to(self._folder).as_posix()
                      for p in self._folder.rglob("*") if not p.is_dir())

    def size(self, name: str) -> int:
        return (self._folder / name).stat().st_size

    def chunks(self, name: str) -> Iterator[bytes]:
        with open(self._folder / name, "rb") as handle:
            while block := handle.read(CHUNK):
                yield block


class _Zip:
    def __init__(self, archive: zipfile.ZipFile):
        self._zip = archive
        members = [i.filename for i in archive.infolist() if not i.is_dir()]
        twice = sorted(name for name, n in Counter(members).items() if n > 1)
        if twice:
            raise VerificationError(f"{twice[0]} appears more than once in the archive")
        self._infos = {i.filename: i for i in archive.infolist() if not i.is_dir()}

    def names(self) -> list[str]:
        return list(self._infos)

    def size(self, name: str) -> int:
        return self._infos[name].file_size

    def chunks(self, name: str) -> Iterator[bytes]:
        try:
            with self._zip.open(self._infos[name]) as handle:
                while block := handle.read(CHUNK):
                    yield block
        except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError,
                NotImplementedError) as exc:
            raise VerificationError(f"{name} cannot be read from the archive: it is damaged "
                                    f"({exc})") from None


def _read(files: _Files, name: str, limit: int) -> bytes:
    if files.size(name) > limit:
        raise VerificationError(f"{name} is larger than any the service writes")
    data = b"".join(files.chunks(name))
    if len(data) > limit:
        raise VerificationError(f"{name} is larger than any the service writes")
    return data


def _verify_release(files: _Files, names: set[str], prefix: str, public) -> list[str]:
    """Check one release whose files sit under `prefix` ('' or 'RID/'); returns the names
    checked, datapackage.json first."""
    package_name, signature_name = prefix + PACKAGE, prefix + SIGNATURE
    for needed in (package_name, signature_name):
        if needed not in names:
            raise VerificationError(f"{needed} is missing")
    package_bytes = _read(files, package_name, MAX_PACKAGE_BYTES)
    signature = _read(files, signature_name, MAX_SIGNATURE_BYTES)
    if not verify(public, package_bytes, signature):
        raise VerificationError(f"the signature over {package_name} does not verify with this "
                                "public key")
    checked = [package_name]
    for resource in json.loads(package_bytes)["resources"]:
        name = prefix + resource["path"]
        if name not in names:
            raise VerificationError(f"{name} is listed in {PACKAGE} but missing")
        digest = hashlib.sha256()
        for block in files.chunks(name):
            digest.update(block)
        if "sha256:" + digest.hexdigest() != resource["hash"]:
            raise VerificationError(f"{name} does not match its sha256 in {PACKAGE}")
        checked.append(name)
    return checked


def _same_key(files: _Files, public) -> bool:
    try:
        shipped = load_public_pem(_read(files, ARCHIVE_KEY, MAX_PACKAGE_BYTES))
    except ValueError:
        return False
    return shipped.public_bytes_raw() == public.public_bytes_raw()


def _verify(files: _Files, public) -> list[str]:
    names = set(files.names())
    folders = sorted(n[: -len(PACKAGE)] for n in names
                     if n.endswith("/" + PACKAGE) and n.count("/") == 1)
    prefixes = ([""] if PACKAGE in names else []) + folders
    if not prefixes:
        raise VerificationError(f"no {PACKAGE}: this is not a release download")
    checked: list[str] = []
    for prefix in prefixes:
        checked += _verify_release(files, names, prefix, public)
    if folders and INDEX in names and INDEX in checked:   # a region's archive with its signed index
        listed = {row["folder"] + "/" for row in csv.DictReader(io.StringIO(
            _read(files, INDEX, MAX_PACKAGE_BYTES * 64).decode("utf-8")))}
        for folder in sorted(listed ^ set(folders)):
            where = "missing" if folder in listed else "not listed in index.csv"
            raise VerificationError(f"the release folder {folder} is {where}")
    expected = set(checked) | {prefix + SIGNATURE for prefix in prefixes}
    if folders and ARCHIVE_KEY in names:
        if not _same_key(files, public):
            raise VerificationError(f"the archive's {ARCHIVE_KEY} is not the public key given "
                                    "to verify with")
        expected.add(ARCHIVE_KEY)
    extra = sorted(names - expected)
    if extra:
        raise VerificationError(f"{extra[0]} is not part of the signed release (not listed in "
                                f"{PACKAGE})")
    return checked


def _public(public_pem: str | bytes):
    try:
        return load_public_pem(public_pem)
    except ValueError:
        raise VerificationError("the public key is not an Ed25519 public key in PEM form") from None


def verify_files(files: dict[str, bytes], signature: bytes, public_pem: str | bytes) -> list[str]:
    """Verify a release held in memory: `files` by name (datapackage.json and its resources)
    and the signature over datapackage.json. Returns the verified names, datapackage.json
    first; raises VerificationError naming the first failure."""
    return _verify(_Memory({**files, SIGNATURE: signature}), _public(public_pem))


def verify_download(path: Path, public_pem: str | bytes) -> list[str]:
    """Verify a download as it is on disk: the zip the API sent, or the folder it was
    unpacked into (a release, or a region's archive of releases). Returns the verified names;
    raises VerificationError naming the first failure."""
    public = _public(public_pem)
    path = Path(path)
    if path.is_dir():
        return _verify(_Folder(path), public)
    if not path.exists():
        raise VerificationError(f"{path} does not exist")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise VerificationError(f"{path} is neither a folder nor a readable zip archive "
                                f"({exc})") from None
    with archive:
        return _verify(_Zip(archive), public)
