"""Database URLs are shown everywhere with their password masked."""

from __future__ import annotations

import re

# scheme://user:password@host -> scheme://user:***@host, whatever the password holds
_PASSWORD_IN_URL = re.compile(
    r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^\s/]*)(?=@)"
)


def mask_url(url: object) -> str:
    """The URL as text with any password replaced by ``***``."""
    return _PASSWORD_IN_URL.sub(r"\g<head>***", str(url))


def password_of(url: str | None) -> str | None:
    """The password ``url`` holds, to mask where it appears outside a URL too."""
    if not url:
        return None
    import sqlalchemy as sa  # here: most commands mask without ever parsing a URL

    try:
        return sa.make_url(url).password
    except Exception:  # not a URL: no password to single out (mask_text masks URL-shaped ones)
        return None


def mask_text(text: str, *secrets: str | None) -> str:
    """``text`` with URL passwords and the given secret strings masked."""
    masked = mask_url(text)
    for secret in secrets:
        if secret:
            masked = masked.replace(secret, "***")
    return masked
