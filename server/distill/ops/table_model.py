"""A table described as data, so a SQLite rebuild can change it as ALTER would.

``rebuild`` reads the table into a ``TableModel`` (from the database, or from
``copy_from``), each ``TableChange`` changes the model (``change_model``), and
the model becomes the new table's ``CREATE TABLE``.  This module knows no op:
an op is a ``ModelChange``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa

from distill.ddl.common import ensure_referent
from distill.errors import OperationError


class ModelChange(Protocol):
    """What a rebuild needs of a change: to make it on the model, and to name it."""

    def change_model(self, model: TableModel) -> None: ...

    def describe(self) -> str: ...


@dataclass
class ColumnModel:
    column: sa.Column[Any]  # detached; its name is the name after the rebuild
    source: str | None  # the column it is copied from; None for a new column


@dataclass
class ConstraintModel:
    kind: str  # "unique" | "check" | "foreignkey"
    name: str | None
    columns: list[str] = field(default_factory=list)
    sqltext: str | None = None
    referent: tuple[str | None, str, list[str]] | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class IndexModel:
    name: str
    columns: list[str]
    unique: bool = False
    sql: str | None = None  # verbatim CREATE INDEX for what SQLAlchemy cannot rebuild
    kwargs: dict[str, Any] = field(default_factory=dict)
    expressions: list[Any] = field(default_factory=list)


@dataclass
class TableModel:
    name: str
    schema: str | None
    columns: list[ColumnModel]
    primary_key: tuple[str | None, list[str]] | None = None
    constraints: list[ConstraintModel] = field(default_factory=list)
    indexes: list[IndexModel] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)  # Table(**kwargs): sqlite_autoincrement

    def column(self, name: str) -> ColumnModel:
        for item in self.columns:
            if item.column.name == name:
                return item
        raise OperationError(f"table {self.name!r} has no column {name!r}; check the name")

    def has_column(self, name: str) -> bool:
        return any(item.column.name == name for item in self.columns)

    def add_column(
        self, column: sa.Column[Any], before: str | None = None, after: str | None = None
    ) -> None:
        if self.has_column(column.name):
            raise OperationError(f"table {self.name!r} already has a column {column.name!r}")
        position = len(self.columns)
        if before is not None:
            position = self.columns.index(self.column(before))
        elif after is not None:
            position = self.columns.index(self.column(after)) + 1
        self.columns.insert(position, ColumnModel(copy_column(column), None))
        if column.primary_key:
            pk_name, pk_cols = self.primary_key or (None, [])
            self.primary_key = (pk_name, [*pk_cols, column.name])
        if column.unique:
            self.constraints.append(ConstraintModel("unique", None, [column.name]))
        for fk in column.foreign_keys:
            self.constraints.append(fk_model(_name(fk.name), [column.name], fk))
        if column.index:
            self.indexes.append(IndexModel(f"ix_{self.name}_{column.name}", [column.name]))

    def drop_column(self, name: str) -> None:
        self.columns.remove(self.column(name))
        if self.primary_key and name in self.primary_key[1]:
            remaining = [c for c in self.primary_key[1] if c != name]
            self.primary_key = (self.primary_key[0], remaining) if remaining else None
        self.constraints = [c for c in self.constraints if not _uses(c, name)]
        self.indexes = [i for i in self.indexes if name not in i.columns]

    def rename_column(self, old: str, new: str) -> None:
        if self.has_column(new):
            raise OperationError(f"table {self.name!r} already has a column {new!r}")
        self.column(old).column.name = new
        self.column(new).column.key = new
        if self.primary_key:
            self.primary_key = (self.primary_key[0], _renamed(self.primary_key[1], old, new))
        for con in self.constraints:
            con.columns = _renamed(con.columns, old, new)
            if con.sqltext is not None:
                # CHECK text names columns; without this the new table would not create.
                con.sqltext = rename_word(con.sqltext, old, new)
        for index in self.indexes:
            index.columns = _renamed(index.columns, old, new)
            if index.sql is not None:
                index.sql = rename_word(index.sql, old, new)

    def drop_constraint(self, name: str, kind: str | None) -> None:
        if kind in (None, "primary") and self.primary_key and self.primary_key[0] == name:
            self.primary_key = None
            return
        if kind == "primary" and self.primary_key:
            self.primary_key = None
            return
        for con in self.constraints:
            if con.name == name and kind in (None, con.kind):
                self.constraints.remove(con)
                return
        raise OperationError(
            f"table {self.name!r} has no {kind or ''} constraint named {name!r}".replace("  ", " ")
            + "; check the name (SQLite cannot drop an unnamed constraint by name)"
        )

    def drop_index(self, name: str) -> None:
        for index in self.indexes:
            if index.name == name:
                self.indexes.remove(index)
                return
        raise OperationError(f"table {self.name!r} has no index named {name!r}; check the name")

    def to_table(self, metadata: sa.MetaData, name: str) -> sa.Table:
        items: list[Any] = [copy_column(c.column) for c in self.columns]
        if self.primary_key:
            items.append(sa.PrimaryKeyConstraint(*self.primary_key[1], name=self.primary_key[0]))
        for con in self.constraints:
            items.append(constraint_object(con, metadata))
        return sa.Table(
            name, metadata, *items, schema=self.schema, extend_existing=True, **self.kwargs
        )

    def index_objects(self, table: sa.Table) -> list[sa.Index]:
        out = []
        for index in self.indexes:
            if index.sql is None:
                elements = [*(table.c[c] for c in index.columns), *index.expressions]
                out.append(sa.Index(index.name, *elements, unique=index.unique, **index.kwargs))
        return out


def _name(name: object) -> str | None:
    return name if isinstance(name, str) else None


def _uses(con: ConstraintModel, column: str) -> bool:
    if column in con.columns:
        return True
    return con.sqltext is not None and rename_word(con.sqltext, column, "\0") != con.sqltext


def _renamed(names: list[str], old: str, new: str) -> list[str]:
    return [new if n == old else n for n in names]


def rename_word(text: str, old: str, new: str) -> str:
    pattern = rf'(?<![\w"`]){re.escape(old)}(?![\w"`])|"{re.escape(old)}"|`{re.escape(old)}`'
    return re.sub(pattern, new.replace("\\", "\\\\"), text)


def copy_column(column: sa.Column[Any]) -> sa.Column[Any]:
    return sa.Column(
        column.name,
        column.type,
        nullable=column.nullable,
        server_default=default_arg(column.server_default),
        comment=column.comment,
        autoincrement=column.autoincrement,
    )


def default_arg(default: Any) -> Any:
    # A DefaultClause belongs to one Column; a new column gets its argument.
    if isinstance(default, sa.DefaultClause) and not default.for_update:
        return default.arg
    return default


def fk_model(name: str | None, columns: list[str], fk: sa.ForeignKey) -> ConstraintModel:
    elements = fk.constraint.elements if fk.constraint is not None else [fk]
    referent: list[str] = []
    schema, table = None, ""
    for element in elements:
        parts = element._get_colspec().split(".")
        schema, table = (".".join(parts[:-2]) or None), parts[-2]
        referent.append(parts[-1])
    options = {k: getattr(fk, k) for k in ("ondelete", "onupdate", "deferrable", "initially")}
    return ConstraintModel(
        "foreignkey",
        name,
        columns,
        referent=(schema, table, referent),
        options={k: v for k, v in options.items() if v is not None},
    )


def constraint_object(con: ConstraintModel, metadata: sa.MetaData) -> sa.Constraint:
    if con.kind == "unique":
        return sa.UniqueConstraint(*con.columns, name=con.name)
    if con.kind == "check":
        return sa.CheckConstraint(sa.text(con.sqltext or ""), name=con.name)
    assert con.referent is not None
    schema, table, columns = con.referent
    ensure_referent(metadata, table, schema, columns)
    prefix = f"{schema}.{table}" if schema else table
    return sa.ForeignKeyConstraint(
        con.columns, [f"{prefix}.{c}" for c in columns], name=con.name, **con.options
    )


def model_from_table(table: sa.Table, index_sql: dict[str, str]) -> TableModel:
    """Describe ``table``; ``index_sql`` holds the CREATE INDEX text SQLite stored."""
    model = TableModel(
        table.name, table.schema, [ColumnModel(copy_column(c), c.name) for c in table.columns]
    )
    pk = table.primary_key
    if pk is not None and len(pk.columns):
        model.primary_key = (
            pk.name if isinstance(pk.name, str) else None,
            [c.name for c in pk.columns],
        )
    if table.dialect_options["sqlite"].get("autoincrement"):
        model.kwargs["sqlite_autoincrement"] = True
    model.constraints = constraint_models(table)
    reflected = {str(i.name): i for i in table.indexes if isinstance(i.name, str)}
    for name, sql in index_sql.items():
        index = reflected.get(name)
        columns = [c.name for c in index.columns] if index is not None else []
        if (
            index is not None
            and " where " not in sql.lower()
            and len(index.expressions) == len(columns)
        ):
            model.indexes.append(IndexModel(name, columns, bool(index.unique)))
        else:
            model.indexes.append(IndexModel(name, columns_named_in(sql, table), sql=sql))
    if not index_sql:  # a copy_from Table: its Index objects are the truth
        model.indexes += [index_model(index) for index in table.indexes]
    return model


def constraint_models(table: sa.Table) -> list[ConstraintModel]:
    """The unique, check and foreign key constraints of ``table``, described."""
    found: list[ConstraintModel] = []
    for con in table.constraints:
        name = con.name if isinstance(con.name, str) else None
        if isinstance(con, sa.UniqueConstraint):
            found.append(ConstraintModel("unique", name, [c.name for c in con.columns]))
        elif isinstance(con, sa.CheckConstraint):
            sqltext = str(con.sqltext.compile(compile_kwargs={"literal_binds": True}))
            found.append(ConstraintModel("check", name, sqltext=sqltext))
        elif isinstance(con, sa.ForeignKeyConstraint):
            found.append(fk_model(name, list(con.column_keys), con.elements[0]))
    return found


def index_model(index: sa.Index) -> IndexModel:
    extra = [e for e in index.expressions if not isinstance(e, sa.Column)]
    columns = [c.name for c in index.columns]
    return IndexModel(
        str(index.name), columns, bool(index.unique), kwargs=dict(index.dialect_kwargs),
        expressions=extra,
    )  # fmt: skip


def columns_named_in(sql: str, table: sa.Table) -> list[str]:
    on = sql.split("(", 1)[-1]
    return [c.name for c in table.columns if rename_word(on, c.name, "\0") != on]
