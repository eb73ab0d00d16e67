"""The project's SQL, as .sql files next to this module.

`load(name)` returns the text of `name.sql`. Queries use `$name` parameters and are never
built from user strings.
"""

from importlib import resources


def load(name: str) -> str:
    """Text of `sql/<name>.sql`."""
    return resources.files(__name__).joinpath(f"{name}.sql").read_text(encoding="utf-8")
