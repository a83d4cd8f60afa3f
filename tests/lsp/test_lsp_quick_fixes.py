"""Quick fixes follow the state they would act on (issue 13, item 1)."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from distill.lsp.actions import code_actions
from distill.lsp.session import Analysis


def _analysis(drift_count: int) -> Analysis:
    return Analysis(
        placed={}, findings={}, model_error=None, drift_count=drift_count,
        current=(), heads=("r1",), pending=1, database_error=None, seconds=0.0,
    )  # fmt: skip


def _titles(analysis: Analysis, data: dict[str, Any]) -> list[str]:
    diagnostic = types.Diagnostic(
        range=types.Range(types.Position(0, 0), types.Position(0, 1)),
        message="m", source="distill", data=data,
    )  # fmt: skip
    return [action.title for action in code_actions(analysis, [diagnostic])]


MODEL_DRIFT = {"code": "drift.column-not-migrated", "pair": "models-migrations",
               "table": "users"}  # fmt: skip
BEHIND = {"code": "drift.database-behind", "pair": "migrations-database"}


def test_a_revision_is_offered_for_model_changes_only_when_there_are_some() -> None:
    assert _titles(_analysis(2), MODEL_DRIFT) == ["Generate revision for 2 model changes"]
    # A diagnostic left from an analysis before: "0 model changes" would write an empty file.
    assert _titles(_analysis(0), MODEL_DRIFT) == []


def test_downgrade_one_revision_is_never_offered_at_base() -> None:
    at_base = {**BEHIND, "current": [], "pending": 3}
    above_base = {**BEHIND, "current": ["r1"], "pending": 2}
    assert _titles(_analysis(0), at_base) == ["Upgrade database to head"]
    assert _titles(_analysis(0), above_base) == [
        "Upgrade database to head", "Downgrade one revision"
    ]  # fmt: skip


def test_a_change_made_by_hand_offers_what_differs_and_no_revision() -> None:
    hand_made = {"code": "drift.hand-made", "pair": "database-revision", "table": "customers"}
    assert _titles(_analysis(0), hand_made) == ["Show what differs"]
