"""Read one uploaded Parquet file into text columns, bounded, or say exactly what is wrong.

Nothing a file says about itself is trusted for memory. The footer is read first, and what
it states cheaply refuses an honest file that is too large (rows: ``AANWEZIG_MAX_UPLOAD_ROWS``;
columns; the row groups' uncompressed size: ``AANWEZIG_MAX_DECODED_BYTES``), the column names
(no name twice, exactly the expected ones) and their types (text, binary holding UTF-8,
integers, floats, decimals, dates or all-null; never lists, structs or maps). But a footer can
lie, so before a page is decompressed the page headers of every column chunk are walked
(service.ingest.parquet_pages): the bytes its pages decompress to (what Arrow allocates) are
summed against ``AANWEZIG_MAX_DECODED_BYTES``, and the rows its pages hold must be the rows the
footer declares for that row group, else the file is refused naming the column. Then the file
is decoded row group by row group, a batch at a time, counting the bytes Arrow actually holds
and the rows each row group actually gave, and stopping at the limit or a disagreement.

Text columns are read with their dictionaries kept: the length of every dictionary entry is
checked before it is expanded, so a value repeated five million times costs its length once.
Binary values must be UTF-8.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from service.ingest.errors import RowError
from service.ingest.limits import UploadLimits
from service.ingest.parquet_pages import Unreadable, chunk_pages

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
    try:
        problem = _check_pages(name, content, meta, limits)
    except ValueError:      # a footer Arrow cannot decode (a column path that is not UTF-8)
        return whole("could not be read as Parquet: its footer is damaged")
    if problem is not None:
        return None, [problem]
    texty = [c for c in columns if _texty(_value_type(schema.field(c).type))]
    try:
        reader = pq.ParquetFile(io.BytesIO(content), read_dictionary=texty)
        return _decode(name, reader, meta, columns, limits)
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


def _too_large(limits: UploadLimits) -> str:
    return (f"the file decodes to more than {limits.max_decoded_bytes} bytes "
            "(AANWEZIG_MAX_DECODED_BYTES)")


def _check_pages(name: str, content: bytes, meta: pq.FileMetaData,
                 limits: UploadLimits) -> RowError | None:
    """The first disagreement between the footer and the page headers, or a file whose pages
    decompress to more than the limit; None when the pages are as the footer says."""
    decoded = 0
    rows = 0
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        declared = group.num_rows
        for j in range(group.num_columns):
            chunk = group.column(j)
            column = chunk.path_in_schema
            start = chunk.data_page_offset
            if chunk.has_dictionary_page and 0 < (chunk.dictionary_page_offset or 0) < start:
                start = chunk.dictionary_page_offset
            try:
                pages = chunk_pages(content, start, chunk.total_compressed_size)
            except Unreadable:
                return RowError(name, 0, column, f"could not be read as Parquet: the pages of "
                                f"row group {i + 1} are damaged")
            if pages.rows != declared:
                return RowError(name, 0, column, f"the footer declares {declared} rows in row "
                                f"group {i + 1} but the column's pages hold {pages.rows}: the "
                                "file contradicts itself")
            decoded += pages.decoded_bytes
            if decoded > limits.max_decoded_bytes:
                return RowError(name, 0, column, _too_large(limits))
        rows += declared
        if rows > limits.max_rows:
            return RowError(name, 0, "file", f"more than {limits.max_rows} rows "
                            "(AANWEZIG_MAX_UPLOAD_ROWS)")
    if rows != meta.num_rows:
        return RowError(name, 0, "file", f"the footer declares {meta.num_rows} rows but its row "
                        f"groups hold {rows}: the file contradicts itself")
    return None


def _held_bytes(batch: pa.RecordBatch, seen: set[int]) -> int:
    """Bytes the decoded batch holds; a dictionary shared by the batches of a row group is
    counted once (`seen`: addresses of the dictionaries counted so far)."""
    total = 0
    for col in batch.columns:
        if pa.types.is_dictionary(col.type):
            total += col.indices.nbytes
            buffers = [b for b in col.dictionary.buffers() if b is not None]
            key = buffers[-1].address if buffers else 0
            if key not in seen:
                seen.add(key)
                total += col.dictionary.nbytes
        else:
            total += col.nbytes
    return total


def _decode(name: str, reader: pq.ParquetFile, meta: pq.FileMetaData, columns: tuple[str, ...],
            limits: UploadLimits) -> tuple[pa.Table | None, list[RowError]]:
    errors: list[RowError] = []
    parts: dict[str, list[pa.Array]] = {c: [] for c in columns}
    offset = 0
    held = 0
    for group in range(meta.num_row_groups):
        declared = meta.row_group(group).num_rows
        got = 0
        seen: set[int] = set()
        for batch in reader.iter_batches(batch_size=BATCH_ROWS, row_groups=[group],
                                         columns=list(columns)):
            held += _held_bytes(batch, seen)
            got += batch.num_rows
            if held > limits.max_decoded_bytes:
                return None, [RowError(name, 0, "file", _too_large(limits))]
            if got > declared:
                break
            for c in columns:
                text, problems = _as_text(batch.column(c), limits.max_field_chars)
                for i, what in problems:
                    if len(errors) <= limits.max_errors:
                        errors.append(RowError(name, offset + i + 1, c, what))
                if text is not None and not errors:
                    parts[c].append(text)
            offset += batch.num_rows
            if len(errors) > limits.max_errors:
                return None, errors
        if got != declared:
            return None, [RowError(name, 0, "file", f"the footer declares {declared} rows in "
                                   f"row group {group + 1} but {got} were read: the file "
                                   "contradicts itself")]
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
