"""env.py's ``process_revision_directives``, called as Alembic calls it on autogenerate.

Alembic hands the hook ``(context, revision, directives)``: the migration context,
the database's heads, and a list holding the one ``MigrationScript`` about to be
written.  The hooks real projects carry do two kinds of thing, and both work here:

- decide whether a revision is written at all: the cookbook's "don't generate
  empty migrations" empties ``directives`` when ``upgrade_ops.is_empty()``;
- set what the file is called and where it goes: ``rev_id`` (sequential ids),
  ``message``, ``version_path``, ``head``, ``splice``, ``branch_label``,
  ``depends_on``, and ``imports`` to add.

The script's ``upgrade_ops.ops`` holds Distill's own operations, not Alembic's
``ops`` classes (Distill never imports Alembic): a hook that rewrites them (a
``Rewriter``, ops added or removed) is refused with one line, not written wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distill.errors import ScriptError
from distill.runtime.database import first_line

Hook = Callable[[Any, tuple[str, ...], list[Any]], None]


@dataclass
class UpgradeOps:
    """``alembic.operations.ops.UpgradeOps`` as a hook reads it."""

    ops: list[Any]
    upgrade_token: str = "upgrades"

    def is_empty(self) -> bool:
        return not self.ops


@dataclass
class DowngradeOps:
    ops: list[Any]
    downgrade_token: str = "downgrades"

    def is_empty(self) -> bool:
        return not self.ops


@dataclass
class MigrationScript:
    """``alembic.operations.ops.MigrationScript``: the revision about to be written."""

    rev_id: str
    upgrade_ops: UpgradeOps
    downgrade_ops: DowngradeOps
    message: str | None = None
    imports: set[str] = field(default_factory=set)
    head: str = "head"
    splice: bool = False
    branch_label: str | Sequence[str] | None = None
    version_path: str | None = None
    depends_on: str | Sequence[str] | None = None

    @property
    def upgrade_ops_list(self) -> list[UpgradeOps]:
        return [self.upgrade_ops]

    @property
    def downgrade_ops_list(self) -> list[DowngradeOps]:
        return [self.downgrade_ops]


@dataclass(frozen=True)
class HookContext:
    """The migration context the hook is given: what env.py configured (``opts``) and
    the dialect; anything else is a one-line error, not a wrong answer."""

    opts: Mapping[str, Any]
    dialect: Any

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise ScriptError(
            f"process_revision_directives in env.py reads context.{name}, which Distill's "
            "stand-in for the migration context does not offer (it has opts and dialect)"
        )


def run_hook(
    hook: Hook, context: HookContext, heads: tuple[str, ...], script: MigrationScript, env_py: Path
) -> MigrationScript | None:
    """``script`` as the hook left it; None when it asked for no revision."""
    directives: list[Any] = [script]
    up, down = script.upgrade_ops, script.downgrade_ops
    ops = (list(up.ops), list(down.ops))
    try:
        hook(context, heads, directives)
    except ScriptError:
        raise
    except Exception as error:
        raise ScriptError(
            f"{env_py}: process_revision_directives raised {type(error).__name__}: "
            f"{first_line(str(error))}; fix env.py"
        ) from None
    if not directives:
        return None
    changed = (
        len(directives) > 1
        or directives[0] is not script
        or script.upgrade_ops is not up
        or script.downgrade_ops is not down
        or not (_same(up.ops, ops[0]) and _same(down.ops, ops[1]))
    )
    if changed:
        raise ScriptError(
            f"{env_py}: process_revision_directives changed the revision's operations; "
            "Distill writes its own operations and cannot render Alembic's: remove that "
            "part of the hook, or write the revision with Alembic"
        )
    return script


def _same(now: list[Any], before: list[Any]) -> bool:
    return len(now) == len(before) and all(a is b for a, b in zip(now, before, strict=True))


def labels_of(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """A ``branch_label``/``depends_on`` as Alembic takes it: one, several, or none."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)
