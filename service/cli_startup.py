"""Start-up checks of the command line: settings, and for `serve` the database and the port.
Whatever is wrong is one line that says what and how to fix it, with exit code 2 (never a
pydantic or DuckDB traceback, or a page of validation text).

A database filled by `aanwezig demo` (or from `aanwezig synth` files) was made with the
development secrets; serving it in production mode fails on the missing secrets, and the
line then says to serve it with AANWEZIG_MODE=demo instead of asking for production secrets
that would not match its data anyway.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import duckdb
import typer
from rich.console import Console

from service.cli_remote import DatabaseBusy, open_for_writing, running_service
from service.settings import Settings, describe_invalid


def load(db: Path, console: Console, *, serving: bool = False, **overrides) -> Settings:
    """Settings for `db` with `overrides` (None values left out), or one line and exit 2.

    A database made by `aanwezig demo` (or from `aanwezig synth` files) carries its mode: it
    holds synthetic data only, made with the development secrets, so a command other than
    `serve` run on it in a new shell without AANWEZIG_MODE uses demo mode and says so in one
    line on stderr. `serve` (which listens on the network with the development admin key) and
    an explicit AANWEZIG_MODE=production are refused with the exact command to use."""
    given = {"db": db, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return Settings(**given)
    except ValueError as exc:
        text = describe_invalid(exc)
        if "must be set" in text and holds_synthetic_data(db):
            if not serving and "mode" not in given and not os.environ.get("AANWEZIG_MODE"):
                Console(stderr=True).print(
                    f"note: {db} holds synthetic data from `aanwezig demo`: using "
                    "AANWEZIG_MODE=demo", markup=False, highlight=False, soft_wrap=True)
                return Settings(**{**given, "mode": "demo"})
            command = "serve --db " + str(db) if serving else " ".join(sys.argv[1:])
            text = (f"{db} holds synthetic data from `aanwezig demo` or `aanwezig synth`, made "
                    f"with the development secrets, and AANWEZIG_MODE is production. Fix: "
                    f"AANWEZIG_MODE=demo aanwezig {command} (never for real pupils' data)")
        refuse(console, text)


def refuse(console: Console, text: str) -> None:
    """Print `text` as one `refused:` line and exit 2."""
    console.print(f"refused: {text}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def ready_to_serve(db: Path, host: str, port: int, console: Console) -> None:
    """Refuse (one line, exit 2) to serve `db` when a service already serves it, another
    process holds the file, or the address is taken; the server would otherwise fail inside
    its start-up with a traceback."""
    other = running_service(db)
    if other is not None:
        refuse(console, f"{db} is already served at {other}. Fix: use that service, or stop "
                        f"it before serving the file again")
    if not Path(db).parent.is_dir():
        refuse(console, f"no folder {Path(db).parent} for the database {db}. Fix: create the "
                        f"folder, or pass --db with an existing one")
    if port:
        try:
            with socket.create_server((host, port)):
                pass
        except OSError as exc:
            reason = (exc.strerror or type(exc).__name__).split(" (while attempting")[0]
            refuse(console, f"cannot listen on {host}:{port} ({reason}). Fix: choose another "
                            f"--port, or stop what listens there")
    try:
        open_for_writing(db).close()
    except DatabaseBusy as exc:
        who = f"process {exc.pid}" if exc.pid else "another process"
        refuse(console, f"the database {db} is in use by {who} (DuckDB lets one process write "
                        f"a file). Fix: stop that process, then serve again")
    except duckdb.Error as exc:
        refuse(console, f"the database {db} cannot be opened ({type(exc).__name__}). Fix: pass "
                        f"--db with a DuckDB file made by aanwezig, or a new path")


def holds_synthetic_data(db: Path) -> bool:
    """Whether `db` exists and holds batches ingested from synthetic files (a quick read-only
    look; False when the file is absent, busy or from before the marker table)."""
    if not Path(db).is_file():
        return False
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return False
    try:
        return con.execute("SELECT count(*) FROM synthetic_batch").fetchone()[0] > 0
    except duckdb.Error:
        return False
    finally:
        con.close()
