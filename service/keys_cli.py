"""`aanwezig keys create|revoke|list`: API keys from the command line (the data steward's
tool; mirrors POST/DELETE/GET /v1/keys). The secret is printed once and never stored."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from service.api import auth
from service.db import connect
from service.settings import Settings

keys_app = typer.Typer(help="Create, revoke and list API keys.", no_args_is_help=True)
console = Console()

DbOption = Annotated[Path, typer.Option("--db", envvar="AANWEZIG_DB", help="DuckDB database file")]


def keys_create(settings: Settings, role: str, scope: str | None, label: str) -> tuple[str, str]:
    """Create a key in settings.db; returns (key_id, secret)."""
    con = connect(settings.db)
    try:
        return auth.create_key(con, settings, role, scope, label)
    finally:
        con.close()


def keys_revoke(settings: Settings, key_id: str) -> None:
    con = connect(settings.db)
    try:
        auth.revoke_key(con, key_id)
    finally:
        con.close()


def keys_list(settings: Settings) -> list[auth.ApiKey]:
    con = connect(settings.db)
    try:
        return auth.list_keys(con)
    finally:
        con.close()


@keys_app.command("create")
def create_command(
    role: Annotated[str, typer.Option(help="school, researcher, region, policy or admin")],
    scope: Annotated[Optional[str], typer.Option(
        help="school id (12AB00), researcher id, or level:code (municipality:GM0363)")] = None,
    label: Annotated[str, typer.Option(help="who holds the key")] = "",
    db: DbOption = Path("aanwezig.duckdb"),
) -> None:
    """Create a key and print its secret (shown only now)."""
    try:
        key_id, secret = keys_create(Settings(db=db), role, scope, label)
    except auth.InvalidKeySpec as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    console.print(f"key id: {key_id}")
    console.print(f"secret (shown once; send it in the {auth.API_KEY_HEADER} header):")
    typer.echo(secret)


@keys_app.command("revoke")
def revoke_command(key_id: Annotated[str, typer.Argument(help="the key id")],
                   db: DbOption = Path("aanwezig.duckdb")) -> None:
    """Revoke a key; it stops working at once."""
    try:
        keys_revoke(Settings(db=db), key_id)
    except auth.KeyNotFound as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=1) from exc
    console.print(f"revoked {key_id}")


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


@keys_app.command("list")
def list_command(db: DbOption = Path("aanwezig.duckdb")) -> None:
    """List keys (ids, roles, scopes; never secrets)."""
    table = Table()
    for name in ("key id", "role", "scope"):
        table.add_column(name, no_wrap=True)
    for name in ("label", "created", "revoked"):
        table.add_column(name)
    for key in keys_list(Settings(db=db)):
        table.add_row(key.key_id, key.role.value, key.scope or "", key.label,
                      _when(key.created_at), _when(key.revoked_at))
    console.print(table)
