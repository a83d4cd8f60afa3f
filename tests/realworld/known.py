"""Steps where Distill answers differently from Alembic today, and why.

Each entry makes its test ``xfail(strict=True)``: when a fix makes the step
agree, the test turns red until its entry here is removed.  Keys:
(project, database, phase, step) where step is the revision an upgrade lands
on, the revision a downgrade undoes, or "head" for check and autogenerate.
"""

from __future__ import annotations

_MARIADB_NULLABLE = (
    "issue 12 item 9: v1.2.0.a's batch alter_column(type_=Enum) gives no existing_nullable; "
    "Alembic's MODIFY writes trials.state as NULL, Distill keeps the live NOT NULL"
)
_BASELINE = (
    "issue 12 item 6: a history that begins from create_all cannot be replayed from empty "
    "(eeb276e51423 alters 'users'); Alembic compares against the database at head, Distill "
    "stops with the replay's error"
)

KNOWN: dict[tuple[str, str, str, str], str] = {
    ("optuna", "mariadb", "upgrade", "v1.2.0.a"): _MARIADB_NULLABLE,
    ("optuna", "mariadb", "upgrade", "v1.3.0.a"): _MARIADB_NULLABLE + " (carried from v1.2.0.a)",
    ("optuna", "postgresql", "check", "head"): (
        "Distill finds 6 differences, Alembic 4: Distill also reports that the PostgreSQL type "
        "trialstate lacks WAITING (v1.2.0.a's batch alter_column never adds it; Alembic does not "
        "compare enum values) and, as noise, 'trials.state: column type trialstate -> "
        "trialstate' (issue 12 item 10)"
    ),
    ("optuna", "postgresql", "autogenerate", "head"): (
        "issue 12 item 11: Distill writes op.add_enum_value('trialstate', 'WAITING'), which "
        "Alembic cannot run and does not detect"
    ),
    **{
        ("jupyterhub", dialect, phase, "head"): _BASELINE
        for dialect in ("sqlite", "postgresql", "mariadb")
        for phase in ("check", "autogenerate")
    },
}
