"""Bounds on what one upload may make the service decode, checked before the work is done.

A 67 kB Parquet file can hold five million rows, and a 64 MiB CSV eight million; the body
limit alone does not bound memory. Every limit is checked from what is cheap to know first:
the Parquet footer (rows, columns, uncompressed size of each row group) and then, because a
footer can lie, the page headers (rows and decompressed size of every page) before a single
page is decompressed, the number of line breaks of a CSV before Arrow parses it, and the length of
every value (Parquet: of each dictionary entry, before the dictionary is expanded).
"""

from __future__ import annotations

from dataclasses import dataclass

from service.settings import Settings

MAX_COLUMNS = 32
"""Most columns a file may declare (the tables have 6 and 4)."""
MAX_FIELD_CHARS = 32
"""Longest value of any field: the longest valid one (a date) has 10 characters."""
MAX_HEADER_BYTES = 4096
"""Longest header line of a CSV file."""


@dataclass(frozen=True)
class UploadLimits:
    """The limits for one file of a batch."""

    max_rows: int
    max_decoded_bytes: int
    max_errors: int
    max_columns: int = MAX_COLUMNS
    max_field_chars: int = MAX_FIELD_CHARS

    @classmethod
    def from_settings(cls, settings: Settings) -> "UploadLimits":
        return cls(settings.max_upload_rows, settings.max_decoded_bytes, settings.max_errors)
