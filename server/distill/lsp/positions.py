"""Positions as LSP counts them: 0-based lines, columns in UTF-16 code units."""

from __future__ import annotations

import re
from dataclasses import dataclass

from distill.utf16 import utf16_column as utf16_column
from distill.utf16 import utf16_length as utf16_length

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


def lines(text: str) -> list[str]:
    return LINE_BREAK.split(text)
