"""Laying out a rendered call over several lines when it is too long for one.

``op.create_table("users", sa.Column(...), sa.Column(...), ...)`` renders as
one line; a person writes one argument per line.  The call is parsed, and each
argument too long to share a line goes on its own, recursively, in the style
ruff and black produce (magic trailing comma), so a later format is a no-op.
"""

from __future__ import annotations

import ast

WIDTH = 99


def layout(source: str, indent: int = 4, width: int = WIDTH) -> str:
    """``source`` (one expression) indented by ``indent``, wrapped to ``width``."""
    pad = " " * indent
    if len(pad) + len(source) <= width:
        return pad + source
    tree = ast.parse(source, mode="eval")
    return _node(tree.body, source, indent, width)


def _node(node: ast.expr, source: str, indent: int, width: int) -> str:
    pad = " " * indent
    text = ast.get_source_segment(source, node) or ""
    if len(pad) + len(text) <= width or not isinstance(node, (ast.Call, ast.List, ast.Tuple)):
        return pad + text
    if isinstance(node, ast.Call):
        head = (ast.get_source_segment(source, node.func) or "") + "("
        parts: list[ast.expr | ast.keyword] = [*node.args, *node.keywords]
        close = ")"
    else:
        head, close = ("[", "]") if isinstance(node, ast.List) else ("(", ")")
        parts = list(node.elts)
    lines = [pad + head]
    for part in parts:
        lines.append(_part(part, source, indent + 4, width) + ",")
    lines.append(pad + close)
    return "\n".join(lines)


def _part(part: ast.expr | ast.keyword, source: str, indent: int, width: int) -> str:
    if isinstance(part, ast.keyword):
        prefix = f"{part.arg}=" if part.arg else "**"
        inner = _node(part.value, source, indent, width).lstrip()
        return " " * indent + prefix + inner
    if isinstance(part, ast.Starred):
        return " " * indent + "*" + _node(part.value, source, indent, width).lstrip()
    return _node(part, source, indent, width)
