"""What can be wrong with an upload, as values: :class:`RowError` (file, row, field, what was
expected), :class:`IngestError` (the batch is refused, nothing stored) and
:class:`UnknownSchool`.

Messages are written from public facts only (column names, row numbers, limits, the
register). They never quote a value of the file: a value may be a pupil number in the wrong
column, a spreadsheet formula or 100 kB of text.
"""

from __future__ import annotations

from dataclasses import dataclass

from service import errors as service_errors


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


class IngestError(service_errors.InvalidUpload):
    """The batch has problems; nothing of it was stored. `errors`: every `RowError` (the
    problem+json answer lists them, never a value)."""

    def __init__(self, errors: list[RowError], truncated: bool = False):
        self.errors = errors
        self.truncated = truncated
        more = " (more not shown)" if truncated else ""
        lines = "\n".join(f"  {e}" for e in errors[:20])
        super().__init__(
            f"{len(errors)} problem(s) in the upload{more}; nothing was stored:\n{lines}",
            detail=f"{len(errors)} problem(s) in the upload{more}; nothing was stored",
            errors=[{"in": "file", "file": e.file, "row": e.row, "field": e.field,
                     "message": e.message} for e in errors], truncated=truncated)


class UnknownSchool(service_errors.InvalidInput):
    """The school id is not in the public register."""

    def __init__(self, school_id: str):
        self.school_id = school_id
        super().__init__(f"school {school_id!r} is not in the register of schools",
                         detail="the school is not in the register of schools",
                         errors=[{"in": "form", "field": "school",
                                  "message": "not in the register of schools"}])
