"""``distill doctor``: what of an Alembic project Distill honours, before anything runs.

Reads the settings and env.py (online, then offline, migrating nothing) and
says, line by line, what Distill takes from them and what it cannot honour:
several databases, custom run logic, configure() options Distill has no use
for.  A ``problem`` means a Distill run would differ from an Alembic run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from distill.compat.alembic_env import (
    HONOURED,
    INCIDENTAL,
    EnvFindings,
    apply_env,
    metadata_of,
    read_env,
)
from distill.compat.env_text import ENV_PY
from distill.config import Config
from distill.masking import mask_url

Level = Literal["ok", "note", "problem"]


@dataclass(frozen=True)
class Finding:
    level: Level
    text: str


# configure() options Distill does not honour, and what that means for a run.
_NOT_HONOURED = {
    "render_item": "autogenerate renders types its own way",
    "on_version_apply": "it is not called as revisions run",
    "include_schemas": "only the default schema is compared",
    "upgrade_token": "several databases in one script (multidb) are not supported",
    "downgrade_token": "several databases in one script (multidb) are not supported",
    "compare_type": "only true or false is honoured, not a function",
    "compare_server_default": "only true or false is honoured, not a function",
}


def diagnose(config: Config) -> list[Finding]:
    found = [Finding("ok", f"settings: {config.source or 'defaults'} ({config.flavour})")]
    if config.flavour != "alembic":
        found.append(
            Finding("ok", f"database: {mask_url(config.url) if config.url else 'none set'}")
        )
        found.append(Finding("ok", "a Distill project: no env.py is read"))
        return found
    online = read_env(config, mode="online")
    found.append(_database(config, online))
    if online is None:
        env_py = config.script_location / ENV_PY
        found.append(Finding("note", f"{env_py} does not exist; nothing is read from it"))
        return found
    found += _how_read(online)
    found += _configure_findings(online)
    editor = read_env(config, mode="editor")
    assert editor is not None
    found += _in_the_editor(online, editor)
    settings = apply_env(config, online)
    found.append(Finding(
        "ok", f"version table: {settings.qualified_version_table} (shared with Alembic)"
    ))  # fmt: skip
    found.append(Finding(
        "note", "no audit table is kept (Alembic would see it as a table to drop)"
    ))  # fmt: skip
    metadata = metadata_of(settings)
    if metadata is None:
        found.append(Finding(
            "problem", "env.py sets no target_metadata: autogenerate and check cannot run; "
            "set target_metadata = Base.metadata in env.py",
        ))  # fmt: skip
    else:
        found.append(Finding("ok", f"target_metadata: {len(metadata.tables)} table(s)"))
    return found


def _database(config: Config, online: EnvFindings | None) -> Finding:
    """Where the URL comes from: the settings, or env.py, which often builds it from
    the application's own settings (the usual FastAPI layout)."""
    if config.url:
        return Finding("ok", f"database: {mask_url(config.url)}")
    if online is not None and online.url:
        return Finding(
            "ok", f"database: {mask_url(online.url)} (built by env.py; commands run it to find it)"
        )
    return Finding(
        "problem",
        f"database: {config.source} sets no sqlalchemy.url and env.py names none; commands "
        "that need the database will stop: set one, export DISTILL_URL, or pass --url",
    )


def _how_read(findings: EnvFindings) -> list[Finding]:
    if findings.why_offline:
        return [Finding(
            "note", f"env.py's online branch could not be read ({findings.why_offline}); "
            "its offline configure() is used",
        )]  # fmt: skip
    mode = "offline" if findings.offline else "online"
    return [Finding("ok", f"env.py read in {mode} mode: {findings.env_py}")]


def _configure_findings(findings: EnvFindings) -> list[Finding]:
    found: list[Finding] = []
    if findings.configure_calls == 0:
        found.append(Finding(
            "problem", "env.py never calls context.configure(): Distill finds no settings in it",
        ))  # fmt: skip
    elif findings.configure_calls > 1:
        found.append(Finding(
            "problem", f"env.py calls context.configure() {findings.configure_calls} times "
            "(several databases?): Distill runs one database, with the last call's settings",
        ))  # fmt: skip
    if findings.run_calls == 0:
        found.append(Finding(
            "problem", "env.py never calls context.run_migrations(): it runs migrations its "
            "own way, which Distill does not follow",
        ))  # fmt: skip
    for statement in findings.executed:
        found.append(Finding(
            "note", f"env.py runs SQL before migrating ({statement[:80]}): upgrade, downgrade, "
            "stamp and check run it on env.py's connection; revision --autogenerate does not",
        ))  # fmt: skip
    if findings.version_locations is not None:
        folders = ", ".join(str(folder) for folder in findings.version_locations)
        found.append(Finding(
            "ok", f"versions folders chosen by env.py (context.script.version_locations): "
            f"{folders}; heads and history, which run no env.py, show the settings' own",
        ))  # fmt: skip
    for key, value in sorted(findings.options.items()):
        found.append(_option(key, value))
    return found


def _option(key: str, value: Any) -> Finding:
    honoured_value = key not in ("compare_type", "compare_server_default") or isinstance(
        value, bool
    )
    if key in HONOURED and honoured_value:
        return Finding("ok", f"configure({key}=...): honoured")
    if key in _NOT_HONOURED and (key != "include_schemas" or value):
        return Finding("problem", f"configure({key}=...): not honoured: {_NOT_HONOURED[key]}")
    if key in INCIDENTAL or key in _NOT_HONOURED:
        return Finding("ok", f"configure({key}=...): Distill needs no such option")
    return Finding("note", f"configure({key}=...): unknown to Distill, ignored")


def _in_the_editor(online: EnvFindings, editor: EnvFindings) -> list[Finding]:
    """The language server reads env.py against an in-memory SQLite stand-in."""
    if not editor.offline:
        return [Finding("ok", "the editor reads env.py's online branch (no database connection)")]
    wanted = HONOURED - {"target_metadata"}
    missing = sorted(k for k in online.options if k in wanted and k not in editor.options)
    lost = f"; so it misses {', '.join(missing)}" if missing else ""
    return [Finding(
        "note", f"the editor cannot read env.py's online branch without a database "
        f"({editor.why_offline}) and reads the offline one{lost}",
    )]  # fmt: skip


def render(findings: list[Finding], say: Callable[[str], None]) -> None:
    marks: Mapping[Level, str] = {"ok": "ok     ", "note": "note   ", "problem": "PROBLEM"}
    for finding in findings:
        say(f"{marks[finding.level]} {finding.text}")
