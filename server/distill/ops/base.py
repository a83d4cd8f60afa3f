"""The shape every operation shares.

An op is data: what a revision script asked for, with nothing bound to a
database.  The same object can run (``execute``), turn back into script source
(``render``) and produce its inverse (``reverse``); ``distill.replay`` applies
it to a symbolic schema — so ops hold plain values and SQLAlchemy schema items,
never a connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from distill.errors import OperationError

if TYPE_CHECKING:
    from distill.ddl.context import OpContext
    from distill.ops.table_model import TableModel


@dataclass(eq=False)
class Op:
    """One operation of a revision script; the contract of its four verbs:

    - ``execute(ctx)``: do it through ``ctx`` (a connection, or the ``--sql``
      writer): every statement goes through ``ctx.execute``, nothing else
      touches the database, and an op that must read the database asks
      ``ctx.readable`` (which answers offline too, or says what is missing).
    - ``render(imports)``: the ``op.<name>(...)`` source that builds an equal
      op, adding the import lines it needs to ``imports``; two ops are equal
      exactly when they render the same.
    - ``reverse()``: the op that undoes this one, built from what it holds;
      ``reversible`` says whether the kind of op can be undone at all, and an
      op of a reversible kind that lacks what its inverse needs (a dropped
      column's definition) raises ``OperationError`` saying which argument to pass.
    - applying it to a schema is ``distill.replay.apply.apply_op``: the schema
      after it, or ``InexactReplay`` when only a database could tell.
    """

    #: The ``op.<name>`` this op renders as.
    op_name: ClassVar[str] = ""
    #: Whether this kind of op has an inverse (raw SQL and inserted rows have none).
    reversible: ClassVar[bool] = True

    def execute(self, ctx: OpContext) -> Any:
        raise NotImplementedError

    def reverse(self) -> Op:
        """The op that undoes this one (see the class's contract)."""
        raise OperationError(f"{self.describe()} cannot be reversed; write its downgrade by hand")

    def render(self, imports: set[str]) -> str:
        raise NotImplementedError

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
