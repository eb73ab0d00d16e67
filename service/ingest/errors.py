"""What can be wrong with an upload, as values: :class:`RowError` (file, row, field, what was
expected), :class:`IngestError` (the batch is refused, nothing stored) and
:class:`UnknownSchool`.

Messages are written from public facts only (column names, row numbers, limits, the
register). They never quote a value of the file: a value may be a pupil number in the wrong
column, a spreadsheet formula or 100 kB of text.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RowError:
    """One problem: which file, which data row (1 = first row after the header; 0 = the
    file as a whole or its header), which field, and what was expected."""

    file: str
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, row {self.row}" if self.row else self.file
        return f"{where}, field {self.field}: {self.message}"


class IngestError(Exception):
    """The batch has problems; nothing of it was stored."""

    def __init__(self, errors: list[RowError], truncated: bool = False):
        self.errors = errors
        self.truncated = truncated
        more = " (more not shown)" if truncated else ""
        lines = "\n".join(f"  {e}" for e in errors[:20])
        super().__init__(f"{len(errors)} problem(s) in the upload{more}; nothing was stored:\n{lines}")


class UnknownSchool(Exception):
    """The school id is not in the public register."""

    def __init__(self, school_id: str):
        self.school_id = school_id
        super().__init__(f"school {school_id!r} is not in the register of schools")
