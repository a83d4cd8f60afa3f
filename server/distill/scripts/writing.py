"""Writing revision files: their text, their file name, their id."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Mapping
from datetime import datetime

from distill.errors import ConfigError, ScriptError

SLUG_LENGTH = 40  # Alembic's default truncate_slug_length; users know file names this long
_BLANK_RUN = re.compile(r"\n{4,}")  # more than two empty lines in a row


def new_revision_id() -> str:
    import uuid  # imported here: graph-only commands never make an id

    return uuid.uuid4().hex[:12]


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


def revision_filename(file_template: str, rev_id: str, message: str, when: datetime) -> str:
    """The file name for a new revision, from an Alembic-style ``%(rev)s_%(slug)s`` template."""
    values: dict[str, object] = {
        "rev": rev_id,
        "slug": slugify(message),
        "year": when.year,
        "month": when.month,
        "day": when.day,
        "hour": when.hour,
        "minute": when.minute,
        "second": when.second,
        "epoch": int(when.timestamp()),
    }
    try:
        name = file_template % values
    except KeyError as error:
        raise ConfigError(
            f"file_template {file_template!r} uses %({error.args[0]})s, which is not one of "
            f"{', '.join(values)}; fix file_template in the config"
        ) from None
    except (ValueError, TypeError) as error:
        raise ConfigError(
            f"file_template {file_template!r} is not a valid %-template ({error}); "
            "fix file_template in the config"
        ) from None
    return name + ".py"


def slugify(message: str) -> str:
    """Lowercase words joined by ``_``, cut at a word boundary to at most 40 characters."""
    words = re.findall(r"[^\W_]+", message.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}_{word}" if slug else word
        if len(candidate) > SLUG_LENGTH:
            # A single word longer than the limit is cut rather than dropped.
            return slug or word[:SLUG_LENGTH]
        slug = candidate
    return slug
