"""Positions as LSP counts them: 0-based lines, columns in UTF-16 code units."""

from __future__ import annotations

import re
from dataclasses import dataclass

# The line breaks of both LSP and Python's tokenizer; str.splitlines() knows
# more (\f, \x1c, U+2028...), which would shift line numbers.
LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class Span:
    line: int
    character: int
    end_line: int
    end_character: int

    def contains(self, line: int, character: int) -> bool:
        # The end is included: a cursor just after the closing quote is still "on" it.
        end = (self.end_line, self.end_character)
        return (self.line, self.character) <= (line, character) <= end


def utf16_column(line_text: str, str_index: int) -> int:
    """The UTF-16 column of ``line_text[str_index]``."""
    prefix = line_text[:str_index]
    return str_index if prefix.isascii() else utf16_length(prefix)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def lines(text: str) -> list[str]:
    return LINE_BREAK.split(text)
