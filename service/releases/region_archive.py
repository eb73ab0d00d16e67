"""A region's archive: everything published for one area, in one zip, readable without the
service (issue 27).

    aanwezig-municipality-GM0363.zip
      datapackage.json, datapackage.json.sig   the archive's own package, signed: it lists
                                               index.csv and weekly.csv with their sha256
      index.csv                                one row per release folder (what, when, rows)
      weekly.csv                               every published week of the area in one table
                                               (the weekly releases' own rows; their internal
                                               `node:*` totals left out)
      signing-key.pem                          the service's public key
      2025-2026_standard_2026-01-12_R…/        one folder per release: its signed subset for
      2025-2026_week07_2026-02-09_R…/          the area (release.csv, .json, .parquet,
                                               datapackage.json and its signature)

Folder names say the school year, the kind (standard, week NN, query) and the publication
date, and end in the release id. Every file is either a signed release's or listed with its
sha256 in the archive's signed package, and index.csv names every folder, so `aanwezig verify`
notices a changed, added or removed folder. Everything in it is public (DP releases), so the
archive needs no key.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Callable

from service.releases.files import canonical_bytes
from service.releases.files import ReleaseFiles

INDEX = "index.csv"
WEEKLY = "weekly.csv"
INDEX_FIELDS = (("folder", "string", "the release's folder in this archive"),
                ("release_id", "string", "the release (GET /v1/releases/{release_id})"),
                ("kind", "string", "standard, week or query"),
                ("dataset", "string", "school year"),
                ("week", "integer", "school week of a weekly release (empty otherwise)"),
                ("created_at", "string", "publication time (UTC)"),
                ("rows", "integer", "rows of the area's subset"),
                ("datapackage_sha256", "string", "sha256 of the folder's signed datapackage.json"))


def folder_name(item: dict) -> str:
    """`2025-2026_standard_2026-01-12_RABC…`: school year, kind (week NN), date, release id."""
    kind = item["kind"]
    if kind == "week":
        kind = f"week{int(item['spec'].get('week', 0)):02d}"
    return f"{item['dataset']}_{kind}_{item['created_at'][:10]}_{item['release_id']}"


def _csv(header: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else (";".join(v) if isinstance(v, list) else v) for v in row])
    return out.getvalue().encode("utf-8")


def _weekly(weeks: list[tuple[dict, dict]]) -> tuple[list[str], bytes]:
    """Every week release's published rows in one table, week first, `node:*` rows left out
    (they are the totals later weeks build on, without intervals of their own): its header
    and its CSV."""
    columns = next((payload["columns"] for _, payload in weeks), ["measure"])
    i_measure = columns.index("measure")
    rows = []
    for item, payload in sorted(weeks, key=lambda w: (w[0]["dataset"], int(w[0]["spec"].get("week", 0)))):
        for row in payload["rows"]:
            if not str(row[i_measure]).startswith("node:"):
                rows.append([item["dataset"], int(item["spec"].get("week", 0)), item["release_id"], *row])
    header = ["dataset", "week", "release_id", *columns]
    return header, _csv(header, rows)


def _package(level: str, code: str, files: dict[str, bytes], weekly_columns: list[str]) -> bytes:
    index_schema = {"fields": [{"name": n, "type": t, "description": d} for n, t, d in INDEX_FIELDS],
                    "missingValues": [""], "primaryKey": ["folder"]}
    weekly_schema = {"fields": [{"name": n, "type": "string"} for n in weekly_columns],
                     "missingValues": [""]}
    resources = []
    for name, schema, title in ((INDEX, index_schema, "the releases in this archive"),
                                (WEEKLY, weekly_schema, "every published week of the area")):
        resources.append({"name": name.rsplit(".", 1)[0], "path": name, "format": "csv",
                          "mediatype": "text/csv", "encoding": "utf-8", "title": title,
                          "profile": "tabular-data-resource",
                          "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "header": True},
                          "hash": "sha256:" + hashlib.sha256(files[name]).hexdigest(),
                          "schema": schema})
    return canonical_bytes({"name": f"aanwezig-{level}-{code}".lower(), "profile": "tabular-data-package",
                            "title": f"Aanwezig: everything published for {level} {code}",
                            "resources": resources})


def region_archive(level: str, code: str, items: list[dict],
                   files_of: Callable[[str], ReleaseFiles], sign: Callable[[bytes], bytes],
                   public_key_pem: str) -> bytes:
    """The zip of every release in `items` (GET /v1/releases' metadata) as `files_of` gives
    its area subset, with the index, the merged weekly table and the archive's signed
    package."""
    buf = io.BytesIO()
    index_rows, weeks = [], []
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for item in items:
            files = files_of(item["release_id"])
            folder = folder_name(item)
            for name, data in sorted(files.files.items()):
                zf.writestr(f"{folder}/{name}", data)
            zf.writestr(f"{folder}/datapackage.json.sig", files.signature)
            payload = json.loads(files.files["release.json"])
            if item["kind"] == "week":
                weeks.append((item, payload))
            index_rows.append([folder, item["release_id"], item["kind"], item["dataset"],
                               item["spec"].get("week") if item["kind"] == "week" else None,
                               item["created_at"], len(payload["rows"]),
                               hashlib.sha256(files.files["datapackage.json"]).hexdigest()])
        weekly_columns, weekly = _weekly(weeks)
        root = {INDEX: _csv([f[0] for f in INDEX_FIELDS], index_rows), WEEKLY: weekly}
        package = _package(level, code, root, weekly_columns)
        for name, data in root.items():
            zf.writestr(name, data)
        zf.writestr("datapackage.json", package)
        zf.writestr("datapackage.json.sig", sign(package))
        zf.writestr("signing-key.pem", public_key_pem)
    return buf.getvalue()
