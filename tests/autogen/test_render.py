"""Revision bodies: valid Python, one argument per line when long, rename hints."""

from __future__ import annotations

import ast

from distill.autogen.compare import compare
from distill.autogen.layout import layout
from distill.autogen.plan import downgrade_ops, upgrade_ops
from distill.autogen.renames import possible_renames
from distill.autogen.render import render_bodies
from distill.schema.model import Column, Schema
from tests.autogen.test_plan import AFTER, BEFORE, VC20, table


def test_bodies_are_python_with_short_lines_and_grouped_tables() -> None:
    up = upgrade_ops(compare(Schema("postgresql", BEFORE), Schema("postgresql", AFTER)))
    bodies = render_bodies(up, downgrade_ops(up))
    source = f"def upgrade():\n{bodies.upgrades}\n\ndef downgrade():\n{bodies.downgrades}\n"
    ast.parse(source)
    assert max(len(line) for line in source.splitlines()) < 100
    assert bodies.imports == ""  # only sa and op are used
    # each create_table states its primary key and foreign keys once, at table level
    assert "primary_key=True" not in bodies.upgrades
    assert bodies.upgrades.count('name="fk_team"') == 1
    # ops on one table are together: the users ops form one block
    blocks = bodies.upgrades.split("\n\n")
    users_blocks = [b for b in blocks if '"users"' in b and "op.create_foreign_key" not in b]
    assert len(users_blocks) == 1


def test_a_drop_and_add_of_the_same_type_shows_the_rename_line() -> None:
    now = Schema("sqlite", (table("users", Column("name", VC20)),))
    wanted = Schema("sqlite", (table("users", Column("full_name", VC20)),))
    changes = compare(now, wanted)
    up = upgrade_ops(changes)
    text = render_bodies(up, downgrade_ops(up), possible_renames(changes)).upgrades
    assert '#     op.alter_column("users", "name", new_column_name="full_name")' in text
    assert text.index("# users.name -> users.full_name looks like a rename") < text.index(
        'op.drop_column("users", "name")'
    )


def test_layout_matches_the_formatter_style() -> None:
    short = 'op.add_column("t", sa.Column("x", sa.Integer()))'
    assert layout(short) == "    " + short
    long = "op.f(" + ", ".join(f'"argument_{i}"' for i in range(12)) + ", key=[1, 2])"
    lines = layout(long).splitlines()
    assert lines[0] == "    op.f(" and lines[-1] == "    )"
    assert lines[1] == '        "argument_0",' and lines[-2] == "        key=[1, 2],"
