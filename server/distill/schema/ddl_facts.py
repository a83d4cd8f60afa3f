"""What the dialect's own DDL compiler decides, asked without compiling any DDL.

Both schema builders need these answers in the same spelling: the name a
constraint gets (naming convention applied, truncated to the dialect's limit,
unquoted), the SQL text of an expression inside DDL, whether a constraint is
emitted at all, and an index's dialect options as text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.compiler import DDLCompiler

# Index options that change what an index is (and so what a comparison must
# see); storage tuning such as fillfactor or tablespaces is left out.
INDEX_OPTIONS: dict[str, tuple[str, ...]] = {
    "postgresql": ("where", "using", "include", "nulls_not_distinct", "ops"),
    "mysql": ("length", "prefix", "using"),
    "sqlite": ("where",),
}


def schema_dialect_name(dialect: sa.Dialect) -> str:
    # MariaDB speaks the MySQL dialect (its name is "mariadb" only with a
    # mariadb:// URL); the Schema names the dialect family, flavour the server.
    return "mysql" if dialect.name in ("mysql", "mariadb") else dialect.name


def dialect_flavour(dialect: sa.Dialect) -> str | None:
    return "mariadb" if getattr(dialect, "is_mariadb", False) else None


def ddl_compiler(dialect: sa.Dialect) -> DDLCompiler:
    # A compiler with no statement: used only for its helpers, never to compile DDL.
    return dialect.ddl_compiler(dialect, None)  # type: ignore[arg-type]


def is_created(constraint: sa.Constraint, compiler: DDLCompiler) -> bool:
    # Type-bound checks (Boolean/Enum create_constraint) carry a rule saying on
    # which dialects they exist; SQLAlchemy exposes it only privately.
    should = getattr(constraint, "_should_create_for_compiler", None)
    if should is not None and not should(compiler):
        return False
    if isinstance(constraint, sa.ForeignKeyConstraint):
        # A compiler renders nothing for a key its dialect cannot hold (SQLite:
        # a key to a table in another schema), and CREATE TABLE leaves it out.
        try:
            return bool(compiler.process(constraint))
        except sa.exc.NoReferenceError:  # the referred table is elsewhere; keep the key
            return True
    return True


def constraint_name(item: sa.Constraint | sa.Index, dialect: sa.Dialect) -> str | None:
    """The name the DDL gives ``item``: naming convention applied, truncated, unquoted."""
    if item.name is None:
        return None
    preparer = dialect.identifier_preparer
    quoted = preparer.format_constraint(item)
    if quoted is None:
        return None
    return preparer.unformat_identifiers(quoted)[0]


def sql_text(expression: Any, compiler: DDLCompiler) -> str:
    """SQL for an expression inside DDL: no table prefixes, values inlined."""
    if isinstance(expression, str):
        return expression
    return str(compiler.sql_compiler.process(expression, include_table=False, literal_binds=True))


def index_options(
    items: Iterable[tuple[str, Any]],
    dialect: sa.Dialect,
    column_names: Sequence[str],
    compiler: DDLCompiler | None = None,
) -> tuple[tuple[str, str], ...]:
    """The options of ``INDEX_OPTIONS`` for this dialect as sorted (key, text) pairs.

    Also used for reflected indexes, so both sides spell an option the same way.
    """
    family = schema_dialect_name(dialect)
    prefix = f"{family}_"
    out: dict[str, str] = {}
    for key, value in items:
        if not key.startswith(prefix) or key[len(prefix) :] not in INDEX_OPTIONS[family]:
            continue
        text = _option_text(key[len(prefix) :], value, column_names, compiler)
        if text is not None:
            out[key] = text
    return tuple(sorted(out.items()))


def _option_text(
    option: str, value: Any, column_names: Sequence[str], compiler: DDLCompiler | None
) -> str | None:
    if value is None or value is False or value == {} or value == []:
        return None
    if option == "using":
        # btree is what every dialect builds when none is named.
        return None if str(value).lower() == "btree" else str(value).lower()
    if option == "length" and isinstance(value, int):
        # One length applies to every column; spelled per column as reflection reports it.
        value = dict.fromkeys(column_names, value)
    if isinstance(value, dict):
        if not value:  # a length for an index made only of expressions
            return None
        return json.dumps({str(k): v for k, v in value.items()}, sort_keys=True)
    if isinstance(value, (list, tuple)):
        return ", ".join(v if isinstance(v, str) else getattr(v, "name", str(v)) for v in value)
    if isinstance(value, sa.sql.ClauseElement) and compiler is not None:
        return sql_text(value, compiler)
    return str(value)
