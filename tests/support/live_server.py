"""One way to run the service as a real process: `aanwezig serve` on a free loopback port
over a real DuckDB file (`start_server`, `Server`), its jobs followed over HTTP, the CLI as a
subprocess, and the check that a crash left the ledger and the stored releases in step."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import httpx
import pytest
import uvicorn

from service.api.app import uvicorn_config
from service.api.auth import create_key
from service.db import connect
from service.settings import Settings
from support.paths import ROOT
from support.tiny_register import SCHOOL_PO, load_tiny_register

YEAR = "2025-2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_in_thread(settings: Settings, log_level: str = "warning"
                    ) -> tuple[uvicorn.Server, threading.Thread, str]:
    """The app under uvicorn (the configuration `serve` uses) in a thread of this process on a
    free loopback port: (server, thread, base URL) once it has started. Stop it with
    `server.should_exit = True` and `thread.join()`."""
    port = free_port()
    config = uvicorn_config(settings, "127.0.0.1", port)
    config.log_level = log_level
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AANWEZIG_")}
    env.update(AANWEZIG_MODE="dev", PYTHONPATH=str(ROOT), **extra)
    return env


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "service.cli", *args], env=environment(),
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


def start_server(db: Path, port: int, **env: str) -> subprocess.Popen:
    log = Path(f"{db}.log")
    with log.open("ab") as err:
        proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--db", str(db),
                                 "--port", str(port)], env=environment(**env), cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text())
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the service did not start")


def wait_job(base: str, link: str, headers: dict, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = httpx.get(base + link, headers=headers, timeout=10).json()
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {link} still {job['state']}")


@pytest.fixture
def database(tmp_path):
    db = tmp_path / "live.duckdb"
    con = connect(db)
    load_tiny_register(con)
    _, secret = create_key(con, Settings(mode="dev", db=db), "school", SCHOOL_PO, "live test")
    con.close()
    return db, {"X-API-Key": secret}


class Server:
    def __init__(self, db: Path, **env: str) -> None:
        self.db = db
        self.log = Path(f"{db}.log")
        self.offset = self.log.stat().st_size if self.log.exists() else 0
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen = start_server(db, port, **env)

    def get(self, path: str, headers: dict | None = None, **params) -> httpx.Response:
        return httpx.get(self.base + path, headers=headers, params=params, timeout=30)

    def post(self, path: str, headers: dict | None = None, **kw) -> httpx.Response:
        return httpx.post(self.base + path, headers=headers, timeout=30, **kw)

    def wait_pause(self, step: str, timeout: float = 90) -> None:
        """Until this process says it holds at `step` (its stderr, appended to the log)."""
        deadline = time.monotonic() + timeout
        while f"test pause at {step} (process {self.proc.pid})" not in self.log_text():
            assert self.proc.poll() is None, self.log_text()
            assert time.monotonic() < deadline, f"never paused at {step}: {self.log_text()}"
            time.sleep(0.05)

    def log_text(self) -> str:
        with self.log.open("rb") as f:
            f.seek(self.offset)
            return f.read().decode(errors="replace")

    def kill_9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def ledger_against_releases(db: Path) -> dict:
    """Check, on the file as a crash left it, that every charge has its release and every
    release its charge, and that every cap row's spending is the sum of its releases. Returns
    {(kind, request_hash): (release_id, micro)} of the stored releases."""
    with duckdb.connect(str(db), read_only=True) as ro:
        releases = ro.execute("SELECT release_id, request_hash, dataset, micro FROM release "
                              "ORDER BY release_id").fetchall()
        charges = ro.execute("SELECT release_id, request_hash, dataset, micro FROM budget_event "
                             "WHERE kind = 'charge' ORDER BY release_id").fetchall()
        assert releases == charges, (releases, charges)
        caps = ro.execute("SELECT dataset, scope, pool, spent_micro FROM budget_cap "
                          "WHERE scope IN ('global', 'pool')").fetchall()
        by_pool = dict(((d, p), int(m)) for d, p, m in ro.execute(
            "SELECT dataset, pool, sum(micro) FROM budget_event WHERE kind = 'charge' "
            "GROUP BY dataset, pool").fetchall())
        stored = {(kind, h): (rid, micro) for rid, h, kind, micro in ro.execute(
            "SELECT release_id, request_hash, kind, micro FROM release").fetchall()}
    for dataset, scope, pool, spent in caps:
        if scope == "global":
            expected = sum(m for (d, _), m in by_pool.items() if d == dataset)
        else:
            expected = by_pool.get((dataset, pool), 0)
        assert spent == expected, (dataset, scope, pool, spent, expected)
    return stored


