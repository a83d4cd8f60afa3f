"""Ops into the bodies of ``upgrade()`` and ``downgrade()``, as a person would write them.

Ops on one table stay together, separated from the next table by a blank
line; long calls are laid out one argument per line; only the imports the
calls use are added.  A column dropped and another of the same type added to
the same table look like a rename: the data-safe choice is left visible as a
comment with the one line that would rename instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from distill.autogen.layout import layout
from distill.ops.base import Op
from distill.ops.column import AddColumn, DropColumn
from distill.ops.table import CreateTable, DropTable

# Lines every revision template already has.
_TEMPLATE_IMPORTS = {"import sqlalchemy as sa", "from distill import op"}


@dataclass(frozen=True)
class Bodies:
    imports: str  # extra import lines, newline-separated ("" when none)
    upgrades: str  # the indented body of upgrade()
    downgrades: str


def render_bodies(upgrade: Sequence[Op], downgrade: Sequence[Op]) -> Bodies:
    imports: set[str] = set()
    up = _body(upgrade, imports, hints=True)
    down = _body(downgrade, imports, hints=False)
    extra = sorted(imports - _TEMPLATE_IMPORTS)
    return Bodies("\n".join(extra), up, down)


def _body(ops: Sequence[Op], imports: set[str], *, hints: bool) -> str:
    if not ops:
        return "    pass"
    hint_for = _rename_hints(ops) if hints else {}
    lines: list[str] = []
    previous_table: object = None
    for op in ops:
        table = getattr(op, "table_name", None)
        if lines and table != previous_table:
            lines.append("")
        previous_table = table
        lines += hint_for.get(id(op), [])
        lines.append(layout(op.render(imports)))
    return "\n".join(lines)


def _rename_hints(ops: Sequence[Op]) -> dict[int, list[str]]:
    """Comment lines to put before a drop that looks like half of a rename."""
    dropped = [op for op in ops if isinstance(op, DropColumn) and op.column is not None]
    added = [op for op in ops if isinstance(op, AddColumn)]
    hints: dict[int, list[str]] = {}
    for drop in dropped:
        assert drop.column is not None
        twins = [
            add
            for add in added
            if add.table_name == drop.table_name
            and add.schema == drop.schema
            and repr(add.column.type) == repr(drop.column.type)
        ]
        if (
            len(twins) != 1
            or sum(
                1 for d in dropped if d.table_name == drop.table_name and d.schema == drop.schema
            )
            != 1
        ):
            continue  # only an unambiguous one-for-one swap reads as a rename
        new = twins[0].column.name
        table = drop.table_name
        hints[id(drop)] = [
            f"    # {table}.{drop.column_name} -> {table}.{new} looks like a rename. Dropping "
            "and adding loses the",
            "    # column's data; to keep it, replace the drop and the add with:",
            f'    #     op.alter_column("{table}", "{drop.column_name}", new_column_name="{new}")',
            f"    # (or run: distill revision --autogenerate --rename "
            f"{table}.{drop.column_name}:{new})",
        ]
    hints.update(_table_rename_hints(ops))
    return hints


def _table_rename_hints(ops: Sequence[Op]) -> dict[int, list[str]]:
    """Before a new table whose columns are exactly those of a dropped one."""
    import sqlalchemy as sa

    created = [op for op in ops if isinstance(op, CreateTable)]
    hints: dict[int, list[str]] = {}
    for drop in (op for op in ops if isinstance(op, DropTable) and op.table is not None):
        assert drop.table is not None
        names = [c.name for c in drop.table.columns]
        twins = [
            create
            for create in created
            if [i.name for i in create.items if isinstance(i, sa.Column)] == names
        ]
        if len(twins) != 1:
            continue
        old, new = drop.table_name, twins[0].table_name
        hints[id(twins[0])] = [
            f"    # table {old} -> {new} looks like a rename. Creating and dropping loses "
            "its rows;",
            "    # to keep them, replace the create_table and the drop_table with:",
            f'    #     op.rename_table("{old}", "{new}")',
            f"    # (or run: distill revision --autogenerate --rename {old}:{new})",
        ]
    return hints
