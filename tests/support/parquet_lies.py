"""Parquet files that lie about themselves, built from honest ones: the footer (Thrift
FileMetaData, compact protocol) is read with service.ingest.thrift_compact, its claims are
changed, and it is written back with the encoder below; the pages are left as they are.

    lie_about_sizes(data, 1000)   # every size claim of the footer says 1,000 bytes
    lie_about_rows(data, 100)     # the file and its row groups say 100 rows

Field numbers are those of parquet.thrift (FileMetaData 3 num_rows, 4 row_groups; RowGroup
1 columns, 2 total_byte_size, 3 num_rows, 6 total_compressed_size; ColumnChunk 3 meta_data;
ColumnMetaData 5 num_values, 6 total_uncompressed_size, 16 size_statistics; SizeStatistics
1 unencoded_byte_array_data_bytes).
"""

from __future__ import annotations

import struct

from service.ingest import thrift_compact as tc
from service.ingest.thrift_compact import Collection, Field, Mapping


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _zigzag(n: int) -> bytes:
    return _varint((n << 1) ^ (n >> 63))


def encode_value(ttype: int, value, in_collection: bool = False) -> bytes:
    if ttype in (tc.TRUE, tc.FALSE):
        return bytes([tc.TRUE if value else tc.FALSE]) if in_collection else b""
    if ttype == tc.BYTE:
        return bytes([value & 0xFF])
    if ttype in (tc.I16, tc.I32, tc.I64):
        return _zigzag(value)
    if ttype == tc.DOUBLE:
        return struct.pack("<d", value)
    if ttype == tc.BINARY:
        return _varint(len(value)) + value
    if ttype in (tc.LIST, tc.SET):
        n = len(value.items)
        head = bytes([(n << 4) | value.element_type]) if n < 15 else \
            bytes([0xF0 | value.element_type]) + _varint(n)
        return head + b"".join(encode_value(value.element_type, v, True) for v in value.items)
    if ttype == tc.MAP:
        if not value.items:
            return b"\x00"
        return (_varint(len(value.items)) + bytes([(value.key_type << 4) | value.value_type])
                + b"".join(encode_value(value.key_type, k, True) + encode_value(value.value_type, v, True)
                           for k, v in value.items))
    if ttype == tc.STRUCT:
        return encode_struct(value)
    raise ValueError(ttype)


def encode_struct(fields: list[Field]) -> bytes:
    out = bytearray()
    last = 0
    for f in fields:
        ttype = f.type
        if ttype in (tc.TRUE, tc.FALSE):
            ttype = tc.TRUE if f.value else tc.FALSE
        delta = f.id - last
        if 0 < delta <= 15:
            out.append((delta << 4) | ttype)
        else:
            out.append(ttype)
            out += _zigzag(f.id)
        out += encode_value(f.type, f.value)
        last = f.id
    out.append(tc.STOP)
    return bytes(out)


def footer(data: bytes) -> tuple[int, list[Field]]:
    """Where the FileMetaData starts, and it read."""
    length = struct.unpack("<I", data[-8:-4])[0]
    start = len(data) - 8 - length
    reader = tc.Reader(data, start, len(data) - 8)
    meta = reader.struct()
    assert reader.pos == len(data) - 8
    return start, meta


def with_footer(data: bytes, meta: list[Field]) -> bytes:
    start, _ = footer(data)
    encoded = encode_struct(meta)
    return data[:start] + encoded + struct.pack("<I", len(encoded)) + b"PAR1"


def _set(fields: list[Field], fid: int, value) -> None:
    for f in fields:
        if f.id == fid:
            f.value = value


def _row_groups(meta: list[Field]) -> list[list[Field]]:
    return tc.field(meta, 4).items


def lie_about_sizes(data: bytes, claim: int) -> bytes:
    """The file with every size its footer states set to `claim` bytes."""
    _, meta = footer(data)
    for group in _row_groups(meta):
        _set(group, 2, claim)
        _set(group, 6, claim)
        for chunk in tc.field(group, 1).items:
            column = tc.field(chunk, 3)
            _set(column, 6, claim)
            sizes = tc.field(column, 16)
            if sizes is not None:
                _set(sizes, 1, claim)
    return with_footer(data, meta)


def lie_about_rows(data: bytes, rows: int, *, values_too: bool = True) -> bytes:
    """The file whose footer says it has `rows` rows (one row group), its columns `rows`
    values each (`values_too`); the pages still hold every row."""
    _, meta = footer(data)
    _set(meta, 3, rows)
    groups = _row_groups(meta)
    assert len(groups) == 1, "one row group expected"
    _set(groups[0], 3, rows)
    if values_too:
        for chunk in tc.field(groups[0], 1).items:
            _set(tc.field(chunk, 3), 5, rows)
    return with_footer(data, meta)


def lie_in_page_headers(data: bytes, claim: int) -> bytes:
    """The file whose every page of 128 MiB or more says in its header that it decompresses
    to `claim` bytes, written in place as a five-byte varint (non-minimal when small) so no
    offset moves."""
    from service.ingest.thrift_compact import Reader
    out = bytearray(data)
    _, meta = footer(data)
    for group in _row_groups(meta):
        for chunk in tc.field(group, 1).items:
            column = tc.field(chunk, 3)
            start = tc.field(column, 9)
            dictionary = tc.field(column, 11)
            if dictionary and 0 < dictionary < start:
                start = dictionary
            end = start + tc.field(column, 7)
            pos = start
            while pos < end:
                reader = Reader(out, pos, end)
                assert reader._byte() == 0x15           # field 1, i32: type
                reader.zigzag()
                assert reader._byte() == 0x15           # field 2, i32: uncompressed_page_size
                at = reader.pos
                reader.zigzag()
                if reader.pos - at == 5:                # a page of 128 MiB or more
                    n = claim << 1
                    out[at:at + 5] = bytes([(n >> s & 0x7F) | (0x80 if i < 4 else 0)
                                            for i, s in enumerate(range(0, 35, 7))])
                reader = Reader(out, pos, end)
                header = reader.struct()
                pos = reader.pos + tc.field(header, 3)
    return bytes(out)


__all__ = ["Collection", "Mapping", "encode_struct", "footer", "lie_about_rows",
           "lie_about_sizes", "lie_in_page_headers", "with_footer"]
