"""Columns in UTF-16 code units, as LSP counts them (and Python's ``str`` does not).

A leaf: the language server places diagnostics with it, and the sandbox's child
computes a syntax error's range in the same units.
"""

from __future__ import annotations


def utf16_column(line_text: str, str_index: int) -> int:
    """The UTF-16 column of ``line_text[str_index]``."""
    prefix = line_text[:str_index]
    return str_index if prefix.isascii() else utf16_length(prefix)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
