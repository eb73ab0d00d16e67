"""Settings from the environment (prefix ``AANWEZIG_``), validated once at start-up.

Outside ``demo``/``dev`` mode the secrets (pupil-number HMAC key, release signing key,
admin bootstrap key) must be set and must not be the development defaults; the
validator refuses to build settings otherwise.
"""

from __future__ import annotations

import base64
import os
import re
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_HMAC_KEY = "dev-only-hmac-key-not-for-production"
DEV_ADMIN_KEY = "dev-only-admin-key-not-for-production"
#: The named steps where `AANWEZIG_TEST_PAUSE_AT` can hold a process, and for how long (seconds).
#: Publishing a release (tests/system/test_crash_releases.py kills the process there, long before
#: the pause ends): inside the charge's transaction, the budget raised but the release not yet
#: stored and nothing committed; the transaction committed, the job not yet marked done.
#: An upload holding its share of the memory budget, before its files are read
#: (tests/system/test_upload_memory_budget.py: an upload arriving then must be refused).
PAUSE_SECONDS = {"release.charged": 600.0, "release.stored": 600.0, "upload.reserved": 8.0}
PAUSE_STEPS = tuple(PAUSE_SECONDS)
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


class Settings(BaseSettings):
    """Every setting the service reads. Documented in docs/settings.md (a test checks)."""

    model_config = SettingsConfigDict(env_prefix="AANWEZIG_", extra="ignore")

    mode: Literal["production", "dev", "demo"] = Field(
        "production", description="production refuses missing or development secrets"
    )
    db: Path = Field(Path("aanwezig.duckdb"), description="path of the DuckDB database file")
    hmac_key: str = Field(
        "", description="secret key for pseudonymising pupil numbers (HMAC-SHA256)"
    )
    signing_key: str = Field(
        "", description="Ed25519 private key for signing releases, base64 of the 32 raw bytes"
    )
    admin_key: str = Field("", description="bootstrap API key with the admin role")
    max_upload_bytes: int = Field(
        64 * 1024 * 1024, description="largest accepted upload (bytes, all files together)"
    )
    max_errors: int = Field(100, ge=1, description="most validation errors listed per batch")
    max_upload_rows: int = Field(
        500_000, ge=1, description="most data rows in one uploaded file (checked before decoding)"
    )
    max_decoded_bytes: int = Field(
        128 * 1024 * 1024, ge=1024,
        description="largest decoded (uncompressed) size of one uploaded Parquet file: from its "
                    "page headers before decoding, and counted while decoding (never the footer's claim)",
    )
    upload_memory: int = Field(
        1024 * 1024 * 1024, ge=64 * 1024 * 1024,
        description="memory (bytes) shared by the uploads the service parses, validates and "
                    "stores at once: each reserves 10x its size plus 16 MiB and waits for its "
                    "share; one larger than the whole budget runs alone")
    upload_wait_seconds: float = Field(
        300.0, gt=0, le=3600,
        description="longest an upload waits for its share of AANWEZIG_UPLOAD_MEMORY; after "
                    "that it is refused with 503 and Retry-After (nothing read or stored)")
    engine: Literal["duckdb", "spark"] = Field(
        "duckdb", description="engine for derive and the true aggregates of releases: duckdb "
        "(embedded, the database file) or spark (reads the uploads from the Parquet lake)"
    )
    lake: Path | None = Field(
        None, description="folder of the Parquet lake: every stored batch is also written there, "
        "partitioned by school year and school; the spark engine reads it (and writes the "
        "derived tables under derived/)"
    )
    spark_master: str = Field(
        "local[2]", description="Spark master URL for the spark engine (local[N] or a cluster's)"
    )
    spark_driver_memory: str = Field(
        "4g", description="memory of the Spark driver JVM (local mode: the whole engine)"
    )
    response_cache_bytes: int = Field(
        256 * 1024 * 1024,
        description="memory for public answers (releases, catalogue) kept by the in-process cache",
    )
    cors_origins: str = Field(
        "*", description="origins whose pages may read the public GET routes (CORS): * for any origin "
                    "(the default), a comma-separated list of origins (scheme://host[:port]), or "
                    "empty for none; routes that take an API key never answer CORS")

    yearly_rho: str = Field(
        "1", pattern=r"^[0-9]+(\.[0-9]+)?$",
        description="zCDP rho of a school year's global cap, fixed when the year's budget is "
                    "opened (its first release): standard pool 60%, weekly 20%, researchers 20% "
                    "(each researcher's allowance 5%); a service meant to run for years keeps "
                    "yearly_rho x lifetime_years <= lifetime_rho (docs/privacy.md)")
    lifetime_rho: str = Field(
        "4", pattern=r"^[0-9]+(\.[0-9]+)?$",
        description="zCDP rho one pupil may lose over any window of lifetime_years consecutive "
                    "school years together (docs/privacy.md, 'Across school years')")
    lifetime_years: int = Field(17, ge=1, le=40,
                                description="school years in the rolling window of lifetime_rho")
    weekly_release_at: str = Field(
        "MON 06:00", pattern=r"^(MON|TUE|WED|THU|FRI|SAT|SUN) ([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="when the service publishes the weekly release of the school week before "
                    "(day and local time in AANWEZIG_TIMEZONE)")
    timezone: str = Field("Europe/Amsterdam", description="time zone of the weekly schedule")
    weekly_release_auto: bool | None = Field(
        None, description="publish weekly releases on the schedule; default: on in production, "
                          "off in dev and demo")

    test_pause_at: Literal[PAUSE_STEPS] | None = Field(
        None, description="tests only, refused outside dev mode: hold the thread that publishes "
                          "a release at this named step (release.charged, release.stored) so a "
                          "crash test can kill the process there, or an upload holding its share "
                          "of the memory budget (upload.reserved, 8 s)")

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        if value.strip() in ("*", ""):
            return value.strip()
        for origin in value.split(","):
            if not _ORIGIN.fullmatch(origin.strip()):
                raise ValueError("must be *, empty, or origins separated by commas, each "
                                 "scheme://host[:port] with no path, e.g. "
                                 "https://example.nl,http://localhost:8080")
        return value

    @property
    def cors_allow_list(self) -> tuple[str, ...] | None:
        """The origins of AANWEZIG_CORS_ORIGINS (lower-cased), or None for any origin (*)."""
        if self.cors_origins.strip() == "*":
            return None
        return tuple(o.strip().lower() for o in self.cors_origins.split(",") if o.strip())

    @property
    def weekly_schedule_on(self) -> bool:
        return self.mode == "production" if self.weekly_release_auto is None else self.weekly_release_auto

    def pause_point(self, step: str) -> None:
        """A named step of a release or an upload (`PAUSE_STEPS`). Does nothing unless
        `test_pause_at` names this step (dev mode only); then says so on stderr and sleeps
        (`PAUSE_SECONDS`), so a test can `kill -9` the process, or act, at a known point."""
        if self.test_pause_at is None or self.test_pause_at != step:
            return
        sys.stderr.write(f"aanwezig: test pause at {step} (process {os.getpid()})\n")
        sys.stderr.flush()
        time.sleep(PAUSE_SECONDS[step])

    @model_validator(mode="after")
    def _secrets(self) -> "Settings":
        if self.test_pause_at is not None and self.mode != "dev":
            raise ValueError("AANWEZIG_TEST_PAUSE_AT is for crash tests: only in dev mode")
        if self.mode in ("dev", "demo"):
            if not self.hmac_key:
                self.hmac_key = DEV_HMAC_KEY
            if not self.admin_key:
                self.admin_key = DEV_ADMIN_KEY
            return self._engine_needs_lake()
        problems = []
        if not self.hmac_key or self.hmac_key == DEV_HMAC_KEY or len(self.hmac_key) < 32:
            problems.append("AANWEZIG_HMAC_KEY must be set to a secret of at least 32 characters")
        if not self.admin_key or self.admin_key == DEV_ADMIN_KEY or len(self.admin_key) < 24:
            problems.append("AANWEZIG_ADMIN_KEY must be set to a secret of at least 24 characters")
        if not self.signing_key:
            problems.append("AANWEZIG_SIGNING_KEY must be set (base64 Ed25519 private key)")
        else:
            try:
                raw = base64.b64decode(self.signing_key, validate=True)
            except ValueError:
                raw = b""
            if len(raw) != 32:
                problems.append("AANWEZIG_SIGNING_KEY must be base64 of 32 raw bytes")
        if problems:
            raise ValueError("; ".join(problems))
        return self._engine_needs_lake()

    @model_validator(mode="after")
    def _yearly_budget(self) -> "Settings":
        if not Decimal(self.yearly_rho) > 0:
            raise ValueError("AANWEZIG_YEARLY_RHO must be a zCDP rho above 0")
        return self

    def _engine_needs_lake(self) -> "Settings":
        if self.engine == "spark" and self.lake is None:
            raise ValueError("AANWEZIG_ENGINE=spark needs AANWEZIG_LAKE (the Parquet lake folder)")
        return self


SECRET_FIX = ("set them in the environment (docs/settings.md shows how to make each), or "
              "use AANWEZIG_MODE=dev with a development database")


def describe_invalid(exc: ValueError) -> str:
    """One line for settings that failed validation: each variable and what it needs (never
    the value given, which may be a secret), and the fix."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    parts, secrets = [], False
    for error in errors():
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        location = [str(part) for part in error.get("loc", ()) if part != "__root__"]
        if location:
            parts.append(f"AANWEZIG_{location[0].upper()}: {message}")
        else:
            parts.append(message)
            secrets = secrets or "must be set" in message
    return "; ".join(parts) + (f". Fix: {SECRET_FIX}" if secrets else "")
