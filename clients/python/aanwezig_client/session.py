"""The Aanwezig API for notebooks: every read path, tables as pandas DataFrames.

Facts that belong to a table (its release, what it cost, what is left, whether it fits, the
summary in words) are in the frame's ``attrs``. The school year is the service's latest (that
of its newest standard release) unless ``school_year=`` is given, to the client or a call.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from aanwezig_client.verify import verify as verify_download

KEY_HEADER = "X-API-Key"
WARNING_COLUMNS = ["signal", "level", "area_code", "area_name", "week", "flagged", "z",
                   "threshold", "reason"]


class ServiceError(Exception):
    """A problem+json answer: status, title, detail and the listed errors."""

    def __init__(self, status: int, problem: dict[str, Any]):
        self.status = status
        self.problem = problem
        self.errors = problem.get("errors", [])
        super().__init__(f"{status} {problem.get('title', '')}: {problem.get('detail', '')}"
                         + (f" {self.errors}" if self.errors else ""))


class Aanwezig:
    """A session with the service. `http` may be any httpx.Client (a test passes a TestClient
    or a client with its own transport); else one is made for `base_url`."""

    def __init__(self, base_url: str = "http://127.0.0.1:8000", api_key: str | None = None, *,
                 school_year: str | None = None, http: httpx.Client | None = None,
                 timeout: float = 60.0):
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self._headers = {KEY_HEADER: api_key} if api_key else {}
        self._school_year = school_year

    # -- plumbing -------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        response = self._http.request(method, path, headers=self._headers, **kwargs)
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"title": response.reason_phrase, "detail": response.text[:200]}
            raise ServiceError(response.status_code, problem)
        return response

    def _get(self, path: str, **params) -> Any:
        return self._request("GET", path, params={k: v for k, v in params.items()
                                                  if v is not None}).json()

    def _pages(self, path: str, **params) -> pd.DataFrame:
        items, page = [], 1
        while True:
            body = self._get(path, page=page, pageSize=1000, **params)
            items += body["data"]
            if page * body["pageSize"] >= body["count"]:
                return pd.DataFrame(items)
            page += 1

    @property
    def school_year(self) -> str:
        """The school year calls use: the one given, else the service's latest."""
        if self._school_year is None:
            self._school_year = self._latest_school_year()
        return self._school_year

    def _latest_school_year(self) -> str:
        try:
            return self._get("/v1/compare/options")["dataset"]
        except ServiceError:
            years = self.releases(kind="standard").get("dataset")
            if years is None or years.empty:
                raise ServiceError(404, {"title": "No school year", "detail": (
                    "the service has published no standard release yet: pass school_year=")})
            return str(years.max())

    def _year(self, school_year: str | None) -> str:
        return school_year or self.school_year

    # -- service and catalogue ------------------------------------------------------------
    def health(self) -> dict:
        return self._get("/v1/health")

    def me(self) -> dict:
        return self._get("/v1/me")

    def catalog(self) -> dict:
        """The whole catalogue document (measures, totals, dimensions, bounds)."""
        return self._get("/v1/catalog")

    def measures(self) -> pd.DataFrame:
        return pd.DataFrame(self.catalog()["measures"])

    def dimensions(self) -> pd.DataFrame:
        return pd.DataFrame(self.catalog()["dimensions"])

    # -- queries --------------------------------------------------------------------------
    def _body(self, measure, group_by, filters, rho, half_width, unit, min_group,
              school_year, dry_run) -> dict:
        body: dict[str, Any] = {"dataset": self._year(school_year), "measure": measure,
                                "group_by": list(group_by or []), "filters": filters or {},
                                "dry_run": dry_run}
        if rho is not None:
            body["budget"] = {"rho": str(rho)}
        if half_width is not None:
            body["accuracy"] = {"half_width": half_width,
                                **({"unit": unit} if unit else {}),
                                **({"min_group": min_group} if min_group else {})}
        return body

    def dry_run(self, measure: str, group_by=(), filters=None, *, rho=None, half_width=None,
                unit: str | None = None, min_group: int | None = None,
                school_year: str | None = None) -> pd.DataFrame:
        """What a query would cost, spending nothing: one row per total with its expected
        95% half-width; ``attrs`` say whether it is stored (free) or new, its cost, what is
        left after it, whether it fits (else the most accurate request that does), and a
        summary in words. A target: ``half_width`` in ``unit`` (percentage_points or fraction
        for rates and shares, pupils for counts)."""
        answer = self._request("POST", "/v1/queries", json=self._body(
            measure, group_by, filters, rho, half_width, unit, min_group, school_year,
            True)).json()
        frame = pd.DataFrame(answer.pop("expected"))
        frame.attrs.update(answer)
        return frame

    def query(self, measure: str, group_by=(), filters=None, *, rho=None, half_width=None,
              unit: str | None = None, min_group: int | None = None,
              school_year: str | None = None) -> pd.DataFrame:
        """Release (or fetch the stored release of) a query: one row per cell with estimate,
        lower and upper; ``attrs`` hold the release id, whether this call paid, its cost,
        what is left after it and a summary in words."""
        answer = self._request("POST", "/v1/queries", json=self._body(
            measure, group_by, filters, rho, half_width, unit, min_group, school_year,
            False)).json()
        frame = pd.DataFrame(answer.pop("rows"), columns=answer.pop("columns"))
        frame.attrs.update(answer)
        return frame

    # -- budget ---------------------------------------------------------------------------
    def budget(self, school_year: str | None = None) -> pd.DataFrame:
        """One row per scope (your allowance, the researchers' pool, the school year, the
        cap across school years): cap, spent and left in ρ (decimal) and ε at δ; ``attrs``
        hold the summary in words and the whole document (``document``)."""
        doc = self._get("/v1/budget", dataset=self._year(school_year))
        scopes = []
        if "allowance" in doc:
            scopes.append(("your allowance", doc["allowance"]))
        scopes += [(f"pool: {name}", entry) for name, entry in doc.get("pools", {}).items()]
        if "global" in doc:
            scopes.append(("school year", doc["global"]))
        life = doc.get("lifetime") or {}
        if "cap" in life:
            scopes.append(("across school years", {"cap": life["cap"],
                                                   "spent": life["spent_worst_window"],
                                                   "remaining": life["remaining"]}))
        frame = pd.DataFrame([{"scope": name,
                               "cap_rho": e["cap"]["rho_decimal"], "spent_rho": e["spent"]["rho_decimal"],
                               "left_rho": e["remaining"]["rho_decimal"],
                               "cap_epsilon": e["cap"]["epsilon"], "spent_epsilon": e["spent"]["epsilon"],
                               "delta": e["cap"]["delta"]} for name, e in scopes])
        frame.attrs.update({"summary": doc.get("summary"), "in_words": doc.get("in_words"),
                            "document": doc})
        return frame

    # -- releases and downloads -----------------------------------------------------------
    def releases(self, kind: str | None = None) -> pd.DataFrame:
        """Every published release (all pages)."""
        return self._pages("/v1/releases", kind=kind)

    def release(self, release_id: str) -> pd.DataFrame:
        """One release's cells; ``attrs`` hold its spec, method, budget and release id."""
        payload = self._get(f"/v1/releases/{release_id}", format="json")
        frame = pd.DataFrame(payload.pop("rows"), columns=payload.pop("columns"))
        frame.attrs.update(payload)
        return frame

    def download(self, release_id: str, fmt: str = "zip") -> bytes:
        """The bytes of a release in one format (zip: every file and the signature)."""
        return self._request("GET", f"/v1/releases/{release_id}", params={"format": fmt}).content

    def area_download(self, release_id: str, level: str, code: str, fmt: str = "zip") -> bytes:
        """One area's part of a release (zip: signed like a release)."""
        return self._request("GET", f"/v1/releases/{release_id}/areas/{level}/{code}",
                             params={"format": fmt}).content

    def region_archive(self, level: str, code: str) -> bytes:
        """Everything published for one area (public): a folder per release, index.csv,
        weekly.csv (every published week), the archive's signed package and the signing key."""
        return self._request("GET", f"/v1/regions/{level}/{code}/archive").content

    def datapackage(self, release_id: str) -> dict:
        return self._get(f"/v1/releases/{release_id}/datapackage")

    def signature(self, release_id: str) -> bytes:
        return self._request("GET", f"/v1/releases/{release_id}/signature").content

    def signing_key(self) -> bytes:
        """The service's Ed25519 public key (PEM)."""
        return self._request("GET", "/v1/signing-key").content

    def verify(self, download: bytes | str | Path, public_pem: bytes | str | None = None) -> list[str]:
        """Verify a release download (zip bytes, a zip file or an unpacked folder) offline:
        the Ed25519 signature over datapackage.json and every file's sha256. With no key
        given, the service's is fetched (keep it yourself to verify without trusting the
        same channel). Returns the verified names; raises VerificationError."""
        return verify_download(download, public_pem if public_pem is not None else self.signing_key())

    # -- comparisons ----------------------------------------------------------------------
    def compare_options(self, school_year: str | None = None) -> dict:
        return self._get("/v1/compare/options", dataset=school_year)

    def compare(self, measure: str, areas=None, *, level: str | None = None,
                sector: str | None = None, school_year: str | None = None) -> pd.DataFrame:
        """Areas of the standard release with their intervals and comparison with the
        Netherlands: `areas` as "level:code" strings, or a whole `level`. ``attrs`` hold the
        national row, the pairwise differences (a DataFrame) and the method."""
        body = self._get("/v1/compare", measure=measure, level=level, sector=sector,
                         areas=",".join(areas) if areas else None,
                         dataset=self._year(school_year))
        frame = pd.json_normalize(body.pop("areas"))
        body["differences"] = pd.json_normalize(body.get("differences") or [])
        frame.attrs.update(body)
        return frame

    # -- weekly series --------------------------------------------------------------------
    def weekly_series(self, measure: str, level: str, area: str, *, sector: str | None = None,
                      school_year: str | None = None) -> pd.DataFrame:
        """One area's weekly series: a row per released week with estimate and interval."""
        body = self._get(f"/v1/weekly/{self._year(school_year)}/series", measure=measure,
                         level=level, area=area, sector=sector)
        frame = pd.DataFrame(body.pop("data"))
        frame.attrs.update(body)
        return frame

    def weekly_warnings(self, *, week: int | None = None, flagged_only: bool = False,
                        school_year: str | None = None) -> pd.DataFrame:
        """Early warnings of the weekly series: a row per area and week (the columns are
        there when there is none)."""
        rows = self._get(f"/v1/weekly/{self._year(school_year)}/warnings", week=week,
                         flaggedOnly=str(flagged_only).lower())
        return pd.DataFrame(rows, columns=None if rows else WARNING_COLUMNS)

    # -- register -------------------------------------------------------------------------
    def areas(self, level: str | None = None, parent: str | None = None) -> pd.DataFrame:
        """Public areas (all pages), e.g. level="municipality", parent="PV27"."""
        return self._pages("/v1/areas", level=level, parent=parent)

    def schools(self, municipality: str | None = None, sector: str | None = None) -> pd.DataFrame:
        """Schools of the public register (all pages)."""
        return self._pages("/v1/schools", municipality=municipality, sector=sector)

    def __repr__(self) -> str:
        return f"Aanwezig({str(self._http.base_url)!r})"


def summary(frame: pd.DataFrame) -> str:
    """The summary in words a frame carries (dry run, query, budget), or its attrs as JSON."""
    return frame.attrs.get("summary") or json.dumps(frame.attrs, default=str)
