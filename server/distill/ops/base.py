"""The shape every operation shares.

An op is data: what a revision script asked for, with nothing bound to a
database.  The same object can run (``execute``), turn back into script source
(``render``), produce its inverse (``reverse``) and apply itself to a symbolic
schema (``apply``) — so ops hold plain values and SQLAlchemy schema items,
never a connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from distill.errors import OperationError

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

    from distill.ops.context import OpContext
    from distill.ops.rebuild import TableModel
    from distill.schema.model import Schema


@dataclass(eq=False)
class Op:
    #: The ``op.<name>`` this op renders as.
    op_name: ClassVar[str] = ""

    def execute(self, ctx: OpContext) -> Any:
        raise NotImplementedError

    def reverse(self) -> Op:
        raise OperationError(f"{self.describe()} cannot be reversed; write its downgrade by hand")

    def render(self, imports: set[str]) -> str:
        raise NotImplementedError

    def apply(self, schema: Schema, dialect: Dialect | None = None) -> Schema:
        """``schema`` as it is after this op (symbolic replay; nothing is executed).

        Raises ``distill.ops.replay_schema.InexactReplay`` when the effect
        cannot be known without a database.  ``dialect`` defaults to a plain
        one for ``schema.dialect``.
        """
        # Imported here: replay pulls in the schema conversion, which running
        # a migration never needs.
        from distill.ops.replay_apply import apply_op

        return apply_op(self, schema, dialect)

    def describe(self) -> str:
        """A short human name for messages, e.g. ``op.drop_column('users', 'email')``."""
        return f"op.{self.op_name}()"

    def __eq__(self, other: object) -> bool:
        # Ops hold SQLAlchemy objects whose == builds SQL expressions, so two
        # ops are equal when they would be written the same way in a script.
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Op)
        return self.render(set()) == other.render(set())

    __hash__ = None  # type: ignore[assignment]


class TableChange(Op):
    """An op on one existing table, which a SQLite rebuild can carry out."""

    table_name: str
    schema: str | None

    def needs_rebuild(self, ctx: OpContext) -> bool:
        """True when SQLite has no ALTER for this change and the table is rebuilt."""
        return False

    def change_model(self, model: TableModel) -> None:
        """Apply this change to the description of a table being rebuilt."""
        raise OperationError(f"{self.describe()} cannot be done by a SQLite table rebuild")

    def execute_native(self, ctx: OpContext) -> Any:
        raise NotImplementedError

    def execute(self, ctx: OpContext) -> Any:
        if ctx.dialect_name == "sqlite" and self.needs_rebuild(ctx):
            from distill.ops.rebuild import rebuild_table

            rebuild_table(ctx, self.table_name, self.schema, [self])
            return None
        return self.execute_native(ctx)
