"""Table and column names complete inside ``op.*`` string arguments (issue 13, item 10)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from distill.lsp.completion import suggestions
from distill.schema.from_metadata import schema_from_metadata
from distill.schema.model import Schema
from tests.lsp.lsp_raw import raw_server
from tests.projects import copy_shop


def _schema() -> Schema:
    metadata = sa.MetaData()
    sa.Table("customers", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("name", sa.String(100), nullable=False))  # fmt: skip
    sa.Table("orders", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("status", sa.String(20)))  # fmt: skip
    return schema_from_metadata(metadata, sa.create_engine("sqlite://").dialect)


def _labels(text: str, schema: Schema) -> list[str]:
    line = text.count("\n")
    return [s.label for s in suggestions(text, line, len(text.splitlines()[-1]), schema)]


def test_the_argument_decides_tables_or_which_columns() -> None:
    schema = _schema()
    assert _labels('    op.add_column("', schema) == ["customers", "orders"]
    assert _labels('    op.drop_column("orders", "st', schema) == ["id", "status"]
    assert _labels("    op.alter_column('customers', '", schema) == ["id", "name"]
    assert _labels('    op.create_index("ix_x", "', schema) == ["customers", "orders"]
    assert _labels('    op.create_index("', schema) == []  # an index name: nothing to offer
    assert _labels('    op.execute("', schema) == []
    assert _labels("    op.add_column(", schema) == []  # not in a string
    assert _labels('    op.drop_column("nowhere", "', schema) == []
    batch = 'with op.batch_alter_table("orders") as batch_op:\n    batch_op.alter_column("'
    assert _labels(batch, schema) == ["id", "status"]


def test_the_details_say_what_each_is() -> None:
    [name] = [s for s in suggestions('op.drop_column("customers", "n', 0, 31, _schema())
              if s.label == "name"]  # fmt: skip
    assert name.detail == "customers.name VARCHAR(100) NOT NULL"


def test_the_server_completes_from_the_replayed_heads(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path / "shop")
    revision = next((shop / "migrations" / "versions").glob("3c4d*.py"))
    text = revision.read_text() + '\n\ndef _later():\n    op.drop_column("customers", "'
    line = text.count("\n")
    with raw_server(shop) as server:
        server.initialize(trusted=True)
        server.open_document(revision, text)
        position = {"line": line, "character": len(text.splitlines()[-1])}

        def labels_now() -> list[str]:
            answer = server.request("textDocument/completion", {
                "textDocument": {"uri": revision.as_uri()}, "position": position})  # fmt: skip
            return [item["label"] for item in (answer.get("result") or {}).get("items", [])]

        labels = server.until(labels_now)
    assert labels == ["id", "name", "email"]


def test_definition_of_a_named_table_or_column_is_its_model(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path / "shop")
    models = (shop / "shop" / "models.py").read_text().splitlines()
    revision = next((shop / "migrations" / "versions").glob("3c4d*.py"))
    text = revision.read_text() + '\n\ndef _later():\n    op.drop_column("customers", "email")\n'
    lines = text.splitlines()
    call = next(i for i, line in enumerate(lines) if 'op.add_column("customers"' in line)
    on_table = lines[call].index('"customers"') + 3
    later = len(lines) - 1
    with raw_server(shop) as server:
        server.initialize(trusted=True)
        server.open_document(revision, text)
        found = server.until(lambda: server.request("textDocument/definition", {
            "textDocument": {"uri": revision.as_uri()},
            "position": {"line": call, "character": on_table},
        }).get("result"))  # fmt: skip
        on_column = server.request("textDocument/definition", {
            "textDocument": {"uri": revision.as_uri()},
            "position": {"line": later, "character": lines[later].index('"email"') + 2},
        }).get("result")  # fmt: skip
    assert found is not None and found["uri"].endswith("shop/models.py")
    assert models[found["range"]["start"]["line"]].startswith("class Customer(")
    assert on_column is not None
    assert models[on_column["range"]["start"]["line"]].lstrip().startswith("email:")


def test_after_op_dot_every_operation_with_its_signature_and_docstring(tmp_path: Path) -> None:
    """For editors whose Python language server does not read Distill's typed op (or none)."""
    shop = copy_shop(tmp_path / "shop")
    revision = next((shop / "migrations" / "versions").glob("3c4d*.py"))
    text = revision.read_text() + "\n\ndef _later():\n    op.add"
    position = {"line": text.count("\n"), "character": len(text.splitlines()[-1])}
    request = {"textDocument": {"uri": revision.as_uri()}, "position": position}
    with raw_server(shop) as server:
        server.initialize(trusted=True)
        server.open_document(revision, text)
        items = server.until(lambda: server.request("textDocument/completion", request)
                             .get("result", {}).get("items"))  # fmt: skip
    assert [item["label"] for item in items] == ["add_column", "add_enum_value"]
    add_column = items[0]
    assert add_column["detail"].startswith("op.add_column(table_name: str, column: sa.Column")
    assert add_column["documentation"]["kind"] == "markdown"
    assert add_column["documentation"]["value"].startswith("Add a column: ")
    with raw_server(shop) as server:
        server.initialize(trusted=True, opCompletion=False)  # VS Code with Pylance
        server.open_document(revision, text)
        server.request("distill/status", {})
        answer = server.request("textDocument/completion", request)
    assert not (answer.get("result") or {}).get("items")


def test_batch_op_dot_offers_the_batch_operations() -> None:
    from distill.lsp.completion import operation_suggestions

    labels = [s.label for s in operation_suggestions("    batch_op.", 0, 13)]
    assert "alter_column" in labels and "create_unique_constraint" in labels
    assert "batch_alter_table" not in labels and "create_table" not in labels
    assert operation_suggestions("    x = sop.", 0, 12) == []
