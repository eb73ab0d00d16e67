"""A release's files: the canonical JSON payload, CSV, Parquet, the Frictionless
datapackage.json and its detached Ed25519 signature; and offline verification.

The payload (``release.json``) is the canonical serialisation of a release: sorted keys, no
whitespace, UTF-8, floats rounded to fixed decimals before serialising. CSV and Parquet are
built from it deterministically. ``datapackage.json`` lists every resource with its sha256
and Table Schema (fields, units, missing values; the JSON resource is read as a table
from its ``rows``), the budget and the method; the signature is over the exact bytes of
``datapackage.json``. Verifying a download (``service.releases.verification``, ``aanwezig
verify``) therefore means: check the signature of datapackage.json with the published key,
then the sha256 of each file against it (docs/releases.md has an openssl one-liner).

The Parquet file is the exception: its bytes depend on the installed pyarrow (the footer's
``created_by`` names the writer version), so the bytes signed at publish are stored with the
release (``release.parquet``, in the transaction that charges it) and served as they are;
releases stored before that have theirs rebuilt (same bytes only on the same pyarrow).

The payload names its ``format``, and the files are built the way that format says, so a
stored release's files come out byte for byte as they were signed:

* ``aanwezig-release/2``: every resource is a tabular resource with its Table Schema (no
  ``bytes``: frictionless cannot count them for JSON and Parquet and would report an error);
* ``aanwezig-release/1`` (releases stored before): only the CSV carried a schema. Its
  datapackage.json is rebuilt exactly as then, or its stored signature would no longer verify.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

# checking a download lives in its own module; these two stay importable from here
from service.releases.verification import VerificationError, verify_files  # noqa: F401

#: The payload format new releases are stored in (see the module docstring).
FORMAT = "aanwezig-release/2"
#: Formats whose datapackage.json gave a Table Schema to the CSV resource only.
SCHEMA_ON_CSV_ONLY = frozenset({"aanwezig-release/1"})

COLUMNS = ("measure", "level", "area_code", "area_name", "sector", "estimate", "shown", "lower",
           "upper", "sd", "p_vs_country", "rank", "rank_lower", "rank_upper", "model_estimate",
           "model_lower", "model_upper", "unit", "noise", "scale", "flags")
#: Columns only some kinds of release fill (empty elsewhere): the value shown, the p-value
#: against the country, the ranks and the schools' model estimates of the standard release
#: (standard releases before revision 5 have no model columns). (Releases before issue 23 had
#: an `integer_estimate` column, the whole-pupil view, in place of `shown` and `p_vs_country`:
#: measured too far from the truth off its rounding chain, it is no longer published.)
OPTIONAL_COLUMNS = ("shown", "p_vs_country", "rank", "rank_lower", "rank_upper", "model_estimate",
                    "model_lower", "model_upper")

FIELD_DOCS = {
    "measure": ("string", "measure code from GET /v1/catalog"),
    "level": ("string", "area level: country, province, rmc, swv, municipality, residence, school"),
    "area_code": ("string", "CBS code (GM0363, PV27, MC21), SWV code (PO2701) or school id (12AB00)"),
    "area_name": ("string", "name of the area or school"),
    "sector": ("string", "PO, SBO, SO, VSO, VO, or 'all'"),
    # the texts of existing columns stay as past releases were signed over (their
    # datapackage.json is rebuilt from these): what changed in issue 23 is said under `shown`
    "estimate": ("number", "the estimate: unbiased and minimum-variance (GLS after reconciling "
                 "the levels); counts are real numbers and may be slightly negative for tiny groups"),
    "shown": ("number", "the value for reading, beside `estimate` (for anyone who aggregates: "
              "since issue 23 a rate's or share's estimate is the ratio of two GLS totals with "
              "its bias removed, not cut to 0-1, so it may lie a little outside 0-1 and its "
              "interval): a count's estimate cut at 0, a rate's or share's moved into its 95% "
              "interval; biased near 0, measured in docs/benchmarks.md"),
    "lower": ("number", "lower end of the 95% interval of the estimate"),
    "upper": ("number", "upper end of the 95% interval of the estimate"),
    "sd": ("number", "standard deviation of the estimate from the privacy noise"),
    "p_vs_country": ("number", "rates and shares of the standard release: two-sided p-value of "
                     "'the true value equals the published national value' (Fieller's pivot); "
                     "the higher/lower calls control the false discovery rate over a level "
                     "with these (Benjamini-Hochberg, docs/privacy.md)"),
    # releases before issue 23 carry this column; its text stays as they were signed over
    "integer_estimate": ("number", "whole-pupil view of a count (standard release): non-negative "
                         "integers that add up from schools to the country, rounded top-down; "
                         "less accurate than estimate, and the interval is not about it"),
    "rank": ("number", "rank of the area at its level by estimate (1 = highest; standard release)"),
    "rank_lower": ("number", "best rank in the 95% rank range"),
    "rank_upper": ("number", "worst rank in the 95% rank range"),
    "model_estimate": ("number", "schools' chronic and severe absence shares (standard release): "
                       "the model estimate beside the direct one, borrowing strength from the "
                       "school's municipality x sector (Beta-Gaussian empirical Bayes on "
                       "published values only; docs/privacy.md, 'Small-area estimates'); "
                       "verdicts and ranks stay with the direct estimate"),
    "model_lower": ("number", "lower end of the model estimate's 95% interval"),
    "model_upper": ("number", "upper end of the model estimate's 95% interval"),
    "unit": ("string", "pupils, share (0-1), or rate (0-1)"),
    "noise": ("string", "noise distribution of the underlying totals"),
    "scale": ("number", "noise scale of the (numerator) total at this level"),
    "flags": ("string", "semicolon-separated flags, e.g. interval_includes_0"),
}


def canonical_bytes(obj: Any) -> bytes:
    """Deterministic JSON: sorted keys, no whitespace, UTF-8, no NaN."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def rows_of(payload: dict) -> list[list]:
    return payload["rows"]


def to_csv(payload: dict) -> bytes:
    """RFC 4180 CSV (UTF-8, CRLF), CBS codes next to names."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(payload["columns"])
    for row in payload["rows"]:
        writer.writerow(["" if v is None else (";".join(v) if isinstance(v, list) else v) for v in row])
    return out.getvalue().encode("utf-8")


def to_parquet(payload: dict) -> bytes:
    columns = payload["columns"]
    data = {c: [r[i] for r in payload["rows"]] for i, c in enumerate(columns)}
    if "flags" in data:
        data["flags"] = [";".join(v) for v in data["flags"]]
    table = pa.table(data)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def _schema(columns, flags: str = "string") -> dict:
    """Table Schema of the release's columns; `flags` is a JSON array in release.json and a
    semicolon-separated string in CSV and Parquet."""
    fields = []
    for name in columns:
        kind, text = FIELD_DOCS.get(name, ("string", name))
        fields.append({"name": name, "type": flags if name == "flags" else kind,
                       "description": text})
    return {"fields": fields, "missingValues": [""], "primaryKey": ["measure", "level", "area_code", "sector"]}


#: How each format is read as a table: CSV by its dialect; release.json's `rows` are arrays in
#: the order of the schema's fields (no header row); Parquet by its own column names and types.
TABULAR = {
    "csv": {"encoding": "utf-8",
            "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "header": True}},
    "json": {"encoding": "utf-8",
             "dialect": {"header": False, "json": {"property": "rows", "keyed": False}}},
    "parquet": {},
}


def datapackage(payload: dict, resources: dict[str, bytes]) -> bytes:
    """Frictionless Tabular Data Package describing the resources, canonical bytes."""
    meta = {k: payload[k] for k in ("release_id", "kind", "dataset", "created_at",
                                   "service_version", "budget", "method", "spec") if k in payload}
    media = {"csv": "text/csv", "json": "application/json",
             "parquet": "application/vnd.apache.parquet"}
    csv_only = payload.get("format") in SCHEMA_ON_CSV_ONLY
    res = []
    for path, data in sorted(resources.items()):
        fmt = path.rsplit(".", 1)[1]
        entry = {"name": "release-" + fmt, "path": path, "format": fmt, "mediatype": media[fmt],
                 "hash": "sha256:" + sha256(data)}
        if csv_only:
            if fmt == "csv":
                entry.update({"profile": "tabular-data-resource", **TABULAR["csv"],
                              "schema": _schema(payload["columns"])})
        else:
            entry.update({"profile": "tabular-data-resource", **TABULAR[fmt],
                          "schema": _schema(payload["columns"],
                                            flags="array" if fmt == "json" else "string")})
        res.append(entry)
    package = {
        "profile": "data-package",
        "name": "aanwezig-" + payload["release_id"].lower(),
        "title": f"Aanwezig {payload['kind']} release {payload['dataset']}",
        "description": ("Differentially private school-attendance statistics. Every number carries "
                        "a 95% interval from the known noise; nothing is suppressed."),
        "created": payload["created_at"],
        "licenses": [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/",
                      "title": "Creative Commons Attribution 4.0"}],
        "sources": [{"title": "Aanwezig; geography: CBS / Kadaster, via PDOK (bewerkt: cartomap/nl)"}],
        "resources": res,
        "aanwezig": meta,
    }
    return canonical_bytes(package)


@dataclass(frozen=True)
class ReleaseFiles:
    """Every file of one release (or of one area's subset)."""

    files: dict[str, bytes]   # release.json, release.csv, release.parquet, datapackage.json
    signature: bytes          # Ed25519 over datapackage.json

    def zip(self) -> bytes:
        """Every file and the signature, deflated, with a fixed timestamp (the same release
        gives the same bytes), built once per file set."""
        return self._zip

    @cached_property
    def _zip(self) -> bytes:
        # `writestr` with a ZipInfo ignores the archive's compression: name it on each member
        buf = io.BytesIO()
        members = [*sorted(self.files.items()), ("datapackage.json.sig", self.signature)]
        with zipfile.ZipFile(buf, "w") as zf:
            for name, data in members:
                zf.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data,
                            compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
        return buf.getvalue()


def build_files(payload_bytes: bytes, parquet: bytes | None = None) -> dict[str, bytes]:
    """All files of a release from its canonical payload.

    `parquet`: the release's Parquet bytes as kept at publish time. The JSON and CSV are our
    own canonical serialisation (standard library only) and come out the same on any later
    version; the Parquet bytes depend on the installed pyarrow (the footer names the writer
    version; encoding defaults change), so a stored release serves the bytes it was signed
    over, and only a release stored before they were kept has its Parquet rebuilt."""
    payload = json.loads(payload_bytes)
    resources = {"release.json": payload_bytes, "release.csv": to_csv(payload),
                 "release.parquet": to_parquet(payload) if parquet is None else parquet}
    return {**resources, "datapackage.json": datapackage(payload, resources)}
