"""One SQL text, many engines: DuckDB SQL transpiled to another dialect with sqlglot.

Batch SQL is written once, in DuckDB's dialect (the engine on one machine, and the one its
authors test against first). :func:`transpile` turns it into the dialect of another engine —
today Spark SQL — with sqlglot, plus the few rewrites sqlglot leaves to us because Spark has no
function of that name:

- ``regexp_full_match(x, 'p')`` → ``x RLIKE '^(?:p)\\z'`` (Java regular expressions; ``\\z``,
  not ``$``, so a trailing newline does not match, as in RE2);
- ``try_strptime(s, '%Y%m%d')`` → ``try_to_timestamp(s, 'yyyyMMdd')`` (strict: 30 February is
  NULL on both engines);
- ``left(s, -n)`` (DuckDB: all but the last ``n`` characters) → ``substring(s, 1, length(s) - n)``.

No user-defined functions: everything runs inside the engine, vectorised on DuckDB and in
generated code on Spark. A function neither sqlglot nor this module knows is left as written, so
Spark refuses the query when it is analysed (before any data is read), never silently.
"""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp

from xinyong.errors import UnusableInput

#: The dialect batch SQL is written in.
SOURCE = "duckdb"
#: strftime codes → Java DateTimeFormatter letters, for the formats batch SQL uses.
_JAVA_FORMAT = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss"}


def _java_format(fmt: str) -> str:
    out = fmt
    for code, letters in _JAVA_FORMAT.items():
        out = out.replace(code, letters)
    if "%" in out:
        raise UnusableInput(f"无法转换日期格式 / cannot translate date format {fmt!r} for Spark")
    return out


def _for_spark(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.RegexpFullMatch) and isinstance(node.expression, exp.Literal):
        pattern = f"^(?:{node.expression.this})\\z"
        return exp.RegexpLike(this=node.this, expression=exp.Literal.string(pattern))
    if isinstance(node, exp.Anonymous) and node.name.upper() == "TRY_STRPTIME":
        value, fmt = node.expressions
        if not isinstance(fmt, exp.Literal):
            raise UnusableInput("try_strptime 的格式须为常量 / try_strptime needs a literal format")
        return exp.Anonymous(
            this="TRY_TO_TIMESTAMP",
            expressions=[value, exp.Literal.string(_java_format(fmt.this))],
        )
    if isinstance(node, exp.Left) and isinstance(node.expression, exp.Neg):
        text = node.this
        keep = exp.Sub(this=exp.Length(this=text.copy()), expression=node.expression.this)
        return exp.Substring(this=text, start=exp.Literal.number(1), length=keep)
    return node


_REWRITES = {"spark": _for_spark}


@lru_cache(maxsize=256)
def transpile(sql: str, dialect: str) -> str:
    """``sql`` (DuckDB dialect, one statement) in ``dialect``; DuckDB SQL is returned unchanged."""
    if dialect == SOURCE:
        return sql
    try:
        tree = sqlglot.parse_one(sql, read=SOURCE)
    except sqlglot.errors.ParseError as error:
        raise UnusableInput(f"无法解析批处理 SQL / cannot parse batch SQL: {error}") from error
    rewrite = _REWRITES.get(dialect)
    if rewrite is not None:
        tree = tree.transform(rewrite)
    return tree.sql(dialect=dialect)
