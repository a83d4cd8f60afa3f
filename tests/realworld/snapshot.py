"""What a database holds, as plain JSON data both tools' runs can be compared on.

Runs inside the driver processes (see driver.py), right after each step, so the
schema is read at every revision of the walk and not only at the end.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

VERSION_TABLE = "alembic_version"


def _strip_parens(text: str) -> str:
    """``((0))`` -> ``0``: drop parentheses that enclose the whole text."""
    while text.startswith("(") and text.endswith(")"):
        depth = 0
        for i, char in enumerate(text):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0 and i < len(text) - 1:
                return text
        text = text[1:-1].strip()
    return text


def _text(value: object) -> str | None:
    return None if value is None else _strip_parens(" ".join(str(value).split()))


def _sorted(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=repr)


def describe_table(insp: sa.Inspector, dialect: sa.Dialect, name: str) -> dict[str, Any]:
    """One table as the comparisons read it: columns in order, keys, indexes, checks."""
    columns = insp.get_columns(name)
    pk = insp.get_pk_constraint(name)
    return {
        "column order": [c["name"] for c in columns],
        **{
            f"column {c['name']}": {
                "type": str(c["type"].compile(dialect=dialect)),
                "nullable": c["nullable"],
                "default": _text(c.get("default")),
            }
            for c in columns
        },
        "primary key": {"name": pk.get("name"), "columns": pk["constrained_columns"]},
        "foreign keys": _sorted(
            [
                {
                    "name": fk["name"],
                    "columns": fk["constrained_columns"],
                    "refers to": f"{fk['referred_table']}({', '.join(fk['referred_columns'])})",
                    "options": dict(sorted(fk.get("options", {}).items())),
                }
                for fk in insp.get_foreign_keys(name)
            ]
        ),
        "indexes": _sorted(
            [
                {"name": ix["name"], "columns": ix["column_names"], "unique": ix["unique"]}
                for ix in insp.get_indexes(name)
            ]
        ),
        "unique constraints": _sorted(
            [
                {"name": uq["name"], "columns": uq["column_names"]}
                for uq in insp.get_unique_constraints(name)
            ]
        ),
        "check constraints": _sorted(
            [
                {"name": ck["name"], "sql": _text(ck["sqltext"])}
                for ck in insp.get_check_constraints(name)
            ]
        ),
    }


def snapshot(url: str) -> dict[str, Any]:
    """Tables (with every aspect above), PostgreSQL enums and the version rows."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            insp = sa.inspect(conn)
            tables = {
                name: describe_table(insp, conn.dialect, name)
                for name in sorted(insp.get_table_names())
                if name != VERSION_TABLE
            }
            enums = (
                {e["name"]: list(e["labels"]) for e in insp.get_enums()}  # type: ignore[attr-defined]
                if conn.dialect.name == "postgresql"
                else {}
            )
            versions = (
                sorted(conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())
                if insp.has_table(VERSION_TABLE)
                else None
            )
    finally:
        engine.dispose()
    return {"tables": tables, "enums": enums, "versions": versions}


def differences(alembic: dict[str, Any], distill: dict[str, Any]) -> list[str]:
    """One readable line per way two snapshots differ."""
    lines = []
    a_tables, d_tables = alembic["tables"], distill["tables"]
    only_a, only_d = sorted(set(a_tables) - set(d_tables)), sorted(set(d_tables) - set(a_tables))
    if only_a or only_d:
        lines.append(f"tables only in Alembic's database: {only_a}; only in Distill's: {only_d}")
    for name in sorted(set(a_tables) & set(d_tables)):
        a, d = a_tables[name], d_tables[name]
        for aspect in sorted(set(a) | set(d)):
            if a.get(aspect) != d.get(aspect):
                lines.append(
                    f"{name}: {aspect}: Alembic {a.get(aspect, 'missing')!r} "
                    f"!= Distill {d.get(aspect, 'missing')!r}"
                )
    if alembic["enums"] != distill["enums"]:
        lines.append(f"enums: Alembic {alembic['enums']} != Distill {distill['enums']}")
    if alembic["versions"] != distill["versions"]:
        lines.append(
            f"alembic_version rows: Alembic {alembic['versions']} != Distill {distill['versions']}"
        )
    return lines
