"""What the CLI's commands say to people: paths as typed, notices --quiet silences.

A leaf both ``cli`` (the argparse front) and ``cli_commands`` (the handlers)
use, so neither imports the other's module for it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def say(args: argparse.Namespace, text: str, stream: TextIO | None = None) -> None:
    """A notice for people (stderr), silenced by --quiet."""
    if not args.quiet:
        print(text, file=stream or sys.stderr)


def count_revisions(n: int) -> str:
    return f"{n} revision{'s' if n != 1 else ''}"
