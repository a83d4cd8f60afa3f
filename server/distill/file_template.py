"""Alembic's ``file_template``: the file name of a new revision.

A leaf, so that loading the settings can check a template without the
revision-writing code.
"""

from __future__ import annotations

import re
from datetime import datetime

from distill.errors import ConfigError

SLUG_LENGTH = 40  # Alembic's default truncate_slug_length; users know file names this long


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
