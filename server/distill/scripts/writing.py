"""Writing revision files: their text, their file name, their id."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from distill.errors import ScriptError

_BLANK_RUN = re.compile(r"\n{4,}")  # more than two empty lines in a row


def new_revision_id() -> str:
    import uuid  # imported here: graph-only commands never make an id

    return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class NewFile:
    """What a new revision file says, before a template turns it into text."""

    message: str
    revision: str
    parents: tuple[str, ...]
    branch_labels: tuple[str, ...]
    depends_on: tuple[str, ...]
    created: datetime
    imports: str = ""
    upgrades: str = ""  # empty: the template's own placeholder (``pass``)
    downgrades: str = ""


@dataclass(frozen=True)
class RevisionTemplate:
    """A project's revision template: Distill's ``script.py.tmpl`` (``string.Template``)
    or an Alembic project's ``script.py.mako``."""

    text: str
    source: str  # the file, for messages
    mako: bool = False

    def render(self, new: NewFile) -> str:
        if self.mako:
            return _render_mako(self, new)
        return render_revision(
            self.text,
            {
                "message": new.message,
                "revision": new.revision,
                "down_revision": _literal(new.parents),
                "branch_labels": _literal(new.branch_labels),
                "depends_on": _literal(new.depends_on),
                "create_date": new.created.strftime("%Y-%m-%d %H:%M:%S.%f"),
                "imports": new.imports,
                "upgrades": new.upgrades,
                "downgrades": new.downgrades,
            },
        )


def _literal(values: tuple[str, ...]) -> str:
    if not values:
        return "None"
    if len(values) == 1:
        return f'"{values[0]}"'
    return "(" + ", ".join(f'"{v}"' for v in values) + ")"


def _render_mako(template: RevisionTemplate, new: NewFile) -> str:
    """The values ``alembic revision`` gives its template, so the file reads the same."""
    from distill.scripts.mako_subset import render_mako

    def scalar_or_tuple(values: tuple[str, ...]) -> str | tuple[str, ...] | None:
        return None if not values else values[0] if len(values) == 1 else values

    variables: dict[str, object] = {
        "up_revision": new.revision,
        "down_revision": scalar_or_tuple(new.parents),
        "branch_labels": new.branch_labels or None,
        "depends_on": scalar_or_tuple(new.depends_on),
        "create_date": new.created,
        "comma": _as_comma_list,
        "message": new.message or "empty message",
    }
    if new.upgrades or new.downgrades:
        # Alembic's templates indent the first line themselves: "    ${upgrades}".
        variables["upgrades"] = new.upgrades.strip("\n").lstrip(" ") or "pass"
        variables["downgrades"] = new.downgrades.strip("\n").lstrip(" ") or "pass"
        variables["imports"] = new.imports.strip("\n")
    return render_mako(template.text, variables, source=template.source)


def _as_comma_list(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (tuple, list)):
        return ", ".join(str(item) for item in value)
    return str(value)


def render_revision(template_text: str, fields: Mapping[str, str]) -> str:
    """Fill the ``string.Template`` revision template.

    ``down_revision``, ``branch_labels`` and ``depends_on`` arrive as Python
    literals; ``revises`` (the docstring's comma-separated ids) is derived from
    ``down_revision`` unless given.  The result is tidied the way a formatter
    would leave it, so a new file does not show up as a diff after ``ruff format``.
    """
    values = dict(fields)
    values.setdefault("revises", _revises(values.get("down_revision", "None")))
    values["message"] = _docstring_safe(values.get("message", ""))
    imports = values.get("imports", "").strip("\n")
    values["imports"] = imports + "\n" if imports else ""
    for body in ("upgrades", "downgrades"):
        values[body] = values.get(body, "").rstrip() or "    pass"
    try:
        text = string.Template(template_text).substitute(values)
    except KeyError as error:
        known = ", ".join(f"${{{k}}}" for k in sorted(values))
        raise ScriptError(
            f"the revision template uses ${{{error.args[0]}}}, which Distill does not fill "
            f"(it fills {known}); fix script.py.tmpl"
        ) from None
    except ValueError as error:
        raise ScriptError(
            f"the revision template is malformed ({error}); write $$ for a $"
        ) from None
    return _tidy(text)


def _revises(down_revision_literal: str) -> str:
    try:
        value = ast.literal_eval(down_revision_literal)
    except (ValueError, SyntaxError):
        return down_revision_literal
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return ", ".join(str(v) for v in value)


def _docstring_safe(message: str) -> str:
    # The message lands inside a triple-quoted docstring: a backslash or a
    # closing quote in it would change or end the string.
    return message.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').strip()


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    joined = "\n".join(lines).strip("\n")
    return _BLANK_RUN.sub("\n\n\n", joined) + "\n"
