"""What a downgrade drops, read from the revision's source, for the confirmation."""

from __future__ import annotations

from pathlib import Path

from distill.lsp.downgrade_drops import RUNS_SQL, downgrade_drops
from tests.lsp_client import copy_shop
from tests.lsp_raw import raw_server

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
