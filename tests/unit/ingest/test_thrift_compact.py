"""The compact-protocol reader that walks Parquet page headers (service.ingest.thrift_compact):
what it reads from real footers writes back byte for byte (so tests/support/parquet_lies.py changes
only what it means to), and any bytes give a struct or `Malformed`, never another error,
unbounded recursion or an allocation larger than the input."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings, strategies as st

from support.parquet_lies import encode_struct, footer
from service.ingest.parquet_pages import Unreadable, chunk_pages
from service.ingest.thrift_compact import Malformed, Reader


def _file(**options) -> bytes:
    table = pa.table({"a": pa.array(["x", "yy", None] * 700), "b": pa.array([1, 2, 3] * 700),
                      "c": pa.array([1.5, None, 2.5] * 700)})
    buf = io.BytesIO()
    pq.write_table(table, buf, **options)
    return buf.getvalue()


@pytest.mark.parametrize("options", [{}, {"compression": "zstd"}, {"use_dictionary": False},
                                     {"write_statistics": False}, {"write_page_index": True},
                                     {"data_page_version": "2.0"}, {"row_group_size": 500}])
def test_footers_read_and_write_back_byte_for_byte(options):
    data = _file(**options)
    start, meta = footer(data)
    assert encode_struct(meta) == data[start:len(data) - 8]


@pytest.mark.parametrize("options", [{}, {"data_page_version": "2.0"}, {"row_group_size": 500},
                                     {"data_page_size": 64, "use_dictionary": False}])
def test_page_headers_count_the_rows_and_decoded_bytes(options):
    data = _file(**options)
    meta = pq.read_metadata(io.BytesIO(data))
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        for j in range(group.num_columns):
            chunk = group.column(j)
            start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
            pages = chunk_pages(data, start, chunk.total_compressed_size)
            assert pages.rows == group.num_rows
            assert pages.decoded_bytes <= chunk.total_uncompressed_size  # headers excluded


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_a_struct_or_malformed(data):
    try:
        Reader(data).struct()
    except Malformed:
        pass


def test_nesting_and_lengths_are_bounded():
    with pytest.raises(Malformed):
        Reader(b"\x1c" * 100_000).struct()           # structs inside structs
    with pytest.raises(Malformed):
        Reader(b"\x19\xf8\xff\xff\xff\x0f").struct()    # a list of 4 billion bytes in 6 bytes
    with pytest.raises(Unreadable):
        chunk_pages(b"PAR1" + b"\x00" * 20 + b"PAR1", 4, 1000)
