"""Distill: schema migrations for SQLAlchemy.

``from distill import op`` is what revision scripts use.  The import is lazy so
that commands which only read revision headers (``heads``, ``history``) never
pay for importing SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # What editors and type checkers see: a typed ``op`` (completion, signatures, docstrings).
    from distill.ops.proxy import op

from distill.release import VERSION as __version__

__all__ = ["__version__", "op"]


def __getattr__(name: str) -> Any:
    if name == "op":
        from distill.ops.proxy import op

        return op
    raise AttributeError(f"module 'distill' has no attribute {name!r}")
