"""How the writing commands (`ingest`, `release`, `release-week`, `keys create|revoke|list`)
reach a database that a running service holds: DuckDB lets one process write a file, so
while `aanwezig serve` runs they talk to it through its API, as the admin
(`AANWEZIG_ADMIN_KEY`), instead of opening the file.

Which service: `--url` (or `AANWEZIG_URL`), else the one that announced itself for this
database file in `<db>.service.json` (written by `serve`, with its process id and address).
Without either, the command opens the file itself; if another process holds it, the command
says so and what to do (:func:`open_for_writing`), never a bare "database is locked".
Standard library only (urllib)."""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    from service.db import Database


class ServiceError(Exception):
    """The service refused or could not be reached; the message says what it answered."""


class DatabaseBusy(Exception):
    """Another process holds the database file for writing."""

    def __init__(self, db: Path, pid: int | None) -> None:
        who = f"process {pid}" if pid else "another process"
        super().__init__(
            f"the database {db} is in use by {who} (DuckDB lets one process write a file). "
            f"If that is the running service, start it with `aanwezig serve` (it announces "
            f"itself, and this command then goes through its API) or pass its address with "
            f"--url http://HOST:PORT (or AANWEZIG_URL); otherwise stop that process and try again.")
        self.db, self.pid = db, pid


def announcement(db: Path) -> Path:
    """Where a running service announces itself for the database file `db`."""
    return Path(f"{db}.service.json")


def announce(db: Path, url: str) -> Path:
    path = announcement(db)
    path.write_text(json.dumps({"pid": os.getpid(), "url": url}), encoding="utf-8")
    return path


def withdraw(db: Path) -> None:
    path = announcement(db)
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def running_service(db: Path) -> str | None:
    """The address of the live service announced for `db`, or None (no file, or its process
    is gone: a service killed with -9 leaves the file behind)."""
    try:
        found = json.loads(announcement(db).read_text(encoding="utf-8"))
        os.kill(int(found["pid"]), 0)
        return str(found["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def service_url(db: Path, url: str | None) -> str | None:
    return url.rstrip("/") if url else running_service(db)


_LOCK_PID = re.compile(r"PID (\d+)")


def open_for_writing(db: Path) -> Database:
    """`service.db.Database.open(db)` (the command's database: its connection, locks,
    counters and memos), or DatabaseBusy naming the process that holds the file."""
    from service.db import Database

    try:
        return Database.open(db)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" not in text.lower():
            raise
        pid = _LOCK_PID.search(text)
        raise DatabaseBusy(db, int(pid.group(1)) if pid else None) from None


class Client:
    """A tiny JSON client of the service's API with the admin key."""

    def __init__(self, url: str, admin_key: str, timeout: float = 600.0) -> None:
        self.url, self.key, self.timeout = url.rstrip("/"), admin_key, timeout

    def request(self, method: str, path: str, body: Any = None, *,
                files: list[tuple[str, bytes]] | None = None, form: dict | None = None) -> tuple[int, Any]:
        headers = {"X-API-Key": self.key, "Accept": "application/json"}
        data = None
        if files is not None:
            boundary = uuid.uuid4().hex
            parts = []
            for name, value in (form or {}).items():
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                             f"{value}\r\n".encode())
            for filename, content in files:
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                             f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                             .encode() + content + b"\r\n")
            data = b"".join(parts) + f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as answer:
                raw = answer.read()
                return answer.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw)
            except ValueError:
                return exc.code, {"detail": raw.decode("utf-8", "replace")[:200]}
        except (urllib.error.URLError, OSError) as exc:
            raise ServiceError(f"the service at {self.url} cannot be reached ({exc})") from exc

    def ok(self, method: str, path: str, body: Any = None, **kw) -> Any:
        status, answer = self.request(method, path, body, **kw)
        if status >= 400:
            raise ServiceError(problem_text(status, answer))
        return answer

    def wait_for_job(self, job_id: int, timeout: float = 3600.0) -> dict:
        """Poll a job until it is no longer queued or running."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.ok("GET", f"/v1/jobs/{job_id}")
            if job["state"] not in ("queued", "running") or time.monotonic() > deadline:
                return job
            time.sleep(0.2)


def problem_text(status: int, answer: Any) -> str:
    if isinstance(answer, dict):
        detail = answer.get("detail") or answer.get("title") or ""
        errors = answer.get("errors") or []
        more = "; ".join(f"{e.get('file', e.get('field', ''))} row {e.get('row', '')}: "
                         f"{e.get('message', '')}" for e in errors[:5])
        return f"HTTP {status}: {detail}" + (f" ({more})" if more else "")
    return f"HTTP {status}"
