"""Steps where Distill answers differently from Alembic today, and why.

Each entry makes its test ``xfail(strict=True)``: when a fix makes the step
agree, the test turns red until its entry here is removed.  Keys:
(project, database, phase, step) where step is the revision an upgrade lands
on, the revision a downgrade undoes, or "head" for check and autogenerate.
"""

from __future__ import annotations

KNOWN: dict[tuple[str, str, str, str], str] = {
    # Deliberately better than Alembic (docs/alembic.md): optuna's v1.2.0.a batch
    # alter_column never adds WAITING to the PostgreSQL type trialstate, and Alembic
    # compares no enum values, so only Distill sees (and writes) the missing value.
    ("optuna", "postgresql", "check", "head"): (
        "Distill also reports that the PostgreSQL type trialstate lacks WAITING, which "
        "Alembic does not compare (a real difference; deliberately better)"
    ),
    ("optuna", "postgresql", "autogenerate", "head"): (
        "Distill writes the missing enum value WAITING of trialstate (an ALTER TYPE ... ADD "
        "VALUE in an autocommit block, which Alembic runs); Alembic detects nothing"
    ),
}
