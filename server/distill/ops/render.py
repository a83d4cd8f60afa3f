"""Python source for the values ops carry: columns, types, defaults, constraints.

The output is what a person would type in a revision script (``sa.String(length=255)``,
``postgresql.JSONB()``), and every name it uses is added to ``imports`` so the
script that holds it runs as written.  ``import sqlalchemy as sa`` is always
there, so it is never added.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ClauseElement, conv

_SA_MODULES = ("sqlalchemy.sql.sqltypes", "sqlalchemy.types", "sqlalchemy.sql.type_api")


def schema_kwarg(schema: str | None, key: str = "schema") -> list[tuple[str, str]]:
    """``schema=...`` for a rendered call, or nothing when the schema is the default."""
    return [(key, literal(schema))] if schema else []


def call(name: str, args: Iterable[str] = (), kwargs: Iterable[tuple[str, str]] = ()) -> str:
    parts = [*args, *(f"{key}={value}" for key, value in kwargs)]
    return f"{name}({', '.join(parts)})"


def literal(value: Any) -> str:
    """Source for plain data: strings, numbers, booleans, None, lists of those."""
    if isinstance(value, (list, tuple)):
        inner = ", ".join(literal(v) for v in value)
        return f"[{inner}]"
    if isinstance(value, conv):  # a final name, exempt from the naming convention
        return f"op.f({_string(str.__str__(value))})"
    if isinstance(value, str):
        return _string(value)
    return repr(value)


def _string(value: str) -> str:
    # Double quotes as ruff format would write them, unless the text has some.
    if '"' in value or "\\" in value or "\n" in value:
        return repr(value)
    return f'"{value}"'


def type_(value: Any, imports: set[str]) -> str:
    instance = sa.types.to_instance(value)
    cls = type(instance)
    module = cls.__module__
    if module.startswith(_SA_MODULES) or module == "sqlalchemy":
        prefix = "sa"
    elif module.startswith("sqlalchemy.dialects."):
        prefix = module.split(".")[2]
        imports.add(f"from sqlalchemy.dialects import {prefix}")
    else:
        prefix = module
        imports.add(f"import {module}")
    head, paren, args = repr(instance).partition("(")
    # repr() names nested types bare, e.g. JSONB(astext_type=Text()); qualify them.
    rest = _NESTED_TYPE.sub(lambda m: _qualify(m.group(1), prefix) + "(", paren + args)
    return f"{prefix}.{head}{rest}"


_NESTED_TYPE = re.compile(r"(?<=[(=,\s])([A-Z][A-Za-z0-9_]*)\(")


def _qualify(name: str, prefix: str) -> str:
    if isinstance(getattr(sa.types, name, None), type):
        return f"sa.{name}"
    return f"{prefix}.{name}"


def sql_text(value: Any, imports: set[str]) -> str:
    """A SQL expression or condition as ``sa.text(...)`` (or the string given)."""
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, sa.TextClause):
        return f"sa.text({_string(value.text)})"
    if isinstance(value, ClauseElement):
        compiled = value.compile(compile_kwargs={"literal_binds": True})
        return f"sa.text({_string(str(compiled))})"
    return literal(value)


def server_default(value: Any, imports: set[str]) -> str:
    if value is None or isinstance(value, (str, bool)):
        return literal(value)
    if isinstance(value, sa.TextClause):
        plain = _string_literal(value.text)
        if plain is not None:  # '0' reads better as "0", which SQLAlchemy quotes again
            return literal(plain)
    if isinstance(value, sa.DefaultClause):
        return server_default(value.arg, imports)
    if isinstance(value, sa.Computed):
        return call("sa.Computed", [sql_text(value.sqltext, imports)])
    if isinstance(value, sa.FetchedValue):
        return "sa.FetchedValue()"
    return sql_text(value, imports)


_STRING_LITERAL = re.compile(r"'((?:[^'\\]|'')*)'")


def _string_literal(sql: str) -> str | None:
    """The text of a plain SQL string literal; None for anything else.

    A backslash is left alone: MySQL reads it as an escape, the others do not.
    """
    match = _STRING_LITERAL.fullmatch(sql)
    return match.group(1).replace("''", "'") if match else None


def column(
    col: sa.Column[Any],
    imports: set[str],
    *,
    table_level: Sequence[Any] = (),
) -> str:
    """``sa.Column(...)`` as declared.

    Building a Table marks a column primary_key and gives it ForeignKey objects
    when a table-level PrimaryKeyConstraint or ForeignKeyConstraint names it;
    those are rendered once, at table level (``table_level``), not again here.
    """
    constrained_pk = any(isinstance(item, sa.PrimaryKeyConstraint) for item in table_level)
    table_fks = {
        id(fk)
        for item in table_level
        if isinstance(item, sa.ForeignKeyConstraint)
        for fk in item.elements
    }
    args = [literal(col.name), type_(col.type, imports)]
    for fk in col.foreign_keys:
        if id(fk) not in table_fks:
            args.append(foreign_key(fk))
    kwargs: list[tuple[str, str]] = []
    if col.server_default is not None:
        kwargs.append(("server_default", server_default(col.server_default, imports)))
    if col.primary_key and not constrained_pk:
        kwargs.append(("primary_key", "True"))
    if col.autoincrement is not True and col.autoincrement != "auto":
        kwargs.append(("autoincrement", literal(col.autoincrement)))
    kwargs.append(("nullable", literal(col.nullable)))
    if col.unique:
        kwargs.append(("unique", "True"))
    if col.index:
        kwargs.append(("index", "True"))
    if col.comment is not None:
        kwargs.append(("comment", literal(col.comment)))
    return call("sa.Column", args, kwargs)


def foreign_key(fk: sa.ForeignKey) -> str:
    kwargs = [(key, literal(getattr(fk, key))) for key in _FK_OPTIONS if getattr(fk, key)]
    if fk.name:
        kwargs.insert(0, ("name", literal(fk.name)))
    return call("sa.ForeignKey", [literal(fk._get_colspec())], kwargs)


_FK_OPTIONS = ("ondelete", "onupdate", "deferrable", "initially", "match")


def constraint(item: Any, imports: set[str]) -> str:
    """A table-level item of create_table: a constraint or an Index."""
    name = [("name", literal(item.name))] if getattr(item, "name", None) else []
    if isinstance(item, sa.PrimaryKeyConstraint):
        return call("sa.PrimaryKeyConstraint", _names(item.columns), name)
    if isinstance(item, sa.UniqueConstraint):
        return call("sa.UniqueConstraint", _names(item.columns), name)
    if isinstance(item, sa.CheckConstraint):
        return call("sa.CheckConstraint", [sql_text(item.sqltext, imports)], name)
    if isinstance(item, sa.ForeignKeyConstraint):
        options = [(k, literal(getattr(item, k))) for k in _FK_OPTIONS if getattr(item, k)]
        return call(
            "sa.ForeignKeyConstraint",
            [literal(list(item.column_keys)), literal([e._get_colspec() for e in item.elements])],
            name + options,
        )
    if isinstance(item, sa.Index):
        exprs = [_index_expr(e, imports) for e in item.expressions]
        extra = [("unique", "True")] if item.unique else []
        return call("sa.Index", [literal(item.name), *exprs], extra + dialect_kwargs(item))
    raise TypeError(f"cannot render {item!r}")


def _index_expr(expr: Any, imports: set[str]) -> str:
    if isinstance(expr, sa.Column):
        return literal(expr.name)
    return sql_text(expr, imports)


def _names(columns: Iterable[sa.Column[Any]]) -> list[str]:
    return [literal(c.name) for c in columns]


def dialect_kwargs(item: Any) -> list[tuple[str, str]]:
    return [(key, literal(value)) for key, value in sorted(item.dialect_kwargs.items())]


def kwargs_of(values: Sequence[tuple[str, Any]], imports: set[str]) -> list[tuple[str, str]]:
    """Keyword arguments whose values are data or SQL text, skipping None."""
    out = []
    for key, value in values:
        if value is None:
            continue
        out.append((key, sql_text(value, imports)))
    return out


def dialect_kwargs_of(kw: dict[str, Any]) -> list[tuple[str, str]]:
    return [(key, literal(value)) for key, value in sorted(kw.items())]
