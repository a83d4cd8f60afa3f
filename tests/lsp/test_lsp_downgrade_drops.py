"""What a downgrade drops, read from the revision's source, for the confirmation."""

from __future__ import annotations

from pathlib import Path

import pytest

from distill.lsp.downgrade_drops import RUNS_SQL, downgrade_drops
from tests.lsp.lsp_raw import raw_server
from tests.projects import copy_shop

SOURCE = """
def upgrade():
    op.drop_table("never_read")


def downgrade():
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_column("note")
    op.drop_column("customers", "email")
    op.drop_index("ix_customers_email", "customers")
    op.drop_table("products")
    op.execute("DELETE FROM audit")
"""


def test_the_tables_and_columns_a_downgrade_drops() -> None:
    assert downgrade_drops(SOURCE) == (
        "column orders.note", "column customers.email", "table products", RUNS_SQL
    )  # fmt: skip
    assert downgrade_drops("def downgrade():\n    pass\n") == ()
    assert downgrade_drops("def downgrade(:\n") == ()  # does not parse: nothing claimed


def test_the_revisions_request_lists_them_for_applied_revisions(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path / "shop")
    with raw_server(shop) as server:
        server.initialize(trusted=True)
        server.request("workspace/executeCommand",
                       {"command": "distill.upgrade", "arguments": ["2b3c4d5e6f70"]})  # fmt: skip
        revisions = server.request("distill/revisions", {})["result"]["revisions"]
    drops = {r["id"]: r["drops"] for r in revisions}
    assert drops == {
        "3c4d5e6f7081": None,  # not applied: a downgrade does not run it
        "2b3c4d5e6f70": ["table orders"],
        "1a2b3c4d5e6f": ["table customers"],
    }


@pytest.mark.parametrize("button", ["Downgrade", "Cancel", None])
def test_an_editor_without_its_own_guard_is_asked_first(tmp_path: Path, button: str | None) -> None:
    """Neovim, Helix: the quick fix 'Downgrade one revision' asks, naming what goes."""
    shop = copy_shop(tmp_path / "shop")
    with raw_server(shop) as server:
        server.initialize(trusted=True)  # no clientConfirms: the server asks
        server.request("workspace/executeCommand",
                       {"command": "distill.upgrade", "arguments": ["head"]})  # fmt: skip
        reply = {"result": {"title": button} if button else None}
        answer, asked = server.request_answering(
            "workspace/executeCommand",
            {"command": "distill.downgrade", "arguments": ["-1"]},
            {"window/showMessageRequest": reply},
        )
    done = answer["result"]
    [question] = [m["params"] for m in asked]
    assert question["message"] == (
        "Distill: Downgrade the database to -1?\n"
        "↓ 3c4d5e6 add customer email — drops column customers.email"
    )
    assert [a["title"] for a in question["actions"]] == ["Downgrade", "Cancel"]
    if button == "Downgrade":
        assert done["after"] == ["2b3c4d5e6f70"]
    else:
        assert done["after"] == done["before"] == ["3c4d5e6f7081"] and done["cancelled"]
