"""From the files of one batch to two tables of text columns with data-row numbers.

Which table a file holds is told by its name (``enrol`` / ``absen``), its format by its
suffix (``.csv``: service.ingest.csv_reader, ``.parquet``: service.ingest.parquet_reader).
Both readers are bounded (service.ingest.limits) and report every structural problem with
file, data row and field. The values are then normalised the same way for both formats:
surrounding spaces removed, ``residence_municipality`` in upper case, ``reason`` in lower case
(docs/upload-format.md); a value longer than ``MAX_FIELD_CHARS`` is refused here, by row.
Nothing here raises on bad input: problems come back as :class:`RowError` values.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from service.ingest.csv_reader import check_bytes, read_csv, read_many
from service.ingest.errors import RowError
from service.ingest.limits import UploadLimits
from service.ingest.parquet_reader import read_parquet

ENROLMENT_COLUMNS = (
    "pupil_number", "birth_year", "grade", "residence_municipality", "enrolled_from", "enrolled_to",
)
ABSENCE_COLUMNS = ("pupil_number", "date", "hours", "reason")
UPPER_CASE = ("residence_municipality",)
LOWER_CASE = ("reason",)


@dataclass(frozen=True)
class UploadFile:
    """One uploaded file: its name (says which table and which format) and its bytes."""

    name: str
    content: bytes


@dataclass
class ParsedBatch:
    """The two tables of a batch (None when unreadable), the file names and digests, and
    every problem found while reading."""

    enrolment: pa.Table | None = None
    absence: pa.Table | None = None
    names: dict[str, str] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    def content_hash(self) -> str:
        """sha256 over the sha256 of each table's file, in a fixed order."""
        text = "|".join(f"{k}:{self.digests[k]}" for k in sorted(self.digests))
        return hashlib.sha256(text.encode()).hexdigest()


def table_kind(name: str) -> Literal["enrolment", "absence"] | None:
    lower = Path(name).name.lower()
    if "enrol" in lower:
        return "enrolment"
    if "absen" in lower:
        return "absence"
    return None


def display_name(name: str) -> str:
    """The file name as errors show it: its last part, printable, at most 80 characters."""
    base = Path(name.replace("\\", "/")).name or "upload"
    clean = "".join(ch if ch.isprintable() else "?" for ch in base)
    return clean if len(clean) <= 80 else clean[:77] + "..."


def parse_file(f: UploadFile, columns: tuple[str, ...],
               limits: UploadLimits) -> tuple[pa.Table | None, list[RowError]]:
    """Read a CSV or Parquet file into text columns named `columns`, with a row_no column."""
    suffix = Path(f.name).suffix.lower()
    name = display_name(f.name)
    if suffix == ".csv":
        table, errors = read_csv(name, f.content, columns, limits)
    elif suffix == ".parquet":
        table, errors = read_parquet(name, f.content, columns, limits)
    else:
        return None, [RowError(name, 0, "file", "expected a .csv or .parquet file")]
    if table is None:
        return None, errors
    table, errors = _normalise(name, table, columns, limits)
    if errors:
        return None, errors
    row_no = pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64))
    return table.add_column(0, "row_no", row_no), []


def _first_invalid_utf8(col: pa.ChunkedArray) -> int | None:
    """The 1-based row of the first value that is not UTF-8 text (a Parquet string column's
    bytes are not checked when read), or None when every value is."""
    offset = 0
    for chunk in col.chunks:
        try:
            chunk.validate(full=True)
        except pa.ArrowInvalid:
            for i, value in enumerate(chunk.cast(pa.binary()).to_pylist()):
                try:
                    if value is not None:
                        value.decode("utf-8")
                except UnicodeDecodeError:
                    return offset + i + 1
            return offset + 1              # invalid, but not in one value: say its first row
        offset += len(chunk)
    return None


def _normalise(name: str, table: pa.Table, columns: tuple[str, ...],
               limits: UploadLimits) -> tuple[pa.Table, list[RowError]]:
    errors: list[RowError] = []
    cols = []
    for c in columns:
        bad = _first_invalid_utf8(table.column(c))
        if bad is not None:
            errors.append(RowError(name, bad, c, "not valid UTF-8 text"))
            cols.append(pa.nulls(table.num_rows, pa.string()))
            continue
        col = pc.utf8_trim_whitespace(pc.fill_null(table.column(c), ""))
        if c in UPPER_CASE:
            col = pc.utf8_upper(col)
        elif c in LOWER_CASE:
            col = pc.utf8_lower(col)
        too_long = pc.indices_nonzero(pc.greater(pc.utf8_length(col), limits.max_field_chars))
        for row in too_long.to_pylist()[: limits.max_errors + 1]:
            errors.append(RowError(name, row + 1, c,
                                   f"longer than {limits.max_field_chars} characters"))
        cols.append(col)
    errors.sort(key=lambda e: (e.row, e.field))
    return pa.table(cols, names=list(columns)), errors[: limits.max_errors + 1]


def parse_batch(files: Sequence[UploadFile], limits: UploadLimits,
                read: dict[str, tuple[pa.Table | None, list[RowError]]] | None = None
                ) -> ParsedBatch:
    """Both tables of a batch, or the problems that stop them from being read. `read`: files
    already read (by file name, as parse_file returns them; parse_batches)."""
    parsed = ParsedBatch()
    for f in files:
        name = display_name(f.name)
        kind = table_kind(name)
        if kind is None:
            parsed.errors.append(RowError(name, 0, "file",
                                          "file name must contain 'enrol' or 'absen' to say which table it is"))
            continue
        if kind in parsed.names:
            parsed.errors.append(RowError(name, 0, "file",
                                          f"a second {kind} file in one batch (first: {parsed.names[kind]})"))
            continue
        parsed.names[kind] = name
        parsed.digests[kind] = hashlib.sha256(f.content).hexdigest()
        columns = ENROLMENT_COLUMNS if kind == "enrolment" else ABSENCE_COLUMNS
        if read is not None and f.name in read:
            table, errors = read[f.name]
        else:
            table, errors = parse_file(f, columns, limits)
        parsed.errors += errors
        setattr(parsed, kind, table)
    for kind, example in (("enrolment", "enrolments.csv"), ("absence", "absences.csv")):
        if kind not in parsed.names:
            parsed.errors.append(RowError(example, 0, "file", f"the batch has no {kind} file"))
    return parsed


def parse_batches(batches: Sequence[Sequence[UploadFile]],
                  limits: UploadLimits) -> list[ParsedBatch]:
    """:func:`parse_batch` of many batches, the same result, with the CSV files that pass the
    byte and header checks read by ONE Arrow parse per table and header (csv_reader.read_many)
    and normalised in one pass; a group with any problem is read again file by file (the
    messages of :func:`parse_file`)."""
    groups: dict[tuple, list] = {}
    for i, files in enumerate(batches):
        for f in files:
            if not _fast(f):
                continue
            name = display_name(f.name)
            kind = table_kind(name)
            columns = ENROLMENT_COLUMNS if kind == "enrolment" else ABSENCE_COLUMNS
            checked = check_bytes(name, f.content, columns, limits)
            if isinstance(checked, list) or bytes(checked[0]).find(b"\n") < 0:
                groups.setdefault(("one", i, f.name), []).append((i, f, None))
            else:
                groups.setdefault((kind, tuple(checked[1])), []).append((i, f, checked))
    tables: dict[tuple[int, str], tuple[pa.Table | None, list[RowError]]] = {}
    for key, members in groups.items():
        read = None
        if key[0] != "one":
            columns = ENROLMENT_COLUMNS if key[0] == "enrolment" else ABSENCE_COLUMNS
            read = read_many([m[2] for m in members], columns, limits)
            if read is not None:
                whole = pa.concat_tables(read)
                whole, errors = _normalise("", whole, columns, limits)
                if errors:
                    read = None
                else:
                    offset = 0
                    for (i, f, _), part in zip(members, read):
                        n = part.num_rows
                        row_no = pa.array(np.arange(1, n + 1, dtype=np.int64))
                        tables[(i, f.name)] = (whole.slice(offset, n).add_column(0, "row_no", row_no), [])
                        offset += n
        if read is None:
            for i, f, _ in members:
                kind = table_kind(display_name(f.name))
                columns = ENROLMENT_COLUMNS if kind == "enrolment" else ABSENCE_COLUMNS
                tables[(i, f.name)] = parse_file(f, columns, limits)
    by_batch: dict[int, dict] = {}
    for (i, name), value in tables.items():
        by_batch.setdefault(i, {})[name] = value
    return [parse_batch(files, limits, read=by_batch.get(i, {}))
            for i, files in enumerate(batches)]


def _fast(f: UploadFile) -> bool:
    """A CSV file named for one table: the kind read_many can take with others."""
    return Path(f.name).suffix.lower() == ".csv" and table_kind(display_name(f.name)) is not None
