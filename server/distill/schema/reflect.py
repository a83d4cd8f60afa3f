"""A live database -> ``Schema``, in a fixed number of queries whatever its size.

PostgreSQL goes through SQLAlchemy's bulk Inspector methods (``get_multi_*``),
which read each kind of object for all tables in one round of catalog queries.
SQLAlchemy's MySQL dialect has no bulk methods — its ``get_multi_*`` fall back
to one ``SHOW CREATE TABLE`` per table — and SQLite's Inspector issues several
PRAGMAs per table, so those two read the catalog with queries of their own
(``reflect_mysql``, ``reflect_sqlite``).  Every reflected type still goes through
``column_type``, the same function the models' types go through.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine.interfaces import ReflectedColumn, ReflectedIndex

from distill.schema.ddl_facts import dialect_flavour, index_options, schema_dialect_name
from distill.schema.model import (
    CheckConstraint,
    Column,
    Computed,
    EnumType,
    ForeignKey,
    Identity,
    Index,
    PrimaryKey,
    Schema,
    Table,
    UniqueConstraint,
    sorted_tables,
)
from distill.schema.reflect_sqlite import reflect_sqlite
from distill.schema.types import column_type

TableKey = tuple[str | None, str]


def reflect_schema(
    conn: sa.Connection,
    *,
    schemas: Sequence[str | None] = (None,),
    exclude: Callable[[str], bool] | None = None,
) -> Schema:
    """The tables of ``schemas`` (None: the connection's default schema) as a Schema.

    ``exclude(table_name)`` returning true leaves a table out (e.g. Distill's
    own version table, or a user's exclusion globs).
    """
    dialect = conn.dialect
    keep = (lambda name: not exclude(name)) if exclude is not None else (lambda name: True)
    enums: list[EnumType] = []
    if dialect.name == "sqlite":
        tables = [t for schema in schemas for t in reflect_sqlite(conn, schema, keep)]
    elif dialect.name in ("mysql", "mariadb") and getattr(dialect, "is_mariadb", False):
        # MySQL proper reports defaults differently; it takes the Inspector path.  Imported
        # here: it loads SQLAlchemy's MySQL dialect, which other databases do not need.
        from distill.schema.reflect_mysql import reflect_mysql

        tables = [t for schema in schemas for t in reflect_mysql(conn, schema, keep)]
    else:
        tables, enums = _reflect_with_inspector(conn, schemas, keep, exclude is not None)
    return Schema(
        dialect=schema_dialect_name(dialect),
        tables=sorted_tables(tables),
        enums=tuple(sorted(enums, key=lambda e: (e.schema or "", e.name))),
        flavour=dialect_flavour(dialect),
    )


# -- the bulk Inspector (PostgreSQL, and any other dialect as a fallback) ---------------


def _reflect_with_inspector(
    conn: sa.Connection,
    schemas: Sequence[str | None],
    keep: Callable[[str], bool],
    filtered: bool,
) -> tuple[list[Table], list[EnumType]]:
    inspector = sa.inspect(conn)
    tables: list[Table] = []
    enums: list[EnumType] = []
    for schema in schemas:
        columns = {
            k: v for k, v in inspector.get_multi_columns(schema=schema).items() if keep(k[1])
        }
        if not columns:
            continue
        # Name the kept tables only when a filter ran: unfiltered is the simpler query.
        names = [k[1] for k in columns] if filtered else None
        kw: dict[str, Any] = {"schema": schema, "filter_names": names}
        pks = inspector.get_multi_pk_constraint(**kw)
        fks = inspector.get_multi_foreign_keys(**kw)
        indexes = inspector.get_multi_indexes(**kw)
        uniques = inspector.get_multi_unique_constraints(**kw)
        checks = _optional(inspector.get_multi_check_constraints, kw)
        comments = _optional(inspector.get_multi_table_comment, kw)
        for key, reflected_columns in columns.items():
            tables.append(
                Table(
                    name=key[1],
                    schema=schema,
                    columns=tuple(_column(c, conn.dialect) for c in reflected_columns),
                    primary_key=_primary_key(pks.get(key)),
                    foreign_keys=_by_name(_foreign_key(fk) for fk in fks.get(key, [])),
                    indexes=_indexes(indexes.get(key, []), conn.dialect),
                    uniques=_by_name(
                        UniqueConstraint(tuple(u["column_names"]), u["name"])
                        for u in uniques.get(key, [])
                    ),
                    checks=_by_name(
                        CheckConstraint(c["sqltext"], c["name"]) for c in checks.get(key, [])
                    ),
                    comment=(comments.get(key) or {}).get("text"),
                )
            )
        if conn.dialect.name == "postgresql":
            enums.extend(_pg_enums(inspector, schema))
    return tables, enums


def _optional(
    method: Callable[..., dict[TableKey, Any]], kw: dict[str, Any]
) -> dict[TableKey, Any]:
    try:
        return method(**kw)
    except NotImplementedError:  # a dialect without comments or check reflection
        return {}


def _column(reflected: ReflectedColumn, dialect: sa.Dialect) -> Column:
    autoincrement = bool(reflected.get("autoincrement")) or None
    default = reflected.get("default")
    # A SERIAL's nextval() default is how PostgreSQL implements autoincrement;
    # the model says autoincrement, not this default.
    if autoincrement and default and default.startswith("nextval("):
        default = None
    computed = reflected.get("computed")
    identity = reflected.get("identity")
    return Column(
        name=reflected["name"],
        type=column_type(reflected["type"], dialect),
        nullable=bool(reflected["nullable"]),
        server_default=default,
        comment=reflected.get("comment"),
        autoincrement=autoincrement,
        computed=Computed(computed["sqltext"], computed.get("persisted")) if computed else None,
        identity=Identity(
            always=bool(identity.get("always")),
            start=identity.get("start"),
            increment=identity.get("increment"),
        )
        if identity
        else None,
    )


def _primary_key(reflected: Any) -> PrimaryKey | None:
    if not reflected or not reflected.get("constrained_columns"):
        return None
    return PrimaryKey(tuple(reflected["constrained_columns"]), reflected.get("name"))


def _foreign_key(reflected: Any) -> ForeignKey:
    options = reflected.get("options") or {}
    return ForeignKey(
        columns=tuple(reflected["constrained_columns"]),
        ref_table=reflected["referred_table"],
        ref_columns=tuple(reflected["referred_columns"]),
        name=reflected.get("name"),
        ref_schema=reflected.get("referred_schema"),
        ondelete=_rule(options.get("ondelete")),
        onupdate=_rule(options.get("onupdate")),
        deferrable=options.get("deferrable") or None,
        initially=options["initially"].upper() if options.get("initially") else None,
    )


def _rule(value: str | None) -> str | None:
    # NO ACTION is what every dialect does when no rule is given.
    if not value or value.upper() == "NO ACTION":
        return None
    return value.upper()


def _indexes(reflected: list[ReflectedIndex], dialect: sa.Dialect) -> tuple[Index, ...]:
    out = []
    for index in reflected:
        if index.get("duplicates_constraint"):
            continue  # the index behind a unique constraint, reported as the constraint
        expressions = index.get("expressions")
        names = list(index["column_names"])
        columns = [
            name if name is not None else (expressions or [""] * len(names))[i]
            for i, name in enumerate(names)
        ]
        flags = [name is None for name in names]
        sorting = index.get("column_sorting") or {}
        for i, name in enumerate(names):
            if name is not None and name in sorting:
                # A DESC column is an expression in the model (``col.desc()``).
                columns[i] = " ".join([name, *(s.upper() for s in sorting[name])])
                flags[i] = True
        out.append(
            Index(
                name=str(index["name"]),
                columns=tuple(columns),
                expressions=tuple(flags),
                unique=bool(index["unique"]),
                dialect_options=index_options(
                    (index.get("dialect_options") or {}).items(),
                    dialect,
                    [c for c, e in zip(columns, flags, strict=True) if not e],
                ),
            )
        )
    return tuple(sorted(out, key=lambda i: i.name))


def _pg_enums(inspector: sa.Inspector, schema: str | None) -> list[EnumType]:
    found = inspector.get_enums(schema=schema)  # type: ignore[attr-defined]
    default = inspector.default_schema_name
    return [
        EnumType(
            name=e["name"],
            values=tuple(e["labels"]),
            schema=None if e["schema"] == default and schema is None else e["schema"],
        )
        for e in found
    ]


def _by_name(items: Any) -> tuple[Any, ...]:
    return tuple(sorted(items, key=lambda c: (c.name or "", repr(c))))
