"""`aanwezig keys create|revoke|list`: API keys from the command line (the data steward's
tool; mirrors POST/DELETE/GET /v1/keys). The secret is printed once and never stored."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from service.api import auth
from service import cli_remote, cli_startup
from service.cli_console import console
from service.settings import Settings

keys_app = typer.Typer(help="Create, revoke and list API keys.", no_args_is_help=True)

DbOption = Annotated[Path, typer.Option("--db", envvar="AANWEZIG_DB", help="DuckDB database file")]
UrlOption = Annotated[Optional[str], typer.Option(
    "--url", envvar="AANWEZIG_URL",
    help="address of the running service (default: the one announced for --db, if any)")]


def _client(settings: Settings, url: str | None):
    """The running service's API client for settings.db (by --url or its announcement)."""
    found = cli_remote.service_url(settings.db, url)
    return cli_remote.Client(found, settings.admin_key) if found else None


def _open(db: Path):
    try:
        return cli_remote.open_for_writing(db)
    except cli_remote.DatabaseBusy as exc:
        console.print(f"[red]refused:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(code=1) from None


def _remote_or_exit(call):
    try:
        return call()
    except cli_remote.ServiceError as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(code=1) from None


def keys_create(settings: Settings, role: str, scope: str | None, label: str,
                url: str | None = None, expires_in_days: int | None = None) -> tuple[str, str]:
    """Create a key in settings.db (through the running service if there is one); returns
    (key_id, secret). `expires_in_days` ends the key that many days from now."""
    client = _client(settings, url)
    if client is not None:
        body = {"role": role, "scope": scope, "label": label,
                **({"expires_in_days": expires_in_days} if expires_in_days is not None else {})}
        made = _remote_or_exit(lambda: client.ok("POST", "/v1/keys", body))
        return made["key_id"], made["secret"]
    expires_at = (datetime.now(timezone.utc) + timedelta(days=expires_in_days)
                  if expires_in_days is not None else None)
    database = _open(settings.db)
    try:
        return auth.create_key(database.con, settings, role, scope, label, expires_at=expires_at,
                               database=database)
    finally:
        database.close()


def _parsed(moment: str | None) -> datetime | None:
    return datetime.fromisoformat(moment) if moment else None


def keys_revoke(settings: Settings, key_id: str, url: str | None = None) -> None:
    client = _client(settings, url)
    if client is not None:
        status, answer = _remote_or_exit(lambda: client.request("DELETE", f"/v1/keys/{key_id}"))
        if status == 404:
            raise auth.KeyNotFound(key_id)
        if status >= 400:
            console.print(f"[red]refused:[/red] {cli_remote.problem_text(status, answer)}")
            raise typer.Exit(code=1)
        return
    database = _open(settings.db)
    try:
        auth.revoke_key(database.con, key_id, database=database)
    finally:
        database.close()


def keys_list(settings: Settings, url: str | None = None) -> list[auth.ApiKey]:
    client = _client(settings, url)
    if client is not None:
        found = _remote_or_exit(lambda: client.ok("GET", "/v1/keys?pageSize=100"))
        return [auth.ApiKey(k["key_id"], auth.Role(k["role"]), k.get("scope"), k.get("label", ""),
                            _parsed(k.get("created_at")), _parsed(k.get("revoked_at")),
                            _parsed(k.get("expires_at"))) for k in found["data"]]
    database = _open(settings.db)
    try:
        return auth.list_keys(database.con)
    finally:
        database.close()


@keys_app.command("create")
def create_command(
    role: Annotated[str, typer.Option(help="school, researcher, region, policy or admin")],
    scope: Annotated[Optional[str], typer.Option(
        help="school id (12AB00), researcher id, or level:code (municipality:GM0363)")] = None,
    label: Annotated[str, typer.Option(help="who holds the key")] = "",
    expires_in_days: Annotated[Optional[int], typer.Option(
        min=1, max=3650, help="days until the key stops working (default: no expiry)")] = None,
    db: DbOption = Path("aanwezig.duckdb"),
    url: UrlOption = None,
) -> None:
    """Create a key and print its secret (shown only now). To rotate a key, create its
    successor, move the client to it, then revoke the old key."""
    try:
        key_id, secret = keys_create(cli_startup.load(db, console), role, scope, label, url, expires_in_days)
    except auth.InvalidKeySpec as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    console.print(f"key id: {key_id}")
    console.print(f"secret (shown once; send it in the {auth.API_KEY_HEADER} header):")
    typer.echo(secret)


@keys_app.command("revoke")
def revoke_command(key_id: Annotated[str, typer.Argument(help="the key id")],
                   db: DbOption = Path("aanwezig.duckdb"), url: UrlOption = None) -> None:
    """Revoke a key; it stops working at once."""
    try:
        keys_revoke(cli_startup.load(db, console), key_id, url)
    except auth.KeyNotFound as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=1) from exc
    console.print(f"revoked {key_id}")


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


@keys_app.command("list")
def list_command(db: DbOption = Path("aanwezig.duckdb"), url: UrlOption = None) -> None:
    """List keys (ids, roles, scopes; never secrets)."""
    table = Table()
    for name in ("key id", "role", "scope"):
        table.add_column(name, no_wrap=True)
    for name in ("label", "created", "expires", "revoked"):
        table.add_column(name)
    for key in keys_list(cli_startup.load(db, console), url):
        table.add_row(key.key_id, key.role.value, key.scope or "", key.label,
                      _when(key.created_at), _when(key.expires_at), _when(key.revoked_at))
    console.print(table)
