"""What a revision's ``downgrade()`` drops, read from its source (nothing is run).

The confirmation before a downgrade lists, per revision, the tables and columns
that go with their data: ``op.drop_table("t")``, ``op.drop_column("t", "c")``
and ``batch_op.drop_column("c")`` in ``with op.batch_alter_table("t") as
batch_op:``.  SQL run through ``op.execute`` cannot be read, and says so.
"""

from __future__ import annotations

from distill.lsp.static_ops import OpCall, op_calls

RUNS_SQL = "SQL it runs itself (op.execute), not read here"


def downgrade_drops(source: str) -> tuple[str, ...]:
    """``("table orders", "column customers.email", ...)`` in the order they run."""
    found: list[str] = []
    for call in op_calls(source, "downgrade"):
        dropped = _dropped(call)
        if dropped is not None and dropped not in found:
            found.append(dropped)
    return tuple(found)


def _dropped(call: OpCall) -> str | None:
    if call.in_batch:
        column = call.text(0)
        return f"column {call.table}.{column}" if call.method == "drop_column" and column else None
    if call.method == "drop_table" and call.text(0):
        return f"table {call.text(0)}"
    if call.method == "drop_column" and call.text(0) and call.text(1):
        return f"column {call.text(0)}.{call.text(1)}"
    if call.method == "execute":
        return RUNS_SQL
    return None
