"""DuckDB SQL of `sql/` to Spark SQL, with sqlglot (read="duckdb", write="spark").

Two things sqlglot leaves to the caller, done here on the parsed tree, never on text:
- `$name` parameters become literals of their bound values (`exp.convert`: strings quoted
  and escaped, lists as ARRAY(...), dates as CAST(... AS DATE)); Spark refuses parameter
  markers in the view and table definitions derive runs. Values are those the service binds
  (school year, declared bounds, filter values already checked against the public register).
- DuckDB macros (sql/derive_tables.sql: the absence thresholds) are inlined: Spark has no
  macros, and inlining keeps the ONE definition in sql/.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp


class Untranslatable(ValueError):
    """A statement of sql/ that the Spark engine cannot run (names the construct)."""


@dataclass(frozen=True)
class Macro:
    name: str
    params: tuple[str, ...]
    body: exp.Expression


def parse(statement: str) -> exp.Expression:
    """One DuckDB statement as a sqlglot tree."""
    tree = sqlglot.parse_one(statement, read="duckdb")
    if tree is None:
        raise Untranslatable("empty statement")
    return tree


def macro_of(tree: exp.Expression) -> Macro | None:
    """The macro a `CREATE MACRO name(a, b) AS expr` defines (None for other statements)."""
    if not (isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "MACRO"):
        return None
    udf = tree.this
    name = udf.this.name if isinstance(udf.this, exp.Table) else udf.name
    return Macro(name.lower(), tuple(p.name for p in udf.expressions), tree.expression)


def bind(tree: exp.Expression, params: dict, macros: dict[str, Macro]) -> exp.Expression:
    """The tree with macros inlined and `$name` parameters replaced by their values."""

    def inline(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.lower() in macros:
            macro = macros[node.name.lower()]
            if len(node.expressions) != len(macro.params):
                raise Untranslatable(f"macro {macro.name} takes {len(macro.params)} arguments")
            args = dict(zip(macro.params, node.expressions))
            body = macro.body.copy().transform(
                lambda n: exp.paren(args[n.name].copy())
                if isinstance(n, exp.Column) and not n.table and n.name in args else n)
            return exp.paren(body)
        if isinstance(node, exp.Placeholder) and node.name:
            if node.name not in params:
                raise Untranslatable(f"parameter ${node.name} has no value")
            return exp.convert(params[node.name])
        return node

    return tree.copy().transform(inline)


def union_by_name(tree: exp.Expression, columns: list[str]) -> exp.Expression:
    """DuckDB's `UNION [ALL] BY NAME` as a union of both sides projected on `columns` (the
    declared columns of the table it fills, in order): Spark SQL has no BY NAME."""

    def fix(node: exp.Expression) -> exp.Expression:
        if not (isinstance(node, exp.Union) and node.args.get("by_name")):
            return node
        key = "with_" if "with_" in node.args else "with"
        ctes = node.args.get(key)
        sides = [exp.select(*columns).from_(exp.Subquery(this=side.copy(), alias=exp.TableAlias(
            this=exp.to_identifier(alias)))) for side, alias in ((node.this, "by_name_left"),
                                                                  (node.expression, "by_name_right"))]
        union = exp.union(*sides, distinct=bool(node.args.get("distinct")))
        if ctes is not None:
            union.set(key, ctes.copy())
        return union

    return tree.transform(fix)


def to_spark(tree: exp.Expression) -> str:
    """Spark SQL text of a bound tree."""
    return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)


def transpile(statement: str, params: dict, macros: dict[str, Macro] | None = None) -> str:
    """A DuckDB statement of sql/ as Spark SQL with its parameters bound."""
    return to_spark(bind(parse(statement), params, macros or {}))
