"""Changes into ordered ops that keep every foreign key satisfied.

The order of an upgrade:

0. create new PostgreSQL enum types and change the values of existing ones
   (a table or column using a type needs it first);
1. drop the foreign keys that go away (nothing can then block a drop);
2. create new tables, parents before children; a foreign key inside a cycle
   of new tables is left out here and added in step 5;
3. table by table: drop what goes away (constraints, indexes, then columns),
   add columns, alter columns, then create constraints and indexes;
4. drop removed tables, children before parents;
5. create the new foreign keys;
6. drop the enum types no longer used (only once no column uses them).

Every op carries what its inverse needs (the dropped column's definition, the
old type, ...), so ``downgrade`` is exactly the reversed ops, reversed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from distill.autogen import build
from distill.autogen.compare import Change
from distill.ops.base import Op
from distill.ops.batch import BatchAlterTable
from distill.ops.column import AddColumn, AlterColumn, DropColumn
from distill.ops.constraint import (
    CreateCheck,
    CreateConstraint,
    CreateForeignKey,
    CreatePrimaryKey,
    CreateUnique,
    DropConstraint,
)
from distill.ops.enum import AddEnumValue, CreateEnumType, DropEnumType, RecreateEnumType
from distill.ops.index import CreateIndex, DropIndex
from distill.ops.rebuild import RebuildOptions
from distill.ops.table import (
    CreateTable,
    CreateTableComment,
    DropTable,
    DropTableComment,
    RenameTable,
)
from distill.schema.model import (
    CheckConstraint,
    Column,
    ColumnType,
    ForeignKey,
    Index,
    PrimaryKey,
    Table,
    UniqueConstraint,
)

TableKey = tuple[str | None, str]


def upgrade_ops(changes: Sequence[Change], dialect: str | None = None) -> list[Op]:
    """The ops that carry out ``changes``, in an order the database accepts.

    ``dialect`` (the schemas' dialect name) adds what only that database needs,
    e.g. PostgreSQL's ``USING`` for a type it does not convert by itself.
    """
    added: dict[TableKey, Table] = {
        (c.new.schema, c.new.name): c.new for c in changes if c.code == "table.added"
    }
    removed: dict[TableKey, Table] = {
        (c.old.schema, c.old.name): c.old for c in changes if c.code == "table.removed"
    }
    creation_order, deferred_fks = _creation_order(added)
    enum_ops, retyped = _enum_values(changes)
    per_table: dict[TableKey, list[Change]] = defaultdict(list)
    for change in changes:
        if change.table and change.code not in ("table.added", "table.removed", "table.renamed"):
            if change.code == "column.type" and _column_key(change) in retyped:
                continue  # the enum type's own change carries this column along
            per_table[(change.schema, change.table)].append(change)

    ops: list[Op] = [
        CreateEnumType(c.new.name, list(c.new.values), c.new.schema)
        for c in changes
        if c.code == "enum.added"
    ]
    ops += enum_ops
    ops += [
        _drop_constraint(c.table or "", c.schema, c.old, "foreignkey")
        for c in changes
        if c.code == "fk.removed"
    ]
    for key in creation_order:
        ops += _create_table(added[key], deferred_fks.get(key, ()))
    ops += [
        RenameTable(c.old.name, c.new.name, c.schema) for c in changes if c.code == "table.renamed"
    ]
    for key, table_changes in per_table.items():
        if key not in added and key not in removed:
            ops += _alter_table(table_changes, dialect)
    for key in reversed(_creation_order(removed)[0]):
        ops.append(_drop_table(removed[key]))
    ops += [_create_fk(c.table or "", c.schema, c.new) for c in changes if c.code == "fk.added"]
    for key, fks in deferred_fks.items():
        ops += [_create_fk(key[1], key[0], fk) for fk in fks]
    ops += [
        DropEnumType(c.old.name, c.old.schema, list(c.old.values))
        for c in changes
        if c.code == "enum.removed"
    ]
    return ops


def downgrade_ops(upgrade: Sequence[Op]) -> list[Op]:
    """The upgrade undone, last op first.

    An index created with a new table goes away with the table; dropping it
    first is not only redundant, MariaDB refuses it when a foreign key uses it.
    """
    created = {(op.schema, op.table_name) for op in upgrade if isinstance(op, CreateTable)}
    # One recreation of the type undoes all the values added to it, so only
    # the add that carries it is reversed.
    undone = {(op.schema, op.name) for op in upgrade if isinstance(op, AddEnumValue) and op.undo}
    return [
        op.reverse()
        for op in reversed(upgrade)
        if not (isinstance(op, CreateIndex) and (op.schema, op.table_name) in created)
        and not (
            isinstance(op, AddEnumValue) and op.undo is None and (op.schema, op.name) in undone
        )
    ]


# -- enum types whose values change -----------------------------------------------------

ColumnKey = tuple[str | None, str, str]


def _column_key(change: Change) -> ColumnKey:
    return (change.schema, change.table or "", change.name or "")


def _enum_values(changes: Sequence[Change]) -> tuple[list[Op], set[ColumnKey]]:
    """The ops for "enum.values" changes, and the columns whose type change they cover.

    Values only added keep the type (``ALTER TYPE ... ADD VALUE``); anything
    else (a value removed, values reordered) recreates it.  Either way every
    column using the type follows by itself, so its ``column.type`` change
    needs no ALTER of its own — and the recreation, which converts those
    columns, is also what undoes added values in the downgrade.
    """
    ops: list[Op] = []
    retyped: set[ColumnKey] = set()
    for change in changes:
        if change.code != "enum.values":
            continue
        name, schema = change.name or "", change.schema
        old, new = tuple(change.old), tuple(change.new)
        users = [
            c for c in changes
            if c.code == "column.type" and c.old.enum_name == name == c.new.enum_name
        ]  # fmt: skip
        retyped |= {_column_key(c) for c in users}
        # The type's values alone differ (the columns only name it), so its users
        # come with the change; a column whose type changed too is one of them.
        columns = list(
            dict.fromkeys([*change.users, *((c.table or "", c.name or "") for c in users)])
        )
        if not _only_added(old, new):
            ops.append(RecreateEnumType(name, list(new), columns, schema, list(old)))
            continue
        undo = RecreateEnumType(name, list(old), columns, schema, list(new))
        adds = [_add_value(name, schema, old, new, i) for i, v in enumerate(new) if v not in old]
        adds[0].undo = undo
        ops += adds
    return ops, retyped


def _only_added(old: tuple[str, ...], new: tuple[str, ...]) -> bool:
    """True when ``new`` is ``old`` with values inserted, the old ones in their order."""
    return [v for v in new if v in old] == list(old) and len(set(new)) == len(new)


def _add_value(
    name: str, schema: str | None, old: tuple[str, ...], new: tuple[str, ...], at: int
) -> AddEnumValue:
    # Placed before the next value that already exists; values after the last
    # old one are appended, which is where ADD VALUE puts them by default.
    before = next((v for v in new[at + 1 :] if v in old), None)
    return AddEnumValue(name, new[at], schema, before=before)


# -- new and removed tables -----------------------------------------------------------


def _creation_order(
    tables: dict[TableKey, Table],
) -> tuple[list[TableKey], dict[TableKey, list[ForeignKey]]]:
    """Parents before children; FKs that close a cycle are returned to add later."""
    order: list[TableKey] = []
    deferred: dict[TableKey, list[ForeignKey]] = defaultdict(list)
    state: dict[TableKey, str] = {}

    def visit(key: TableKey) -> None:
        state[key] = "visiting"
        table = tables[key]
        for fk in table.foreign_keys:
            parent = (fk.ref_schema if fk.ref_schema else table.schema, fk.ref_table)
            if parent == key or parent not in tables:
                continue  # self-reference or an existing table: no ordering needed
            if state.get(parent) == "visiting":
                deferred[key].append(fk)  # a cycle: this FK is added afterwards
            elif parent not in state:
                visit(parent)
        state[key] = "done"
        order.append(key)

    for key in sorted(tables, key=lambda k: (k[0] or "", k[1])):
        if key not in state:
            visit(key)
    return order, dict(deferred)


def _create_table(table: Table, leave_out: Iterable[ForeignKey]) -> list[Op]:
    skipped = set(leave_out)
    items = [i for i in build.table_items(table, foreign_keys=False)]
    items += [build.sa_foreign_key(fk) for fk in table.foreign_keys if fk not in skipped]
    ops: list[Op] = [CreateTable(table.name, items, table.schema, table.comment, _kw(table))]
    ops += [_create_index(table.name, table.schema, index) for index in table.indexes]
    return ops


def _drop_table(table: Table) -> Op:
    import sqlalchemy as sa

    # The indexes belong to the definition too: the downgrade recreates the
    # table from it, and an index left out would be lost for good.
    indexes = [build.sa_index(index) for index in table.indexes]
    definition = sa.Table(table.name, sa.MetaData(), *build.table_items(table), *indexes,
                          schema=table.schema, comment=table.comment, **_kw(table))  # fmt: skip
    return DropTable(table.name, table.schema, table=definition)


def _kw(table: Table) -> dict[str, Any]:
    """The Table keywords of ``op.create_table``, as Alembic renders them."""
    return {"sqlite_autoincrement": True} if table.sqlite_autoincrement else {}


# -- changes to an existing table ------------------------------------------------------


def _alter_table(changes: list[Change], dialect: str | None) -> list[Op]:
    drops: list[Op] = []
    column_drops: list[Op] = []
    renames: list[Op] = []
    adds: list[Op] = []
    alters: dict[str, dict[str, tuple[Any, Any]]] = defaultdict(dict)
    current: dict[str, Column] = {}
    creates: list[Op] = []
    for change in changes:
        table, schema = change.table or "", change.schema
        code = change.code
        if code == "column.added":
            adds.append(AddColumn(table, build.sa_column(change.new), schema))
        elif code == "column.removed":
            column_drops.append(
                DropColumn(table, change.old.name, schema, column=build.sa_column(change.old))
            )
        elif code == "column.renamed":
            renames.append(AlterColumn(table, change.old.name, schema=schema,
                                       new_column_name=change.new.name))  # fmt: skip
        elif code.startswith("column."):
            alters[change.name or ""][code] = (change.old, change.new)
            if change.column is not None:
                current[change.name or ""] = change.column
        elif code == "index.added":
            creates.append(_create_index(table, schema, change.new))
        elif code == "index.removed":
            drops.append(_drop_index(table, schema, change.old))
        elif code in ("unique.removed", "check.removed"):
            drops.append(_drop_constraint(table, schema, change.old, code.split(".")[0]))
        elif code in ("unique.added", "check.added"):
            creates.append(_constraint_op(table, schema, change.new))
        elif code == "pk.columns":
            drops.extend(_primary_key_drop(table, schema, change.old))
            if change.new is not None:
                new: PrimaryKey = change.new
                # Named as the database will name it, so the downgrade can drop it.
                creates.append(
                    CreatePrimaryKey(_pk_name(table, new), table, list(new.columns), schema)
                )
        elif code == "table.comment":
            creates.append(_table_comment(table, schema, change.old, change.new))
        elif code == "table.autoincrement":
            # Only a rebuild changes it; the rebuild keeps the table's counter.
            kwargs = {"sqlite_autoincrement": bool(change.new)}
            creates.append(
                BatchAlterTable(
                    table, schema, "always", options=RebuildOptions(table_kwargs=kwargs)
                )
            )
    first = changes[0]
    alter_ops = [
        _alter_column(first.table or "", first.schema, name, parts, current.get(name), dialect)
        for name, parts in alters.items()
    ]
    return drops + column_drops + renames + adds + alter_ops + creates


def _alter_column(
    table: str,
    schema: str | None,
    name: str,
    parts: dict[str, tuple[Any, Any]],
    column: Column | None,
    dialect: str | None = None,
) -> AlterColumn:
    # Every existing_* is stated, as a careful person writes it: MariaDB must
    # restate the whole column (also with --sql), and downgrade reverses it.
    op = AlterColumn(table, name, schema=schema)
    if column is not None:
        op.existing_type = build.sa_type(column.type)
        op.existing_nullable = column.nullable
        op.existing_server_default = _default(column.server_default)
        if column.comment is not None:
            op.existing_comment = column.comment
    if "column.type" in parts:
        old_type, new_type = parts["column.type"]
        op.type_ = build.sa_type(new_type)
        # Also when only the way back needs it: the downgrade reverses this op.
        if dialect == "postgresql" and (
            _needs_using(old_type, new_type) or _needs_using(new_type, old_type)
        ):
            op.postgresql_using = f"{_pg_quote(name)}::{new_type.sql}"
    if "column.nullable" in parts:
        op.existing_nullable, op.nullable = parts["column.nullable"]
    if "column.default" in parts:
        old, new = parts["column.default"]
        op.existing_server_default = _default(old)
        op.server_default = _default(new)
    if "column.comment" in parts:
        op.existing_comment, op.comment = parts["column.comment"]
    return op


# Families PostgreSQL converts between by itself (implicit or assignment casts);
# into any other family ALTER ... TYPE fails without USING.
_CONVERTIBLE = (
    frozenset({"integer", "smallint", "bigint", "numeric", "float"}),
    frozenset({"date", "datetime"}),
)
_TEXTUAL = frozenset({"string", "text"})  # everything converts to text by assignment


def _needs_using(old: ColumnType, new: ColumnType) -> bool:
    if old.family == new.family or new.family in _TEXTUAL:
        return False
    return not any(old.family in group and new.family in group for group in _CONVERTIBLE)


def _pg_quote(name: str) -> str:
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return str(dialect.identifier_preparer.quote(name))


def _default(text: str | None) -> Any:
    import sqlalchemy as sa

    return None if text is None else sa.text(text)


def _create_index(table: str, schema: str | None, index: Index) -> CreateIndex:
    return CreateIndex(index.name, table, build.index_elements(index), schema, index.unique,
                       kw=build.dialect_options(index))  # fmt: skip


def _drop_index(table: str, schema: str | None, index: Index) -> DropIndex:
    return DropIndex(index.name, table, schema, definition=_create_index(table, schema, index))


def _constraint_op(
    table: str, schema: str | None, item: UniqueConstraint | CheckConstraint | ForeignKey
) -> CreateConstraint:
    if isinstance(item, UniqueConstraint):
        return CreateUnique(item.name, table, list(item.columns), schema)
    if isinstance(item, CheckConstraint):
        import sqlalchemy as sa

        return CreateCheck(item.name, table, sa.text(item.sqltext), schema)
    return _create_fk(table, schema, item)


def _create_fk(table: str, schema: str | None, fk: ForeignKey) -> CreateForeignKey:
    return CreateForeignKey(
        fk.name, table, fk.ref_table, list(fk.columns), list(fk.ref_columns),
        onupdate=fk.onupdate, ondelete=fk.ondelete, deferrable=fk.deferrable,
        initially=fk.initially, schema=schema, referent_schema=fk.ref_schema,
    )  # fmt: skip


def _drop_constraint(
    table: str,
    schema: str | None,
    item: UniqueConstraint | CheckConstraint | ForeignKey,
    kind: str,
) -> DropConstraint:
    if item.name is None:
        from distill.errors import OperationError

        raise OperationError(
            f"the {kind} constraint on {table} ({', '.join(getattr(item, 'columns', ()))}) "
            "has no name, so no revision can drop it; name it in the models "
            "(or set a naming convention on the MetaData) and write the drop by hand once"
        )
    return DropConstraint(item.name, table, kind, schema,
                          definition=_constraint_op(table, schema, item))  # fmt: skip


def _primary_key_drop(table: str, schema: str | None, key: PrimaryKey | None) -> list[Op]:
    if key is None:
        return []
    definition = CreatePrimaryKey(key.name, table, list(key.columns), schema)
    return [DropConstraint(_pk_name(table, key), table, "primary", schema, definition=definition)]


def _pk_name(table: str, key: PrimaryKey) -> str:
    # PostgreSQL names an unnamed primary key <table>_pkey; MariaDB and SQLite
    # drop the primary key without its name.
    return key.name or f"{table}_pkey"


def _table_comment(table: str, schema: str | None, old: str | None, new: str | None) -> Op:
    if new is None:
        return DropTableComment(table, existing_comment=old, schema=schema)
    return CreateTableComment(table, new, existing_comment=old, schema=schema)
