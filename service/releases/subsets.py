"""One area's part of a release (the area itself, its schools, and its parents for context),
as a signed file set of its own; and a cache of built file sets.

Every cell of a release is already differentially private, so any subset of cells is too; the
subset is signed with the service's key when it is built, and its datapackage.json names the
release it was cut from. A subset is always built in the current file format (every resource
with its Table Schema), whatever format the release it was cut from was stored in.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict

import duckdb

from privacy.ledger import ReleaseRecord
from service import errors
from service.releases.files import FORMAT, ReleaseFiles, build_files, canonical_bytes
from service.settings import Settings
from service.releases.signing import private_key, sign

#: register column of `school` for each level a region can be scoped to
SCHOOL_COLUMN = {"municipality": "municipality_code", "province": "province_code",
                 "rmc": "rmc_code", "swv": "swv_code", "school": "school_id"}


class UnknownArea(errors.NotFound, LookupError):
    def __init__(self, level: str, code: str):
        self.level, self.code = level, code
        super().__init__(f"no area {level}:{code} in the register",
                         detail="no such area in the register",
                         errors=[{"in": "path", "field": "code",
                                  "message": f"no area {level}:{code} in the register"}])


def area_members(con: duckdb.DuckDBPyConnection, level: str, code: str) -> set[tuple[str, str]]:
    """(level, code) pairs of the area, its schools and its parents (province, country)."""
    column = SCHOOL_COLUMN.get(level)
    if column is None:
        if level == "country" and code == "NL":
            return {("country", "NL")}
        raise UnknownArea(level, code)
    rows = con.execute(f"SELECT school_id, municipality_code, province_code FROM school "
                       f"WHERE {column} = ?", [code]).fetchall()
    exists = rows or con.execute(
        "SELECT 1 FROM area WHERE code = ? AND (level = ? OR (? = 'swv' AND level IN ('swv_po','swv_vo')))",
        [code, level, level]).fetchone()
    if not exists:
        raise UnknownArea(level, code)
    members = {(level, code), ("country", "NL")}
    members |= {("school", r[0]) for r in rows}
    if level in ("municipality", "school"):
        members |= {("municipality", r[1]) for r in rows}
    if level in ("municipality", "school", "province"):
        members |= {("province", r[2]) for r in rows}
    return members


def subset_payload(record: ReleaseRecord, members: set[tuple[str, str]], level: str,
                   code: str) -> bytes:
    payload = json.loads(record.payload)
    i_level = payload["columns"].index("level")
    i_code = payload["columns"].index("area_code")
    payload["rows"] = [r for r in payload["rows"] if (r[i_level], r[i_code]) in members]
    payload["subset"] = {"of_release": record.release_id, "of_content_hash": record.content_hash,
                         "area": f"{level}:{code}"}
    payload["release_id"] = f"{record.release_id}-{level}-{code}"
    payload["format"] = FORMAT     # signed now, so in the current format
    return canonical_bytes(payload)


class FileCache:
    """Built (and, for subsets, signed) file sets, least recently used dropped first."""

    def __init__(self, size: int = 256):
        self._items: OrderedDict[tuple, ReleaseFiles] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple, build) -> ReleaseFiles:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        files = build()
        with self._lock:
            self._items[key] = files
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return files


def release_files(record: ReleaseRecord) -> ReleaseFiles:
    """The stored release's own files with its stored signature: the Parquet bytes it was
    signed over when they were kept (a rebuild would differ after a pyarrow upgrade), else
    rebuilt from the payload (releases stored before they were kept)."""
    return ReleaseFiles(build_files(record.payload, parquet=record.parquet), record.signature)


def area_files(con: duckdb.DuckDBPyConnection, settings: Settings, record: ReleaseRecord,
               level: str, code: str) -> ReleaseFiles:
    """One area's signed subset of a release."""
    payload = subset_payload(record, area_members(con, level, code), level, code)
    files = build_files(payload)
    return ReleaseFiles(files, sign(private_key(settings), files["datapackage.json"]))
