"""Rendering an Alembic project's own ``script.py.mako`` without Mako.

An Alembic project keeps its revision template in Mako syntax.  Distill renders
the part of Mako those templates use (checked against every template Alembic
ships), so a new revision file reads exactly as ``alembic revision`` would
have written it:

* ``${expr}`` and ``${expr | f1, f2}``: a Python expression, made text with
  ``str`` and then passed through the filters left to right.  The filter ``n``
  drops that ``str``, ``trim`` strips, any other filter is looked up like a
  variable (Alembic passes ``comma``);
* control lines ``% if/elif/else/endif`` and ``% for/endfor``; ``%%`` at the
  start of a line writes ``%``;
* ``## comment`` lines, and a backslash before a newline joining two lines;
* ``<%text>`` (written as is) and ``<%doc>`` (dropped) blocks;
* ``<% code %>`` and ``<%! code %>`` Python blocks: the stock ``multidb``
  template imports ``re`` and reads ``config`` with them.

A name the template uses but is not given is, as in Mako, a false value that
cannot be written: Alembic passes ``imports`` and ``upgrades`` only when
autogenerating, and ``${upgrades if upgrades else "pass"}`` relies on that.

Anything else (``<%def>``, ``<%include>``, ``% while``, the ``h`` filter...) is
refused with the file and line.  The template is the project's own file,
trusted like its ``env.py``, so expressions simply run with ``eval``.
"""

from __future__ import annotations

import ast
import builtins
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import CodeType, MappingProxyType
from typing import Any, TypeAlias

from distill.errors import ScriptError

# Mako's other tags, which Distill refuses; any other "<%" opens a Python block, as in Mako.
_TAGS = r"def|block|call|include|inherit|namespace|page|[\w.]+:[\w.]+"
# One alternative per construct; "(?<![^\n])" means "at the start of a line".
_TOKEN = re.compile(
    r"(?<![^\n])[ \t]*(?:(?P<comment>##)|(?P<percent>%%)|(?P<control>%))"
    r"|(?P<expr>\$\{)|(?P<text><%text>)|(?P<doc><%doc>)|(?P<tag><%(?:" + _TAGS + r")\b|</%[\w.:]+)"
    r"|(?P<code><%!?)|(?P<join>\\\r?\n)"
)
# The rest of a control or comment line; a backslash before the newline continues it.
_LINE_REST = re.compile(r"(.*?)(?<!\\)(?:\n|\Z)", re.DOTALL)
# "| name, name" closing an expression: Mako reads it as filters, not as Python's "|".
_FILTER_TAIL = re.compile(r"\|\s*([\w.]+(?:\s*,\s*[\w.]+)*)\s*\Z")
_MAKO_FILTERS: dict[str, Callable[[Any], object]] = {"trim": str.strip, "unicode": str}
_ESCAPING_FILTERS = {"h", "u", "x", "entity"}  # Mako's HTML/URL escaping: no use in a .py file
_ITEM = "__distill_item__"  # where a % for puts each item before unpacking it into its target
_SUPPORTED = "${...}, % if/elif/else/endif, % for/endfor, ## comments, <%text>, <%doc>, <% %>"


@dataclass
class _Node:
    where: str  # "script.py.mako:12", for error messages
    label: str  # the construct as written, for error messages


@dataclass
class _Expr(_Node):
    code: CodeType
    raw: bool  # the n filter: no str() before the other filters
    filters: list[CodeType | Callable[[Any], object]]


@dataclass
class _Exec(_Node):
    code: CodeType


@dataclass
class _Branch(_Node):
    test: CodeType | None  # None for % else
    body: list[_Item] = field(default_factory=list)


@dataclass
class _If(_Node):
    branches: list[_Branch]


@dataclass
class _For(_Node):
    target: CodeType
    iterable: CodeType
    body: list[_Item] = field(default_factory=list)


_Item: TypeAlias = str | _Expr | _Exec | _If | _For


class Undefined:
    """Mako's UNDEFINED: what a name the caller did not pass stands for."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __bool__(self) -> bool:
        return False

    def __str__(self) -> str:
        raise NameError(f"name {self.name!r} is not defined", name=self.name)


class MakoTemplate:
    """A template compiled once into nodes; ``render`` can be called many times."""

    def __init__(self, text: str, *, source: str = "script.py.mako") -> None:
        self.prelude: list[_Exec] = []  # <%! %> blocks: Mako runs them before the body
        self.body: list[_Item] = []
        _compile(text, source, self)
        # Every global name the template's Python reads or writes (attribute names
        # come along too: harmless); those not given become Undefined at render.
        self.names = {name for code in _codes([*self.prelude, *self.body]) for name in _names(code)}

    def render(self, variables: Mapping[str, object]) -> str:
        # One dict serves as eval's globals, so comprehensions see the variables
        # and a <% %> block's assignments are seen by later expressions.
        namespace: dict[str, Any] = {**variables, "context": MappingProxyType(dict(variables))}
        for name in self.names - namespace.keys():
            if not hasattr(builtins, name):
                namespace[name] = Undefined(name)
        for block in self.prelude:
            with _reporting(block, namespace):
                exec(block.code, namespace)
        out: list[str] = []
        _render(self.body, namespace, out)
        return "".join(out)


def render_mako(
    text: str, variables: Mapping[str, object], *, source: str = "script.py.mako"
) -> str:
    """Render ``text`` (a Mako template in the supported subset) with ``variables``."""
    return MakoTemplate(text, source=source).render(variables)


def _compile(text: str, source: str, template: MakoTemplate) -> None:
    stack: list[_If | _For] = []  # open control blocks, innermost last
    pos = 0
    while (match := _TOKEN.search(text, pos)) is not None:
        body = _open_body(stack) if stack else template.body
        if match.start() > pos:
            body.append(text[pos : match.start()])
        line_number = text.count("\n", 0, match.start()) + 1
        where = f"{source}:{line_number}"
        kind, pos = match.lastgroup, match.end()
        if kind in ("comment", "control"):  # both take the whole line, newline included
            rest = _LINE_REST.match(text, pos)
            assert rest is not None  # it matches an empty string
            line, pos = rest.group(1), rest.end()
            if kind == "control":
                _control(line.strip(), where, stack, body)
        elif kind == "percent":
            body.append(match.group()[:-1])
        elif kind == "expr":
            node, pos = _expression(text, pos, where)
            body.append(node)
        elif kind in ("text", "doc", "code"):
            closing = "%>" if kind == "code" else f"</%{kind}>"
            end = text.find(closing, pos)
            if end < 0:
                raise ScriptError(f"{where}: {match.group()} is never closed by {closing}")
            inner, pos = text[pos:end], end + len(closing)
            if kind == "text":
                body.append(inner)
            elif kind == "code":
                code = _compile_python(textwrap.dedent(inner.lstrip(" \t")), where, "exec")
                block = _Exec(where, f"{match.group()} %> block", code)
                (template.prelude if match.group() == "<%!" else body).append(block)
        elif kind == "tag":
            tag = match.group() + ">"
            if tag.startswith("</"):  # an opening <%text> or <%doc> consumes its own closing tag
                raise ScriptError(f"{where}: {tag} closes a tag that was never opened")
            raise ScriptError(
                f"{where}: the template uses {tag}, which Distill's template renderer does "
                f"not support; it renders {_SUPPORTED}. Rewrite that part of the template"
            )
        # kind == "join": a backslash-newline is simply dropped
    if pos < len(text):
        (_open_body(stack) if stack else template.body).append(text[pos:])
    if stack:
        keyword = "endif" if isinstance(stack[-1], _If) else "endfor"
        raise ScriptError(f"{stack[-1].where}: {stack[-1].label} is never closed by % {keyword}")


def _codes(items: Iterable[_Item | _Branch]) -> Iterator[CodeType]:
    for item in items:
        if not isinstance(item, str):
            yield from (value for value in vars(item).values() if isinstance(value, CodeType))
        if isinstance(item, _Expr):
            yield from (flt for flt in item.filters if isinstance(flt, CodeType))
        elif isinstance(item, _If):
            yield from _codes(item.branches)
        elif isinstance(item, (_Branch, _For)):
            yield from _codes(item.body)


def _names(code: CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:  # comprehensions and lambdas have their own code
        if isinstance(const, CodeType):
            yield from _names(const)


def _open_body(stack: list[_If | _For]) -> list[_Item]:
    block = stack[-1]
    return block.branches[-1].body if isinstance(block, _If) else block.body


def _control(line: str, where: str, stack: list[_If | _For], body: list[_Item]) -> None:
    keyword = re.findall(r"^\w*", line)[0]
    label = f"% {line}".rstrip()
    if keyword in ("endif", "endfor"):
        opener = _If if keyword == "endif" else _For
        if line[len(keyword) :].strip()[:1] not in ("", "#"):
            raise ScriptError(f"{where}: {label} has text after {keyword}")
        if not stack or not isinstance(stack[-1], opener):
            still_open = f"; {stack[-1].label} at {stack[-1].where} is open" if stack else ""
            raise ScriptError(f"{where}: {label} has no open % {keyword[3:]}{still_open}")
        stack.pop()
    elif keyword == "if":
        test = _parse_python(f"{line}\n pass", where, label)
        assert isinstance(test, ast.If)
        node = _If(where, label, [_Branch(where, label, _eval_code(test.test, where))])
        body.append(node)
        stack.append(node)
    elif keyword in ("elif", "else"):
        statement = _parse_python(f"if 0: pass\n{line}\n pass", where, label)
        assert isinstance(statement, ast.If)
        if not stack or not isinstance(stack[-1], _If) or stack[-1].branches[-1].test is None:
            raise ScriptError(f"{where}: {label} has no open % if (or follows its % else)")
        test = statement.orelse[0]
        code = _eval_code(test.test, where) if isinstance(test, ast.If) else None
        stack[-1].branches.append(_Branch(where, label, code))
    elif keyword == "for":
        loop = _parse_python(f"{line}\n pass", where, label)
        assert isinstance(loop, ast.For)
        target = _compile_python(f"{ast.unparse(loop.target)} = {_ITEM}", where, "exec")
        block = _For(where, label, target, _eval_code(loop.iter, where))
        body.append(block)
        stack.append(block)
    else:
        raise ScriptError(
            f"{where}: the template uses the control line {label!r}, which Distill's template "
            f"renderer does not support; it renders {_SUPPORTED} (write %% for a literal %)"
        )


def _expression(text: str, start: int, where: str) -> tuple[_Expr, int]:
    """The ``${...}`` whose inside begins at ``start``, and the index after its ``}``."""
    # A "}" may sit inside a string or a dict: the expression ends at the first
    # "}" before which the text is valid Python.
    end, first_error = text.find("}", start), None
    while end >= 0:
        inner = text[start:end]
        tail = _FILTER_TAIL.search(inner)
        candidates = [(inner[: tail.start()], tail.group(1))] if tail else []
        for python, names in [*candidates, (inner, "")]:
            try:
                code = compile(python.strip() or "''", where, "eval")  # Mako writes ${} as ""
            except SyntaxError as error:
                first_error = first_error or error
                continue
            return _make_expr(where, inner, code, names), end + 1
        end = text.find("}", end + 1)
    detail = f" ({first_error.msg})" if first_error else ""
    raise ScriptError(f"{where}: ${{ has no }} that ends a valid Python expression{detail}")


def _make_expr(where: str, inner: str, code: CodeType, names: str) -> _Expr:
    node = _Expr(where, f"${{{inner}}}", code, raw=False, filters=[])
    for name in filter(None, (n.strip() for n in names.split(","))):
        if name == "n":
            node.raw = True
        elif name in _MAKO_FILTERS:
            node.filters.append(_MAKO_FILTERS[name])
        elif name in _ESCAPING_FILTERS or name.startswith("decode."):
            raise ScriptError(
                f"{where}: {node.label} uses Mako's {name} filter, which Distill's template "
                "renderer does not support; it knows n, trim and filters passed as variables"
            )
        else:
            node.filters.append(_compile_python(name, where, "eval"))
    return node


def _parse_python(statement: str, where: str, label: str) -> ast.stmt:
    try:
        return ast.parse(statement).body[0]
    except SyntaxError as error:
        raise ScriptError(f"{where}: {label} is not valid Python ({error.msg})") from None


def _eval_code(expression: ast.expr, where: str) -> CodeType:
    return compile(ast.Expression(expression), where, "eval")


def _compile_python(python: str, where: str, mode: str) -> CodeType:
    try:
        return compile(python, where, mode)
    except SyntaxError as error:
        raise ScriptError(
            f"{where}: {python.strip()!r} is not valid Python ({error.msg})"
        ) from None


def _render(items: list[_Item], namespace: dict[str, Any], out: list[str]) -> None:
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, _Expr):
            out.append(_text_of(item, namespace))
        elif isinstance(item, _Exec):
            with _reporting(item, namespace):
                exec(item.code, namespace)
        elif isinstance(item, _If):
            for branch in item.branches:
                with _reporting(branch, namespace):
                    chosen = branch.test is None or bool(eval(branch.test, namespace))
                if chosen:
                    _render(branch.body, namespace, out)
                    break
        else:
            with _reporting(item, namespace):
                values = list(eval(item.iterable, namespace))
            for value in values:
                with _reporting(item, namespace):
                    namespace[_ITEM] = value
                    exec(item.target, namespace)  # "name = item", or an unpacking
                _render(item.body, namespace, out)


def _text_of(node: _Expr, namespace: dict[str, Any]) -> str:
    with _reporting(node, namespace):
        value: object = eval(node.code, namespace)
        if not node.raw:
            value = str(value)
        for flt in node.filters:
            function = eval(flt, namespace) if isinstance(flt, CodeType) else flt
            if isinstance(function, Undefined):
                raise NameError(f"filter {function.name!r} is not defined", name=function.name)
            value = function(value)
    if not isinstance(value, str):
        raise ScriptError(f"{node.where}: {node.label} gave {type(value).__name__}, not text")
    return value


@contextmanager
def _reporting(node: _Node, namespace: Mapping[str, object]) -> Iterator[None]:
    """Turn an exception raised by the template's Python into a located ScriptError."""
    try:
        yield
    except ScriptError:
        raise
    except Exception as error:
        message = f"{node.where}: {node.label} raised {type(error).__name__}: {error}"
        if isinstance(error, NameError):
            names = (k for k, v in namespace.items() if not isinstance(v, Undefined))
            given = ", ".join(sorted(name for name in names if not name.startswith("__")))
            message += f" (the template is given: {given})"
        raise ScriptError(message) from error
