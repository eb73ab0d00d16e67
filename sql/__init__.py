"""The project's SQL, as .sql files next to this module.

`load(name)` returns the text of `name.sql`. Queries use `$name` parameters and are never
built from user strings. A file may also hold named statements: a line ``-- name: <name>``
starts one, and it ends with ';' at the end of a line. `named(name)` returns them by name;
`ddl(name)` the rest of the file (what `service.db.connect` applies).
"""

import re
from functools import lru_cache
from importlib import resources

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$")


def load(name: str) -> str:
    """Text of `sql/<name>.sql`."""
    return resources.files(__name__).joinpath(f"{name}.sql").read_text(encoding="utf-8")


def statements(name: str) -> list[str]:
    """The statements of `sql/<name>.sql` (each ends with ';' at the end of a line), without
    comment lines: DuckDB binds parameters only in a single statement."""
    code = "\n".join(line for line in load(name).splitlines()
                     if not line.lstrip().startswith("--"))
    return [p.strip() for p in re.split(r";\s*\n", code + "\n") if p.strip()]


@lru_cache(maxsize=None)
def _parts(name: str) -> tuple[str, dict[str, str]]:
    """(the file without its named statements, its named statements by name)."""
    rest, named_, current, lines = [], {}, None, []
    for line in load(name).splitlines():
        marker = _NAME.match(line.strip())
        if marker:
            current, lines = marker.group(1), []
        elif current is None:
            rest.append(line)
        elif not line.lstrip().startswith("--"):
            lines.append(line)
            if line.rstrip().endswith(";"):
                named_[current] = "\n".join(lines).strip()[:-1].rstrip()
                current = None
    if current is not None:
        raise ValueError(f"sql/{name}.sql: statement {current!r} does not end with ';'")
    return "\n".join(rest), named_


def ddl(name: str) -> str:
    """`sql/<name>.sql` without its named statements."""
    return _parts(name)[0]


def named(name: str) -> dict[str, str]:
    """The named statements of `sql/<name>.sql` (``-- name: x`` … ``;``), by name."""
    return dict(_parts(name)[1])

