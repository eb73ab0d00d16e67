"""Fixtures for the HTTP tests: a real DuckDB file with the tiny register, an app built by
the factory, a TestClient running its lifespan, and one API key per principal."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.api.auth import create_key, revoke_key
from service.db import connect
from service.settings import Settings
from support.tiny_register import (
    ABSENCE_HEADER,
    ENROL_HEADER,
    SCHOOL_PO,
    SCHOOL_VO,
    csv,
    load_tiny_register,
    valid_bsn,
)

PUPILS = [valid_bsn(i) for i in (1, 2, 3)]


@dataclass(frozen=True)
class Keys:
    """Secrets of one key per principal (bootstrap admin included)."""

    school: str
    other_school: str
    researcher: str
    region: str
    other_region: str
    policy: str
    admin: str
    bootstrap: str
    revoked: str

    def header(self, name: str) -> dict[str, str]:
        return {"X-API-Key": getattr(self, name)}


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(mode="dev", db=tmp_path / "api.duckdb", max_upload_bytes=20_000)


@pytest.fixture(scope="session")
def keyed_template(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """One database with the tiny register and a key per principal, built once per run; each
    test gets its own copy (`keys`), so no test sees another's writes."""
    db = tmp_path_factory.mktemp("keyed-template") / "api.duckdb"
    settings = Settings(mode="dev", db=db)
    con = connect(db)
    load_tiny_register(con)
    secrets: dict[str, str] = {}
    for name, role, scope in [("school", "school", SCHOOL_PO),
                              ("other_school", "school", SCHOOL_VO),
                              ("researcher", "researcher", "r-1"),
                              ("region", "region", "municipality:GM0363"),
                              ("other_region", "region", "municipality:GM0362"),
                              ("policy", "policy", None), ("admin", "admin", None)]:
        secrets[name] = create_key(con, settings, role, scope, f"test {name}")[1]
    revoked_id, secrets["revoked"] = create_key(con, settings, "admin", None, "revoked")
    revoke_key(con, revoked_id)
    con.execute("CHECKPOINT")
    con.close()
    assert not Path(f"{db}.wal").exists()
    return db, secrets


@pytest.fixture
def keys(settings, keyed_template) -> Keys:
    """The test's database (`settings.db`): a copy of the keyed template."""
    template, secrets = keyed_template
    assert not settings.db.exists(), f"{settings.db} exists before its keys"
    shutil.copyfile(template, settings.db)
    return Keys(bootstrap=settings.admin_key, **secrets)


@pytest.fixture
def client(settings, keys) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def enrolments_csv() -> bytes:
    a, b, c = PUPILS
    return csv([[a, 2017, 3, "GM0363", "2025-09-01", None],
                [b, 2016, 4, "GM0362", "2025-09-01", "2025-09-15"],
                [c, 2018, 2, "GM0363", "2025-09-08", ""]], ENROL_HEADER)


def absences_csv(hours: str = "5") -> bytes:
    a, b, _ = PUPILS
    return csv([[a, "2025-09-02", hours, "sick"], [b, "2025-09-03", "0.25", "late"]],
               ABSENCE_HEADER)


def upload_files(hours: str = "5") -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", ("enrolments.csv", enrolments_csv(), "text/csv")),
            ("files", ("absences.csv", absences_csv(hours), "text/csv"))]


def admin_database(folder: Path, **options) -> tuple[Settings, str]:
    """Dev settings for a new database in `folder` (made if missing) with the tiny register and
    one admin key: (settings, the admin key's secret)."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = Settings(mode="dev", db=folder / "api.duckdb", **options)
    con = connect(settings.db)
    load_tiny_register(con)
    _, admin = create_key(con, settings, "admin", None, "admin test")
    con.close()
    return settings, admin
