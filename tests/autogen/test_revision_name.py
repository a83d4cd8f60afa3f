"""Revisions named after their changes (issue 13, item 9)."""

from __future__ import annotations

from distill.autogen.compare import Change
from distill.autogen.revision_name import revision_name
from distill.schema.model import Index


def _index(table: str, *columns: str) -> Change:
    made = Index(name=f"ix_{table}_{'_'.join(columns)}", columns=columns, unique=False)
    return Change("index.added", table, name=made.name, new=made)


def test_one_change_and_a_few() -> None:
    assert revision_name([Change("column.added", "customers", name="phone")]) == (
        "add customers.phone"
    )
    assert revision_name([
        Change("table.added", "products"),
        Change("column.added", "customers", name="phone"),
        _index("customers", "name"),
    ]) == "create products; add customers.phone; index customers.name"  # fmt: skip


def test_changes_of_one_kind_share_their_verb_and_repeats_count_once() -> None:
    assert revision_name([
        Change("column.type", "orders", name="status"),
        Change("column.nullable", "orders", name="status"),
        Change("column.added", "orders", name="note"),
        Change("column.added", "orders", name="total"),
    ]) == "alter orders.status; add orders.note, orders.total"  # fmt: skip


def test_many_changes_give_the_first_and_a_count() -> None:
    tables = [Change("table.added", name) for name in ("products", "orders", "carts")]
    columns = [Change("column.added", "customers", name=f"c{n}") for n in range(5)]
    assert revision_name(tables + columns) == "create products, orders and 6 more changes"


def test_no_changes_and_the_other_kinds() -> None:
    assert revision_name([]) == "empty"
    assert revision_name([Change("table.removed", "legacy")]) == "drop legacy"
    assert revision_name([Change("enum.values", None, name="status")]) == "alter enum status"
    assert revision_name([Change("column.removed", "t", schema="app", name="c")]) == (
        "remove app.t.c"
    )
