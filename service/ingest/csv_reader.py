"""Read one uploaded CSV file into text columns, bounded, or say exactly what is wrong.

The checks run cheapest first and each names the 1-based data row (0 = the header or the
file as a whole):

1. the first bytes: gzip, zip (an Excel workbook), Parquet or UTF-16/UTF-32 text under a ``.csv``
   name are named as such (UTF-16/UTF-32 also without a byte-order mark), other NUL bytes as
   a binary file;
2. UTF-8: the first invalid byte gives its row and (by counting commas) its field;
3. the number of line breaks bounds the rows before Arrow parses anything;
4. the header, read by Python's csv module: at most ``max_columns``, no name twice, exactly
   the expected names (in any order);
5. Arrow parses the rest with the header's names; every row with the wrong number of fields
   is reported by number (Arrow's invalid-row handler), blank lines inside the data too.

A UTF-8 byte-order mark and CRLF line ends are accepted; blank lines at the end are ignored.
Values may not contain line breaks.
"""

from __future__ import annotations

import codecs
import csv

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from service.ingest.errors import RowError
from service.ingest.limits import MAX_HEADER_BYTES, UploadLimits

BOM = b"\xef\xbb\xbf"
SAVE_AS = "save it as CSV UTF-8 (comma-separated) with a header row"
_MAGIC = (
    (b"\x1f\x8b", "a gzip-compressed file, not CSV text: upload the CSV itself"),
    (b"PK\x03\x04", "a zip file (an Excel workbook?), not CSV text: " + SAVE_AS),
    (b"PAR1", "a Parquet file: name it .parquet"),
    # UTF-32's byte-order marks before UTF-16's: FF FE 00 00 starts with UTF-16 LE's FF FE
    (b"\xff\xfe\x00\x00", "UTF-32 text, not UTF-8: " + SAVE_AS),
    (b"\x00\x00\xfe\xff", "UTF-32 text, not UTF-8: " + SAVE_AS),
    (b"\xff\xfe", "UTF-16 text, not UTF-8: " + SAVE_AS),
    (b"\xfe\xff", "UTF-16 text, not UTF-8: " + SAVE_AS),
)


def read_csv(name: str, content: bytes, columns: tuple[str, ...],
             limits: UploadLimits) -> tuple[pa.Table | None, list[RowError]]:
    """The file's rows as a table of string columns named `columns` (in that order), or the
    problems that stop it from being read."""
    checked = check_bytes(name, content, columns, limits)
    if isinstance(checked, list):
        return None, checked
    body, found = checked
    return _rows(name, body, found, columns, limits)


def check_bytes(name: str, content: bytes, columns: tuple[str, ...], limits: UploadLimits
                ) -> tuple[memoryview, list[str]] | list[RowError]:
    """Checks 1-4 (everything before Arrow parses the rows): the file's text without a
    byte-order mark and trailing blank lines, and its header's names; or the problems."""
    def whole(message: str, row: int = 0, field: str = "file") -> list[RowError]:
        return [RowError(name, row, field, message)]

    for magic, message in _MAGIC:
        if content.startswith(magic):
            return whole("the file is " + message)
    start = len(BOM) if content.startswith(BOM) else 0
    end = len(content)
    while end > start and content[end - 1] in b"\r\n \t":
        end -= 1
    if end == start:
        return whole("the file is empty: expected a header row (" + ", ".join(columns) + ")")
    if content.find(b"\x00", start, end) >= 0:
        encoding = _wide_text(content)
        if encoding:
            return whole(f"the file is {encoding} text, not UTF-8: " + SAVE_AS)
        return whole("the file holds NUL bytes: it is a binary file, not CSV text; " + SAVE_AS)
    body = memoryview(content)[start:end]
    try:
        codecs.utf_8_decode(body, "strict", True)
    except UnicodeDecodeError as exc:
        row, field = _position(content, start, start + exc.start)
        return whole("not valid UTF-8 text: " + SAVE_AS, row, field)
    if content.count(b"\n", start, end) > limits.max_rows:
        return whole(f"more than {limits.max_rows} data rows (AANWEZIG_MAX_UPLOAD_ROWS)")
    header_end = content.find(b"\n", start, min(end, start + MAX_HEADER_BYTES + 1))
    if header_end < 0:
        if end - start > MAX_HEADER_BYTES:
            return whole(f"the header row is longer than {MAX_HEADER_BYTES} bytes")
        header_end = end
    found, errors = _header(name, content[start:header_end].decode("utf-8").rstrip("\r"),
                            columns, limits)
    if errors:
        return errors
    return body, found


def _wide_text(content: bytes) -> str | None:
    """UTF-16 or UTF-32 without a byte-order mark, told by where the zero bytes of the first
    (ASCII) character fall; None for anything else."""
    head = content[:4]
    if len(head) < 4:
        return None
    zero = [b == 0 for b in head]
    if zero == [False, True, True, True] or zero == [True, True, True, False]:
        return "UTF-32"
    if zero == [False, True, False, True] or zero == [True, False, True, False]:
        return "UTF-16"
    return None


def _position(content: bytes, start: int, offset: int) -> tuple[int, str]:
    """Data row (0 = header) and the column name for the byte at `offset` (header names
    are counted by commas; "file" when that cannot be told)."""
    row = content.count(b"\n", start, offset)
    line = content.rfind(b"\n", start, offset) + 1 or start
    header_end = content.find(b"\n", start)
    names = content[start:header_end if header_end >= 0 else offset].decode("utf-8", "replace")
    names = [n.strip() for n in names.rstrip("\r").split(",")]
    index = content.count(b",", line, offset)
    if row and index < len(names) and names[index].isidentifier() and len(names[index]) <= 40:
        return row, names[index]
    return row, "file"


def _header(name: str, line: str, columns: tuple[str, ...],
            limits: UploadLimits) -> tuple[list[str], list[RowError]]:
    try:
        found = next(csv.reader([line]))
    except (csv.Error, StopIteration):
        return [], [RowError(name, 0, "file", "the header row could not be read: " + SAVE_AS)]
    found = [c.strip() for c in found]
    if len(found) > limits.max_columns:
        return [], [RowError(name, 0, "file", f"the header has {len(found)} columns; "
                             f"expected the {len(columns)}: " + ", ".join(columns))]
    errors = []
    seen: set[str] = set()
    for c in found:
        if c in seen and c in columns:
            errors.append(RowError(name, 0, c, "the column appears more than once in the header"))
        seen.add(c)
    errors += [RowError(name, 0, c, "required column is missing from the header")
               for c in columns if c not in found]
    unexpected = [c for c in dict.fromkeys(found) if c not in columns]
    errors += [RowError(name, 0, _label(c, i), "unexpected column (expected: " + ", ".join(columns) + ")")
               for i, c in enumerate(unexpected)]
    return found, errors


def _label(column: str, index: int) -> str:
    """A header name is echoed only when it is short plain text; else its position."""
    if column.isidentifier() and len(column) <= 40 and column.isascii():
        return column
    return f"column {index + 1} of the header"


def _strings(body, found: list[str], invalid_row, **read_options) -> pa.Table:
    """Arrow's CSV reader with every column as text (nothing null, empty lines kept), rows
    Arrow cannot split handed to `invalid_row`; `read_options` add to its ReadOptions."""
    return pacsv.read_csv(
        pa.py_buffer(body),
        read_options=pacsv.ReadOptions(column_names=found, use_threads=False, **read_options),
        parse_options=pacsv.ParseOptions(invalid_row_handler=invalid_row, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in found},
                                             strings_can_be_null=False,
                                             quoted_strings_can_be_null=False))


def _rows(name: str, body: memoryview, found: list[str], columns: tuple[str, ...],
          limits: UploadLimits) -> tuple[pa.Table | None, list[RowError]]:
    problems: list[RowError] = []
    if bytes(body[:MAX_HEADER_BYTES + 1]).find(b"\n") < 0:  # a header and no data rows
        return pa.table({c: pa.array([], type=pa.string()) for c in columns}), []

    def invalid_row(row: pacsv.InvalidRow) -> str:
        if len(problems) <= limits.max_errors:
            number = (row.number - 1) if row.number is not None else 0
            what = ("an empty line inside the data" if not row.text.strip()
                    else f"the row has {row.actual_columns} fields; expected {row.expected_columns}")
            problems.append(RowError(name, number, "row", what))
        return "skip"

    try:
        table = _strings(body, found, invalid_row, skip_rows=1)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowException, OSError, ValueError):
        return None, [RowError(name, 0, "file", "could not be read as CSV: " + SAVE_AS)]
    if problems:
        return None, problems
    empty = pc.equal(pc.binary_length(table.column(0)), 0)
    for c in found[1:]:
        empty = pc.and_(empty, pc.equal(pc.binary_length(table.column(c)), 0))
    rows = pc.indices_nonzero(empty).to_pylist()[: limits.max_errors + 1]
    if rows:
        return None, [RowError(name, r + 1, "row", "an empty line inside the data") for r in rows]
    return table.select(list(columns)), []



def read_many(files: list[tuple[memoryview, list[str]]], columns: tuple[str, ...],
              limits: UploadLimits) -> list[pa.Table] | None:
    """Many files that passed :func:`check_bytes` with the SAME header (`found`), each with at
    least one data row, parsed by ONE Arrow call over their data rows joined; per file its
    table of string columns named `columns`. None when anything is unusual (a row with the
    wrong number of fields, a blank line, a line break in a quoted value, a parse error): the
    caller then reads those files one by one with :func:`read_csv`, whose messages name the
    file, row and field."""
    if not files:
        return []
    found = files[0][1]
    parts, lines = [], []
    for body, _ in files:
        data = bytes(body[bytes(body[:MAX_HEADER_BYTES + 1]).find(b"\n") + 1:])
        parts.append(data)
        lines.append(data.count(b"\n") + 1)
    invalid = []

    def invalid_row(row: pacsv.InvalidRow) -> str:
        invalid.append(row.number)
        return "skip"

    try:
        table = _strings(b"\n".join(parts), found, invalid_row, block_size=1 << 26)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowException, OSError, ValueError):
        return None
    if invalid or table.num_rows != sum(lines):
        return None
    empty = pc.equal(pc.binary_length(table.column(0)), 0)
    for c in found[1:]:
        empty = pc.and_(empty, pc.equal(pc.binary_length(table.column(c)), 0))
    if pc.any(empty).as_py():
        return None
    table = table.select(list(columns))
    out, offset = [], 0
    for n in lines:
        out.append(table.slice(offset, n))
        offset += n
    return out
