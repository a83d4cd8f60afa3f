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
from distill.autogen.renames import PossibleRename
from distill.ops.base import Op
from distill.ops.column import DropColumn
from distill.ops.table import CreateTable

# Lines every revision template already has.
_TEMPLATE_IMPORTS = {"import sqlalchemy as sa", "from distill import op"}


@dataclass(frozen=True)
class Bodies:
    imports: str  # extra import lines, newline-separated ("" when none)
    upgrades: str  # the indented body of upgrade()
    downgrades: str


def render_bodies(
    upgrade: Sequence[Op], downgrade: Sequence[Op], renames: Sequence[PossibleRename] = ()
) -> Bodies:
    """The two bodies; ``renames`` (from ``possible_renames``) get their comment lines."""
    imports: set[str] = set()
    up = _body(upgrade, imports, _hints(upgrade, renames))
    down = _body(downgrade, imports, {})
    extra = sorted(imports - _TEMPLATE_IMPORTS)
    return Bodies("\n".join(extra), up, down)


def _body(ops: Sequence[Op], imports: set[str], hint_for: dict[int, list[str]]) -> str:
    if not ops:
        return "    pass"
    lines: list[str] = []
    previous_table: object = None
    for op in ops:
        table = getattr(op, "table_name", None)
        if lines and table != previous_table:
            lines.append("")
        previous_table = table
        lines += hint_for.get(id(op), [])
        lines.append(_laid_out(op, imports))
    return "\n".join(lines)


def _laid_out(op: Op, imports: set[str]) -> str:
    rendered = op.render(imports)
    if rendered.startswith("with "):  # a with-block: its calls are laid out one level in
        head, *calls = rendered.split("\n")
        return "\n".join(["    " + head, *(layout(call.strip(), indent=8) for call in calls)])
    return layout(rendered)


def _hints(ops: Sequence[Op], renames: Sequence[PossibleRename]) -> dict[int, list[str]]:
    """Comment lines keyed by the op they go before: a column's drop, a table's create."""
    hints: dict[int, list[str]] = {}
    for rename in renames:
        target: Op | None
        if rename.column:
            target = next((op for op in ops if isinstance(op, DropColumn)
                           and op.table_name == rename.table
                           and op.column_name == rename.old), None)  # fmt: skip
            lines = [
                f"    # {rename.what} looks like a rename. Dropping and adding loses the",
                "    # column's data; to keep it, replace the drop and the add with:",
                f'    #     op.alter_column("{rename.table}", "{rename.old}", '
                f'new_column_name="{rename.new}")',
            ]
        else:
            target = next((op for op in ops if isinstance(op, CreateTable)
                           and op.table_name == rename.new), None)  # fmt: skip
            lines = [
                f"    # table {rename.what} looks like a rename. Creating and dropping loses "
                "its rows;",
                "    # to keep them, replace the create_table and the drop_table with:",
                f'    #     op.rename_table("{rename.old}", "{rename.new}")',
            ]
        if target is not None:
            lines.append(
                f"    # (or run: distill revision --autogenerate --rename {rename.argument})"
            )
            hints[id(target)] = lines
    return hints
