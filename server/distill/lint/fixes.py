"""Rewriting a revision's source into the safe form a finding names.

Two rewrites, both of one ``op.*`` statement:

- ``concurrent-index``: ``op.create_index(...)`` / ``op.drop_index(...)`` gets
  ``postgresql_concurrently=True`` and moves into
  ``with op.get_context().autocommit_block():``;
- ``autocommit-block``: a statement that must run outside a transaction
  (``CONCURRENTLY``, ``ADD VALUE`` before PostgreSQL 12) moves into that block;
- ``not-valid``: ``op.create_foreign_key(...)`` / ``op.create_check_constraint(...)``
  gets ``postgresql_not_valid=True`` (added without checking the rows), and an
  ``ALTER TABLE ... VALIDATE CONSTRAINT`` follows in an autocommit block: its
  own transaction, which checks the rows without blocking writes;
- ``lock-timeout``: ``op.execute("SET LOCAL lock_timeout = '5s'")`` goes before the
  statement, so it gives up instead of queueing every query behind it;
- ``split-not-null``: ``op.add_column(..., sa.Column(..., nullable=False))`` becomes
  add it nullable, backfill (an ``UPDATE`` whose ``<value>`` the user writes),
  ``CHECK (column IS NOT NULL) NOT VALID``, ``VALIDATE`` it in an autocommit
  block, ``SET NOT NULL`` (which the valid CHECK spares the scan from
  PostgreSQL 12) and drop the CHECK.  It needs the user's value, so only the
  editor offers it: ``distill lint --fix`` applies the ``AUTOMATIC`` ones.

Only a statement that is one call on a line of its own (a plain expression
statement) is rewritten; anything else is left for the user.  The caller
replays before and after and keeps a rewrite only when the schema is the same.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

AUTOMATIC = {"concurrent-index", "autocommit-block", "not-valid", "lock-timeout"}
FIXABLE = AUTOMATIC | {"split-not-null"}
LOCK_TIMEOUT = "op.execute(\"SET LOCAL lock_timeout = '5s'\")"
BLOCK = "with op.get_context().autocommit_block():"


def fixed(text: str, fixes: Iterable[tuple[int, str]]) -> str:
    """``text`` with each (line, fix) applied; lines are 1-based, of the original text."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    statements = {
        node.lineno: node
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
    }
    wanted = set(fixes)
    # A concurrent build takes no ACCESS EXCLUSIVE: no lock timeout is needed for it.
    wanted -= {(line, "lock-timeout") for line, fix in wanted if fix == "concurrent-index"}
    # Bottom up: a rewrite changes the line count below it, never above; on one line, the
    # statement is rewritten before anything is put above it.
    for line, fix in sorted(wanted, key=lambda f: (f[0], f[1] != "lock-timeout"), reverse=True):
        node = statements.get(line)
        if node is None or fix not in FIXABLE or _in_block(tree, node):
            continue
        call = node.value
        assert isinstance(call, ast.Call)
        end = node.end_lineno or node.lineno
        source = lines[node.lineno - 1 : end]
        indent = lines[node.lineno - 1][: node.col_offset]
        if fix == "lock-timeout":
            lines[node.lineno - 1 : node.lineno - 1] = [f"{indent}{LOCK_TIMEOUT}\n"]
            continue
        if fix == "split-not-null":
            split = _split_not_null(source, call, node.lineno, indent)
            if split is not None:
                lines[node.lineno - 1 : end] = split
            continue
        if fix == "not-valid":
            validate = _validate(call)
            if validate is None or _keyword(call, "postgresql_not_valid") is not None:
                continue
            source = _with_keyword(source, call, node.lineno, "postgresql_not_valid=True")
            lines[node.lineno - 1 : end] = [
                *source,
                f"{indent}{BLOCK}\n",
                f"{indent}    {validate}\n",
            ]
            continue
        if fix == "concurrent-index" and _keyword(call, "postgresql_concurrently") is None:
            source = _with_keyword(source, call, node.lineno, "postgresql_concurrently=True")
        newline = "\n" if not source[-1].endswith("\n") else ""
        lines[node.lineno - 1 : end] = [
            f"{indent}{BLOCK}\n",
            *(f"    {piece}" if piece.strip() else piece for piece in source),
        ]
        lines[-1] += newline
    return "".join(lines)


def _split_not_null(source: list[str], call: ast.Call, first: int, indent: str) -> list[str] | None:
    """The steps that add a NOT NULL column to a table with rows without a long lock,
    when the table, the column and ``nullable=False`` are literals in the call."""
    table = _literal(_argument(call, 0, "table_name"))
    column = _argument(call, 1, "column")
    if table is None or _keyword(call, "schema") is not None or not isinstance(column, ast.Call):
        return None
    name = _literal(_argument(column, 0, "name"))
    nullable = _keyword(column, "nullable")
    if name is None or not (isinstance(nullable, ast.Constant) and nullable.value is False):
        return None
    at = nullable.lineno - first
    start = _column(source[at], nullable.col_offset)
    end = _column(source[at], nullable.end_col_offset or nullable.col_offset)
    source = list(source)
    source[at] = f"{source[at][:start]}True{source[at][end:]}"
    if not source[-1].endswith("\n"):
        source[-1] += "\n"
    check = f"ck_{table}_{name}_not_null"[:63]  # PostgreSQL's longest name
    sql_table, sql_name = _sql_name(table), _sql_name(name)
    steps = [
        f"# Fill {table}.{name} in the rows there now: write <value> (in batches on a "
        "large table).",
        _call("execute", f"UPDATE {sql_table} SET {sql_name} = <value> WHERE {sql_name} IS NULL"),
        "op.create_check_constraint(",
        f"    op.f({_python(check)}), {_python(table)}, {_python(f'{sql_name} IS NOT NULL')}, "
        "postgresql_not_valid=True",
        ")",
        BLOCK,
        "    "
        + _call("execute", f"ALTER TABLE {sql_table} VALIDATE CONSTRAINT {_sql_name(check)}"),
        # The block committed the transaction an earlier lock timeout was set in.
        LOCK_TIMEOUT,
        f"op.alter_column({_python(table)}, {_python(name)}, nullable=False)",
        f'op.drop_constraint(op.f({_python(check)}), {_python(table)}, type_="check")',
    ]
    return [*source, *(f"{indent}{step}\n" for step in steps)]


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _argument(call: ast.Call, index: int, name: str) -> ast.expr | None:
    """The call's argument at ``index``, given by position or as ``name=``."""
    return call.args[index] if len(call.args) > index else _keyword(call, name)


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _sql_name(name: str) -> str:
    """``name`` as PostgreSQL reads it: quoted unless it is a plain lower-case identifier."""
    plain = name.isidentifier() and name == name.lower() and name.isascii()
    return name if plain else '"' + name.replace('"', '""') + '"'


def _python(text: str) -> str:
    """A double-quoted Python string literal of ``text``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _call(method: str, sql: str) -> str:
    return f"op.{method}({_python(sql)})"


def _validate(call: ast.Call) -> str | None:
    """``op.execute("ALTER TABLE t VALIDATE CONSTRAINT c")`` for the constraint the call
    adds, when its name and table are literals in the call."""
    keys = {"create_foreign_key": ("constraint_name", "source_table"),
            "create_check_constraint": ("constraint_name", "table_name")}  # fmt: skip
    name = call.func.attr if isinstance(call.func, ast.Attribute) else ""
    if name not in keys:
        return None
    constraint, table = (_literal(_argument(call, i, key)) for i, key in enumerate(keys[name]))
    if constraint is None or table is None:
        return None
    return _call("execute", f"ALTER TABLE {_sql_name(table)} VALIDATE CONSTRAINT "
                 f"{_sql_name(constraint)}")  # fmt: skip


def _with_keyword(source: list[str], call: ast.Call, first: int, keyword: str) -> list[str]:
    """The call's lines with ``keyword`` added before its closing parenthesis."""
    last = (call.end_lineno or first) - first
    line = source[last]
    closing = _column(line, call.end_col_offset or len(line)) - 1
    before = line[:closing].rstrip()
    comma = "" if before.endswith((",", "(")) else ", "
    source = list(source)
    source[last] = f"{before}{comma}{keyword}{line[closing:]}"
    return source


def _column(line: str, byte_offset: int) -> int:
    """ast's UTF-8 byte offset as a str index."""
    return len(line.encode()[:byte_offset].decode(errors="replace"))


def _in_block(tree: ast.Module, node: ast.stmt) -> bool:
    """Already inside an ``autocommit_block()``: nothing to wrap."""
    for outer in ast.walk(tree):
        if isinstance(outer, ast.With) and node in outer.body:
            return any("autocommit_block" in ast.unparse(item.context_expr) for item in outer.items)
    return False
