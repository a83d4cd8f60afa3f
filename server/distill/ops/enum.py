"""PostgreSQL enum types as things of their own: create, drop, add a value, recreate.

Only PostgreSQL keeps an enum as a named type (``CREATE TYPE ... AS ENUM``).
MariaDB's ENUM lives inline in the column and SQLite has no enum at all (a
non-native Enum is a VARCHAR), so on those databases there is no type to
create or change and every op here does nothing: the column ops carry the
values there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from distill.ddl.common import alter_table, literal_string, quote, raw
from distill.ddl.context import OpContext
from distill.errors import OperationError
from distill.ops import render as r
from distill.ops.base import Op


def type_sql(dialect: Dialect, name: str, schema: str | None) -> str:
    return f"{quote(dialect, schema)}.{quote(dialect, name)}" if schema else quote(dialect, name)


def _values_sql(dialect: Dialect, values: Sequence[str]) -> str:
    return ", ".join(literal_string(dialect, v) for v in values)


def _native(ctx: OpContext) -> bool:
    return ctx.dialect_name == "postgresql"


@dataclass(eq=False)
class CreateEnumType(Op):
    op_name = "create_enum_type"
    name: str
    values: Sequence[str]
    schema: str | None = None

    def execute(self, ctx: OpContext) -> None:
        if not _native(ctx):
            return
        d = ctx.dialect
        ctx.execute(
            raw(
                f"CREATE TYPE {type_sql(d, self.name, self.schema)} AS ENUM "
                f"({_values_sql(d, self.values)})"
            )
        )
        # op.create_table checks for an existing type before creating its own;
        # with --sql there is no database to ask, so it asks this set instead.
        ctx.created_enum_types.add((self.schema, self.name))

    def reverse(self) -> Op:
        return DropEnumType(self.name, self.schema, list(self.values))

    def render(self, imports: set[str]) -> str:
        args = [r.literal(self.name), r.literal(list(self.values))]
        return r.call("op.create_enum_type", args, r.schema_kwarg(self.schema))

    def describe(self) -> str:
        return f"op.create_enum_type({self.name!r})"


@dataclass(eq=False)
class DropEnumType(Op):
    op_name = "drop_enum_type"
    name: str
    schema: str | None = None
    values: Sequence[str] | None = None  # kept so the drop can be reversed

    def execute(self, ctx: OpContext) -> None:
        if _native(ctx):
            ctx.execute(raw(f"DROP TYPE {type_sql(ctx.dialect, self.name, self.schema)}"))

    def reverse(self) -> Op:
        if self.values is None:
            raise OperationError(
                f"{self.describe()} cannot be reversed without the type's values; pass values="
            )
        return CreateEnumType(self.name, list(self.values), self.schema)

    def render(self, imports: set[str]) -> str:
        kwargs = r.schema_kwarg(self.schema)
        if self.values is not None:
            kwargs.append(("values", r.literal(list(self.values))))
        return r.call("op.drop_enum_type", [r.literal(self.name)], kwargs)

    def describe(self) -> str:
        return f"op.drop_enum_type({self.name!r})"


@dataclass(eq=False)
class AddEnumValue(Op):
    op_name = "add_enum_value"
    name: str
    value: str
    schema: str | None = None
    before: str | None = None
    after: str | None = None
    if_not_exists: bool = True
    # What undoes this value (and the others added to the type in the same
    # revision): autogenerate knows the old values and the columns using the
    # type, a hand-written op does not.  Not rendered; only reverse() uses it.
    undo: Op | None = field(default=None, repr=False)

    def execute(self, ctx: OpContext) -> None:
        if not _native(ctx):
            return
        # Before PostgreSQL 12 ADD VALUE refused to run inside a transaction
        # block; from 12 on it runs in the revision's transaction, but the new
        # value cannot be used (inserted, cast to) until that transaction
        # commits — data using it belongs in a later revision.
        d = ctx.dialect
        exists = " IF NOT EXISTS" if self.if_not_exists else ""
        where = ""
        if self.before is not None:
            where = f" BEFORE {literal_string(d, self.before)}"
        elif self.after is not None:
            where = f" AFTER {literal_string(d, self.after)}"
        ctx.execute(
            raw(
                f"ALTER TYPE {type_sql(d, self.name, self.schema)} ADD VALUE{exists} "
                f"{literal_string(d, self.value)}{where}"
            )
        )

    def reverse(self) -> Op:
        if self.undo is not None:
            return self.undo
        raise OperationError(
            f"{self.describe()} cannot be reversed: PostgreSQL cannot remove a value from an "
            "enum type; write the downgrade by hand (e.g. op.recreate_enum_type() with the "
            "old values and the columns that use the type)"
        )

    def render(self, imports: set[str]) -> str:
        kwargs = r.schema_kwarg(self.schema)
        if self.before is not None:
            kwargs.append(("before", r.literal(self.before)))
        if self.after is not None:
            kwargs.append(("after", r.literal(self.after)))
        if not self.if_not_exists:
            kwargs.append(("if_not_exists", "False"))
        return r.call("op.add_enum_value", [r.literal(self.name), r.literal(self.value)], kwargs)

    def describe(self) -> str:
        return f"op.add_enum_value({self.name!r}, {self.value!r})"


_COLUMN_DEFAULT = sa.text(
    "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d "
    "JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
    "WHERE d.adrelid = (quote_ident(COALESCE(CAST(:schema AS text), current_schema())) "
    "|| '.' || quote_ident(:table))::regclass AND a.attname = :column"
)


@dataclass(eq=False)
class RecreateEnumType(Op):
    """Give a type a new list of values, values removed or reordered included.

    PostgreSQL can only add values to an enum, so the type is renamed, created
    anew, every column using it converted through text, and the old type
    dropped.  A row holding a value that no longer exists makes the cast fail,
    so no data is lost silently.  A column default using the type is dropped
    before the conversion and set again after it (PostgreSQL cannot convert a
    default's cast itself); online that happens by itself, with ``--sql`` the
    default is unknown and must be handled in the script.
    """

    op_name = "recreate_enum_type"
    name: str
    values: Sequence[str]
    columns: Sequence[tuple[str, str]] = ()  # (table, column) pairs using the type
    schema: str | None = None
    existing_values: Sequence[str] | None = None  # kept so it can be reversed

    def execute(self, ctx: OpContext) -> None:
        if not _native(ctx):
            return
        d = ctx.dialect
        old_name = f"{self.name}_old"
        defaults = {} if ctx.is_offline else self._defaults(ctx)
        ctx.execute(
            raw(f"ALTER TYPE {type_sql(d, self.name, self.schema)} RENAME TO {quote(d, old_name)}")
        )
        new = type_sql(d, self.name, self.schema)
        ctx.execute(raw(f"CREATE TYPE {new} AS ENUM ({_values_sql(d, self.values)})"))
        for table, column in self.columns:
            col = quote(d, column)
            change = f"ALTER COLUMN {col} TYPE {new} USING {col}::text::{new}"
            default = defaults.get((table, column))
            if default is not None:
                # Its text names the type, which by now is the new one.
                change = (
                    f"ALTER COLUMN {col} DROP DEFAULT, {change}, "
                    f"ALTER COLUMN {col} SET DEFAULT {default}"
                )
            ctx.execute(alter_table(d, table, self.schema, change))
        ctx.execute(raw(f"DROP TYPE {type_sql(d, old_name, self.schema)}"))

    def _defaults(self, ctx: OpContext) -> dict[tuple[str, str], str]:
        """The columns' defaults as SQL text, read before the type is renamed."""
        found = {}
        for table, column in self.columns:
            default = ctx.connection.execute(
                _COLUMN_DEFAULT, {"schema": self.schema, "table": table, "column": column}
            ).scalar()
            if default is not None:
                found[(table, column)] = str(default)
        return found

    def reverse(self) -> Op:
        if self.existing_values is None:
            raise OperationError(
                f"{self.describe()} cannot be reversed without the old values; "
                "pass existing_values="
            )
        return RecreateEnumType(
            self.name,
            list(self.existing_values),
            list(self.columns),
            self.schema,
            list(self.values),
        )

    def render(self, imports: set[str]) -> str:
        args = [r.literal(self.name), r.literal(list(self.values))]
        kwargs = [("columns", r.literal([list(c) for c in self.columns]))]
        kwargs += r.schema_kwarg(self.schema)
        if self.existing_values is not None:
            kwargs.append(("existing_values", r.literal(list(self.existing_values))))
        return r.call("op.recreate_enum_type", args, kwargs)

    def describe(self) -> str:
        return f"op.recreate_enum_type({self.name!r})"
