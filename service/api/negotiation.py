"""Choosing JSON or CSV for a route that answers in both (`/v1/compare`, the weekly series):
`format=` wins; otherwise CSV when `Accept` names text/csv before any JSON. The route lists
both media types in its OpenAPI `responses`, so the HTTP contract's 406 lets text/csv through."""

from __future__ import annotations

from fastapi import Request, Response

CSV_MEDIA = "text/csv; charset=utf-8"
BOTH = {200: {"content": {"application/json": {}, "text/csv": {}}}}
"""The `responses=` of a route answering in JSON and CSV."""


def wants_csv(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    accept = request.headers.get("accept", "").lower()
    if "text/csv" not in accept:
        return False
    json_at = accept.find("application/json")
    return json_at < 0 or accept.find("text/csv") < json_at


def csv_response(text: str, filename: str) -> Response:
    """A CSV answer, downloaded under `filename`; it varies on Accept like its JSON twin."""
    return Response(text, media_type=CSV_MEDIA, headers={
        "Vary": "Accept", "Content-Disposition": f'attachment; filename="{filename}"'})
