"""A small client for researchers' notebooks: query, dry run, list and download releases,
as pandas DataFrames with estimate and interval columns.

    from service.client.session import Aanwezig
    aw = Aanwezig("http://127.0.0.1:8000", api_key="aw_…")
    aw.dry_run("chronic_share", group_by=["province"], filters={"sector": ["SO", "VSO"]}, rho="0.01")
    table = aw.query("chronic_share", group_by=["province"], filters={"sector": ["SO", "VSO"]}, rho="0.01")
    table[["area_code", "area_name", "estimate", "lower", "upper"]]

Errors from the service (application/problem+json) are raised as :class:`ServiceError` with
the problem's fields.
"""

from __future__ import annotations

import io
from typing import Any

import httpx
import pandas as pd


class ServiceError(Exception):
    """A problem+json answer: status, title, detail and the listed errors."""

    def __init__(self, status: int, problem: dict[str, Any]):
        self.status = status
        self.problem = problem
        self.errors = problem.get("errors", [])
        super().__init__(f"{status} {problem.get('title', '')}: {problem.get('detail', '')}"
                         + (f" {self.errors}" if self.errors else ""))


class Aanwezig:
    """The Aanwezig HTTP API. `http` may be any httpx.Client (tests pass a TestClient)."""

    def __init__(self, base_url: str = "http://127.0.0.1:8000", api_key: str | None = None,
                 *, http: httpx.Client | None = None, timeout: float = 60.0):
        headers = {"X-API-Key": api_key} if api_key else {}
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self._headers = headers

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        response = self._http.request(method, path, headers=self._headers, **kwargs)
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"title": response.reason_phrase, "detail": response.text[:200]}
            raise ServiceError(response.status_code, problem)
        return response

    def catalog(self) -> dict:
        return self._request("GET", "/v1/catalog").json()

    def budget(self, dataset: str = "2025-2026") -> dict:
        return self._request("GET", "/v1/budget", params={"dataset": dataset}).json()

    def _body(self, measure, group_by, filters, rho, half_width, dataset, dry_run) -> dict:
        body: dict[str, Any] = {"dataset": dataset, "measure": measure,
                                "group_by": list(group_by or []), "filters": filters or {},
                                "dry_run": dry_run}
        if rho is not None:
            body["budget"] = {"rho": str(rho)}
        if half_width is not None:
            body["accuracy"] = {"half_width": half_width}
        return body

    def dry_run(self, measure: str, group_by=(), filters=None, *, rho=None, half_width=None,
                dataset: str = "2025-2026") -> dict:
        """Cost (ρ, ε at δ) and expected 95% half-widths; spends nothing."""
        return self._request("POST", "/v1/queries", json=self._body(
            measure, group_by, filters, rho, half_width, dataset, True)).json()

    def query(self, measure: str, group_by=(), filters=None, *, rho=None, half_width=None,
              dataset: str = "2025-2026") -> pd.DataFrame:
        """Release (or fetch the stored release of) a query. The frame's attrs hold the
        release id, whether budget was charged, and the budget spent and left."""
        answer = self._request("POST", "/v1/queries", json=self._body(
            measure, group_by, filters, rho, half_width, dataset, False)).json()
        frame = pd.DataFrame(answer["rows"], columns=answer["columns"])
        frame.attrs.update({k: answer[k] for k in ("release_id", "charged", "spent", "budget_left")})
        return frame

    def releases(self, kind: str | None = None) -> pd.DataFrame:
        """Every published release (all pages)."""
        items, page = [], 1
        while True:
            params = {"page": page, "pageSize": 1000, **({"kind": kind} if kind else {})}
            body = self._request("GET", "/v1/releases", params=params).json()
            items += body["data"]
            if page * body["pageSize"] >= body["count"]:
                break
            page += 1
        return pd.DataFrame(items)

    def release(self, release_id: str) -> pd.DataFrame:
        """One release's cells (via Parquet, types kept)."""
        data = self._request("GET", f"/v1/releases/{release_id}", params={"format": "parquet"}).content
        return pd.read_parquet(io.BytesIO(data))

    def download(self, release_id: str, fmt: str = "zip") -> bytes:
        """The raw bytes of a release in one format (zip: all files and the signature)."""
        return self._request("GET", f"/v1/releases/{release_id}", params={"format": fmt}).content
