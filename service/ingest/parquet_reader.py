"""Read one uploaded Parquet file into text columns, bounded, or say exactly what is wrong.

Nothing is decoded until the footer has been checked: the number of rows
(``AANWEZIG_MAX_UPLOAD_ROWS``), the number of columns, the uncompressed size of every row group
(``AANWEZIG_MAX_DECODED_BYTES``), the column names (no name twice, exactly the expected ones)
and their types (text, binary holding UTF-8, integers, floats, decimals, dates or all-null;
never lists, structs or maps). Text columns are then read a batch at a time with their
dictionaries kept: the length of every dictionary entry is checked before it is expanded, so
a value repeated five million times costs its length once. Binary values must be UTF-8.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from service.ingest.errors import RowError
from service.ingest.limits import UploadLimits

BATCH_ROWS = 65_536


def _allowed(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        return _allowed(t.value_type)
    return (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t)
            or pa.types.is_large_binary(t) or pa.types.is_integer(t) or pa.types.is_floating(t)
            or pa.types.is_decimal(t) or pa.types.is_date(t) or pa.types.is_null(t))


def _texty(t: pa.DataType) -> bool:
    return any(f(t) for f in (pa.types.is_string, pa.types.is_large_string, pa.types.is_binary,
                              pa.types.is_large_binary))


def read_parquet(name: str, content: bytes, columns: tuple[str, ...],
                 limits: UploadLimits) -> tuple[pa.Table | None, list[RowError]]:
    """The file's rows as a table of string columns named `columns`, or its problems."""
    def whole(message: str, field: str = "file") -> tuple[None, list[RowError]]:
        return None, [RowError(name, 0, field, message)]

    try:
        meta = pq.read_metadata(io.BytesIO(content))
        schema = meta.schema.to_arrow_schema()
    except (pa.ArrowException, OSError, ValueError, IndexError):
        return whole("could not be read as Parquet (is the file complete?)")
    if meta.num_rows > limits.max_rows:
        return whole(f"the file declares {meta.num_rows} rows; at most {limits.max_rows} "
                     "(AANWEZIG_MAX_UPLOAD_ROWS)")
    if meta.num_columns > limits.max_columns or len(schema) > limits.max_columns:
        return whole(f"the file has {meta.num_columns} columns; expected the {len(columns)}: "
                     + ", ".join(columns))
    decoded = sum(max(meta.row_group(i).total_byte_size, 0) for i in range(meta.num_row_groups))
    if decoded > limits.max_decoded_bytes:
        return whole(f"the file decodes to more than {limits.max_decoded_bytes} bytes "
                     "(AANWEZIG_MAX_DECODED_BYTES)")
    errors = _check_schema(name, schema, columns)
    if errors:
        return None, errors
    texty = [c for c in columns if _texty(_value_type(schema.field(c).type))]
    try:
        reader = pq.ParquetFile(io.BytesIO(content), read_dictionary=texty)
        return _decode(name, reader, columns, limits)
    except (pa.ArrowException, OSError, ValueError, IndexError):
        return whole("could not be read as Parquet: a page is damaged")


def _value_type(t: pa.DataType) -> pa.DataType:
    return t.value_type if pa.types.is_dictionary(t) else t


def _check_schema(name: str, schema: pa.Schema, columns: tuple[str, ...]) -> list[RowError]:
    found = schema.names
    errors = []
    seen: set[str] = set()
    for c in found:
        if c in seen and c in columns:
            errors.append(RowError(name, 0, c, "the column appears more than once"))
        seen.add(c)
    errors += [RowError(name, 0, c, "required column is missing") for c in columns if c not in found]
    unexpected = [c for c in dict.fromkeys(found) if c not in columns]
    errors += [RowError(name, 0, c if c.isidentifier() and len(c) <= 40 else f"column {i + 1}",
                        "unexpected column (expected: " + ", ".join(columns) + ")")
               for i, c in enumerate(unexpected)]
    if errors:
        return errors
    for c in columns:
        t = schema.field(c).type
        if not _allowed(t):
            errors.append(RowError(name, 0, c, f"a column of type {_type_name(t)} cannot be read: "
                                   "expected text, a whole number, a decimal or a date"))
    return errors


def _type_name(t: pa.DataType) -> str:
    text = str(t)
    return text.split("<", 1)[0][:20]


def _decode(name: str, reader: pq.ParquetFile, columns: tuple[str, ...],
            limits: UploadLimits) -> tuple[pa.Table | None, list[RowError]]:
    errors: list[RowError] = []
    parts: dict[str, list[pa.Array]] = {c: [] for c in columns}
    offset = 0
    for batch in reader.iter_batches(batch_size=BATCH_ROWS, columns=list(columns)):
        for c in columns:
            text, problems = _as_text(batch.column(c), limits.max_field_chars)
            for i, what in problems:
                if len(errors) <= limits.max_errors:
                    errors.append(RowError(name, offset + i + 1, c, what))
            if text is not None and not errors:
                parts[c].append(text)
        offset += batch.num_rows
        if len(errors) > limits.max_errors:
            break
    if errors:
        return None, errors
    arrays = [pa.chunked_array(parts[c], type=pa.string()) for c in columns]
    return pa.table(arrays, names=list(columns)), []


def _as_text(col: pa.Array, max_chars: int) -> tuple[pa.Array | None, list[tuple[int, str]]]:
    """The column as strings (nulls as ""), or the rows (0-based in the batch) that are too
    long or not UTF-8. Dictionary entries are checked before the dictionary is expanded."""
    if pa.types.is_dictionary(col.type):
        dictionary, indices = col.dictionary, col.indices
        bad_entries = _bad_entries(dictionary, max_chars)
        if bad_entries:
            problems = []
            for row, index in enumerate(indices.to_pylist()):
                if index is not None and index in bad_entries:
                    problems.append((row, bad_entries[index]))
                    if len(problems) > 100:
                        break
            if problems:
                return None, problems
            unused = pa.array([i in bad_entries for i in range(len(dictionary))])
            dictionary = pc.if_else(unused, pa.scalar(b"", type=pa.binary()).cast(dictionary.type),
                                    dictionary)
        col = pc.take(_strings(dictionary), indices)
    elif _texty(col.type):
        bad = _bad_entries(col, max_chars)
        if bad:
            return None, sorted(bad.items())[:101]
        col = _strings(col)
    else:
        col = pc.cast(col, pa.string())
        if pa.types.is_null(col.type):
            col = pa.array([""] * len(col), type=pa.string())
        too_long = pc.greater(pc.utf8_length(pc.fill_null(col, "")), max_chars)
        rows = pc.indices_nonzero(too_long).to_pylist()[:101]
        if rows:
            return None, [(r, f"longer than {max_chars} characters") for r in rows]
    return pc.fill_null(col, ""), []


def _bad_entries(values: pa.Array, max_chars: int) -> dict[int, str]:
    """Positions of values longer than `max_chars` bytes or not valid UTF-8, with the reason."""
    lengths = pc.fill_null(pc.binary_length(values), 0)
    out = {i: f"longer than {max_chars} characters"
           for i in pc.indices_nonzero(pc.greater(lengths, max_chars)).to_pylist()[:101]}
    if pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type):
        try:
            pc.cast(values, pa.string())
        except pa.ArrowInvalid:
            for i, value in enumerate(values.to_pylist()):
                if value is not None and i not in out:
                    try:
                        value.decode("utf-8")
                    except UnicodeDecodeError:
                        out[i] = "not valid UTF-8 text"
    return out


def _strings(values: pa.Array) -> pa.Array:
    return values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
