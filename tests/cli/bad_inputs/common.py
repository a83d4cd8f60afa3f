"""What a corpus case is, and the small building blocks the case tables share.

A case is a project made by ``setup`` (on top of a fresh Distill or Alembic
project whose database holds a table with a row, and a version table when
``db_at`` says so), the ``distill`` arguments a person would type, and a
fragment the one error line must contain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from tests.projects import ProjectDir

Setup = Callable[[ProjectDir], None]
PASSWORD = "s3cr3t-pw"  # every URL a case gives carries it; it must never be printed


@dataclass(frozen=True)
class Case:
    name: str
    setup: Setup
    args: tuple[str, ...]
    expect: str  # must appear in the error line
    # the revision the database's version table holds before the command: "" none (the
    # bookkeeping tables exist, empty), None a fresh database without them
    db_at: str | None = ""
    server: Literal["sqlite", "postgresql", "mariadb"] = "sqlite"
    flavour: Literal["distill", "alembic"] = "distill"
    env: Mapping[str, str] = field(default_factory=dict)
    xfail: str | None = None  # why this case is known to fail today (strict)


def nothing(_: ProjectDir) -> None:
    pass


def chain(*steps: Setup) -> Setup:
    def setup(p: ProjectDir) -> None:
        for step in steps:
            step(p)

    return setup


def write(relative: str, text: str | bytes) -> Setup:
    """Write a file of the project, ``relative`` to its root."""

    def setup(p: ProjectDir) -> None:
        path = p.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)

    return setup


def settings(text: str) -> Setup:
    """Replace distill.toml."""
    return write("distill.toml", text)


def append_settings(text: str) -> Setup:
    def setup(p: ProjectDir) -> None:
        path = p.root / "distill.toml"
        path.write_text(path.read_text() + text)

    return setup


def version_file(name: str, text: str | bytes) -> Setup:
    return write(f"migrations/versions/{name}", text)


def revs(*specs: tuple[str, object]) -> Setup:
    def setup(p: ProjectDir) -> None:
        for rev, down in specs:
            p.add(rev, down)  # type: ignore[arg-type]

    return setup


def revision(rev: str, down: object = None, upgrade: str = "pass", **keys: object) -> Setup:
    """One revision file with the given bodies and header keys."""

    def setup(p: ProjectDir) -> None:
        p.add(rev, down, upgrade, **keys)  # type: ignore[arg-type]

    return setup


def header(rev: str, down: str, extra: str = "") -> str:
    """A revision file of header lines only; ``down`` is Python source."""
    return f'"""m"""\nrevision = "{rev}"\ndown_revision = {down}\n{extra}'


def models(module: str, text: str, spec: str | None = None) -> Setup:
    """A models module in the project root, and ``metadata = spec`` naming it."""
    steps = [write(f"{module}.py", text)]
    if spec is not None:
        steps.append(append_settings(f'metadata = "{spec}"\n'))
    return chain(*steps)


LINEAR = revs(("aaaa11110001", None), ("aaaa11110002", "aaaa11110001"))
FORK = revs(
    ("bbbb11110001", None), ("bbbb11110002", "bbbb11110001"), ("bbbb11110003", "bbbb11110001")
)
SAMEPREFIX = revs(("cccc11110001", None), ("cccc22220002", "cccc11110001"))
EMPTY_MODELS = models("models", "import sqlalchemy as sa\nmeta = sa.MetaData()\n", "models:meta")
