"""Hover on a model's class or column line: the card (issue 13, item 11)."""

from __future__ import annotations

from pathlib import Path

from tests.lsp.lsp_raw import RawServer, raw_server
from tests.projects import copy_shop

PHONE = "    phone: Mapped[str | None] = mapped_column(sa.String(30))\n"
EMAIL = "    email: Mapped[str | None] = mapped_column(sa.String(255), unique=True)\n"


def _hover(server: RawServer, uri: str, line: int, saying: str = "") -> str | None:
    """The card on ``line``, if there is one (and it says ``saying``)."""
    answer = server.request("textDocument/hover", {
        "textDocument": {"uri": uri}, "position": {"line": line, "character": 6}})  # fmt: skip
    result = answer.get("result")
    card = result["contents"]["value"] if result else None
    return card if card is not None and saying in card else None


def test_the_card_of_a_column_a_new_column_and_a_table(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path / "shop")
    path = shop / "shop" / "models.py"
    text = path.read_text().replace(EMAIL, EMAIL + PHONE)
    lines = text.splitlines()
    line_of = {word: next(i for i, line in enumerate(lines) if line.lstrip().startswith(word))
               for word in ("email:", "phone:", "class Customer(")}  # fmt: skip
    with raw_server(shop) as server:
        server.initialize(trusted=True)
        server.open_document(path, text)
        email = server.until(lambda: _hover(server, path.as_uri(), line_of["email:"]))
        # The card reads the last analysis: wait for the one that saw the typed line.
        phone = server.until(
            lambda: _hover(server, path.as_uri(), line_of["phone:"], saying="not in any migration")
        )
        table = _hover(server, path.as_uri(), line_of["class Customer("])
    assert email == "\n".join([
        "**customers.email** — Distill", "",
        "| | type (sqlite) | null | server default |", "|---|---|---|---|",
        "| models | `VARCHAR(255)` | NULL | — |",
        "| migrations (head) | `VARCHAR(255)` | NULL | — |", "",
        "created by `3c4d5e6` add customer email", "",
        "database: at base, 3 revision(s) behind head — it may not have this yet",
    ])  # fmt: skip
    assert phone is not None
    assert "| migrations (head) | not there | | |" in phone
    assert "database: no revision creates it yet" in phone
    assert "- customers.phone is not in any migration" in phone
    assert table is not None and table.startswith("**customers** — Distill")
    assert "models: 4 columns" in table and "migrations (head): 3 columns" in table
    # schema blame, read from the revisions' upgrade(): add_column and a unique constraint
    assert "created by `1a2b3c4` create customers; last changed by `3c4d5e6` add " \
        "customer email" in table  # fmt: skip
    assert "rows:" not in table  # the database file does not exist yet: nothing estimated


def test_the_table_card_has_the_catalogs_row_estimate(dialect_name: str, db_url: str,
                                                      tmp_path: Path) -> None:  # fmt: skip
    import subprocess
    import sys

    import sqlalchemy as sa

    shop = copy_shop(tmp_path / "shop")
    done = subprocess.run([sys.executable, "-m", "distill", "--url", db_url, "upgrade", "head"],
                          cwd=shop, capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO customers (id, name) VALUES (:id, 'c')"),
                     [{"id": i} for i in range(1, 1201)])  # fmt: skip
    with engine.connect() as conn:  # the estimates these servers keep come from ANALYZE
        if dialect_name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        elif dialect_name == "mariadb":
            conn.exec_driver_sql("ANALYZE TABLE customers").all()
    engine.dispose()
    path = shop / "shop" / "models.py"
    line = next(i for i, text in enumerate(path.read_text().splitlines())
                if text.startswith("class Customer("))  # fmt: skip
    with raw_server(shop) as server:
        server.initialize(trusted=True, databaseUrl=db_url)
        server.open_document(path, path.read_text())
        table = server.until(lambda: _hover(server, path.as_uri(), line, saying="rows:"))
    assert table is not None and "database: at head — applied" in table
    assert "rows: about 1,200 (the database's own estimate)" in table
