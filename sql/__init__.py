"""The project's SQL, as .sql files next to this module.

`load(name)` returns the text of `name.sql`. Queries use `$name` parameters and are never
built from user strings.
"""

import re
from importlib import resources


def load(name: str) -> str:
    """Text of `sql/<name>.sql`."""
    return resources.files(__name__).joinpath(f"{name}.sql").read_text(encoding="utf-8")


def statements(name: str) -> list[str]:
    """The statements of `sql/<name>.sql` (each ends with ';' at the end of a line), without
    comment lines: DuckDB binds parameters only in a single statement."""
    code = "\n".join(line for line in load(name).splitlines()
                     if not line.lstrip().startswith("--"))
    return [p.strip() for p in re.split(r";\s*\n", code + "\n") if p.strip()]
