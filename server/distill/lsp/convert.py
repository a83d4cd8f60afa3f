"""From Distill's analysis to LSP diagnostics: ranges, severities, codes, data."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from lsprotocol import types

from distill.lsp.drift import DATABASE, Drift
from distill.lsp.placement import Placed
from distill.lsp.positions import utf16_column
from distill.lsp.session import Analysis
from distill.sandbox.client import ModelError

SOURCE = "distill"

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
}


class _Span(Protocol):
    @property
    def line(self) -> int: ...
    @property
    def character(self) -> int: ...
    @property
    def end_line(self) -> int: ...
    @property
    def end_character(self) -> int: ...


def range_of(span: _Span) -> types.Range:
    return types.Range(
        start=types.Position(line=span.line, character=span.character),
        end=types.Position(line=span.end_line, character=span.end_character),
    )


def diagnostics(
    analysis: Analysis, last_good: Analysis | None, fallback: Path | None
) -> dict[str, list[types.Diagnostic]]:
    """Every file's diagnostics; a file that has none gets an empty list (to clear it).

    ``fallback``: where a model error that names no file goes (the models module).
    """
    by_path: dict[str, list[types.Diagnostic]] = {}
    placed = analysis.placed
    if analysis.model_error is not None:
        placed = _while_broken(analysis, last_good)
    for path, items in placed.items():
        by_path.setdefault(path, []).extend(
            _diagnostic(range_of(item.span), item.drift) for item in items
        )  # fmt: skip
    for path, findings in analysis.findings.items():
        by_path.setdefault(path, []).extend(
            types.Diagnostic(
                range=range_of(f.span), message=f.message, severity=_SEVERITY[f.severity],
                source=SOURCE, code=f.code, data={"code": f.code, **f.data},
            )
            for f in findings
        )  # fmt: skip
    if analysis.model_error is not None:
        where, diagnostic = _model_error(analysis.model_error, fallback)
        if where is not None:
            by_path.setdefault(where, []).append(diagnostic)
    return by_path


def _while_broken(analysis: Analysis, last_good: Analysis | None) -> dict[str, list[Placed]]:
    """While the models do not import, their last good drift stays visible; where the
    database stands is known now, so that part is the current analysis's."""
    merged: dict[str, list[Placed]] = {}
    # Where the last good analysis put each database finding: text that does not
    # parse has no declarations to place it on, so it keeps that line.
    unparsed = analysis.model_error is not None and analysis.model_error.kind == "syntax"
    kept: dict[tuple[str, str, str | None, str | None], Placed] = {}
    for path, items in (last_good.placed if last_good is not None else {}).items():
        merged[path] = [p for p in items if p.drift.pair != DATABASE]
        if unparsed:
            kept.update({(path, *_key(p)): p for p in items if p.drift.pair == DATABASE})
    for path, items in analysis.placed.items():
        merged.setdefault(path, []).extend(
            replace(p, span=before.span) if (before := kept.get((path, *_key(p)))) else p
            for p in items
            if p.drift.pair == DATABASE
        )
    return merged


def _key(placed: Placed) -> tuple[str, str | None, str | None]:
    return placed.drift.code, placed.drift.table, placed.drift.column


def untrusted(config_file_folder: Path, message: str) -> dict[str, list[types.Diagnostic]]:
    """The one diagnostic shown in an untrusted workspace, on the settings file."""
    for name in ("distill.toml", "pyproject.toml", "alembic.ini"):
        path = config_file_folder / name
        if path.exists():
            start = types.Position(line=0, character=0)
            return {str(path): [types.Diagnostic(
                range=types.Range(start=start, end=start), message=message,
                severity=types.DiagnosticSeverity.Information, source=SOURCE,
                code="workspace.untrusted", data={"code": "workspace.untrusted"},
            )]}  # fmt: skip
    return {}


def _diagnostic(where: types.Range, drift: Drift) -> types.Diagnostic:
    data: dict[str, Any] = {
        "code": drift.code, "pair": drift.pair, "table": drift.table, "schema": drift.schema,
        "column": drift.column, **drift.data,
    }  # fmt: skip
    return types.Diagnostic(
        range=where,
        message=drift.message,
        severity=_SEVERITY[drift.severity],
        source=SOURCE,
        code=drift.code,
        data=data,
    )


def _model_error(error: ModelError, fallback: Path | None) -> tuple[str | None, types.Diagnostic]:
    line = max((error.line or 1) - 1, 0)
    column = max((error.column or 1) - 1, 0)
    code = f"models.{error.kind}"
    end = max((error.end_column or 0) - 1, column + 1) if error.column else 10_000
    where = types.Range(
        start=types.Position(line=line, character=column),
        end=types.Position(line=line, character=end),
    )
    message = f"the models could not be loaded: {error.message}"
    if error.kind == "syntax":
        message = f"syntax error: {error.message} (drift shown is from the last good version)"
    diagnostic = types.Diagnostic(
        range=where, message=message, severity=types.DiagnosticSeverity.Error,
        source=SOURCE, code=code, data={"code": code},
    )  # fmt: skip
    path = error.file or (str(fallback) if fallback is not None else None)
    return path, diagnostic


# -- inlay hints --------------------------------------------------------------------------

# The one word or two after a model line, by what its drift says (issue: inlay hints).
_HINT_WORDS = {
    "drift.column-type": "type not migrated",
    "drift.column-nullable": "nullable not migrated",
    "drift.column-default": "default not migrated",
    "drift.column-comment": "comment not migrated",
    "drift.table-not-in-models": "dropped from the models",
    "drift.column-not-in-models": "dropped from the models",
    "drift.possible-rename": "a rename?",
    "drift.hand-made": "changed by hand",
    "drift.database-behind": "pending in the database",
    "drift.database-unknown-revision": "unknown revision in the database",
    "drift.database-unreachable": "database unreachable",
}


def inlay_hints(placed: list[Placed], text: str, wanted: types.Range) -> list[types.InlayHint]:
    """One hint at the end of each line within ``wanted`` that has drift: its words joined."""
    words: dict[int, list[str]] = {}
    for item in placed:
        line = item.span.line
        if wanted.start.line <= line <= wanted.end.line:
            word = _HINT_WORDS.get(item.drift.code, "not migrated")
            if word not in words.setdefault(line, []):
                words[line].append(word)
    lines = text.splitlines()
    return [
        types.InlayHint(
            position=types.Position(line, utf16_column(lines[line], len(lines[line]))),
            label=", ".join(found),
            kind=types.InlayHintKind.Type,
            padding_left=True,
        )
        for line, found in sorted(words.items())
        if line < len(lines)
    ]
