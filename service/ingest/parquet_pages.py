"""What the pages of a Parquet column chunk hold, read from their own headers, before any of
them is decompressed.

The footer's sizes and counts (``total_byte_size``, ``total_uncompressed_size``,
``num_rows``, ``num_values``) are claims a file makes about itself; Arrow allocates by the
page headers: each page is decompressed into exactly the ``uncompressed_page_size`` its header
states (a page that decompresses to anything else is an error, not a larger buffer), and a
flat column's data page holds ``num_values`` rows. So summing the page headers of a chunk says
how many bytes reading it will decode and how many rows it really holds; a footer that
disagrees is lying.

The chunk is the byte range Arrow reads for it (from the dictionary page, or the first data
page, for ``total_compressed_size`` bytes); the walk refuses headers that run past it.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.ingest.thrift_compact import Malformed, Reader, field

DATA_PAGE, INDEX_PAGE, DICTIONARY_PAGE, DATA_PAGE_V2 = 0, 1, 2, 3
MAX_PAGES = 50_000
"""Most pages one file may have (a 500,000-row file written by Arrow has a few hundred)."""


class Unreadable(ValueError):
    """The chunk's pages cannot be walked: a damaged or hostile file."""


@dataclass(frozen=True)
class ChunkPages:
    """One column chunk as its page headers describe it."""

    pages: int
    rows: int
    """values of its data pages: the rows of a flat column."""
    decoded_bytes: int
    """bytes its pages decompress to (uncompressed_page_size summed)."""


def chunk_pages(content: bytes, start: int, length: int, max_pages: int = MAX_PAGES) -> ChunkPages:
    """Walk the page headers of the chunk at content[start:start + length]."""
    end = start + length
    if start < 4 or length <= 0 or end > len(content) - 8:
        raise Unreadable("a column chunk lies outside the file")
    reader = Reader(content, start, end)
    pages = rows = decoded = 0
    while reader.pos < end:
        pages += 1
        if pages > max_pages:
            raise Unreadable(f"more than {max_pages} pages")
        try:
            header = reader.struct()
        except Malformed as exc:
            raise Unreadable(str(exc)) from None
        kind = field(header, 1)
        uncompressed, compressed = field(header, 2), field(header, 3)
        if not isinstance(uncompressed, int) or not isinstance(compressed, int) \
                or uncompressed < 0 or compressed < 0 or compressed > end - reader.pos:
            raise Unreadable("a page size beyond the chunk")
        if kind == DATA_PAGE:
            values = field(_struct(header, 5), 1)
        elif kind == DATA_PAGE_V2:
            values = field(_struct(header, 8), 3)
        elif kind in (DICTIONARY_PAGE, INDEX_PAGE):
            values = 0
        else:
            raise Unreadable("an unknown page type")
        if not isinstance(values, int) or values < 0:
            raise Unreadable("a page without its number of values")
        rows += values
        decoded += uncompressed
        reader.pos += compressed
    return ChunkPages(pages, rows, decoded)


def _struct(header: list, fid: int) -> list:
    """Field `fid` of a page header, which must be a struct (a list of fields) if present: a
    damaged file may carry any type under that id (found by the parser fuzz in CI)."""
    value = field(header, fid, [])
    if not isinstance(value, list):
        raise Unreadable("a page header whose parts are not what the format says")
    return value
