"""Alembic projects for the tests that compare Distill with real Alembic (no tests here).

``alembic_init`` makes a project with the installed Alembic; ``make_app_project``
one whose env.py imports an ``app.models``; the rest runs both tools on a
project (``run_side_by_side``) and compares what they leave in the database
(``snapshot``, ``differences``) on scratch databases of their own.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.pool import NullPool

from tests.conftest import create_scratch_database
from tests.projects import DISTILL
from tests.realworld.snapshot import describe_table


def alembic_init(root: Path, template: str = "generic") -> AlembicConfig:
    root.mkdir(parents=True, exist_ok=True)
    config = AlembicConfig(
        file_=str(root / "alembic.ini"),
        toml_file=str(root / "pyproject.toml"),
        stdout=io.StringIO(),
    )
    command.init(config, str(root / "alembic"), template=template)
    return config


def edit_ini(ini: Path, **values: str) -> None:
    """Set (or add) keys of the [alembic] section."""
    lines = ini.read_text().splitlines()
    for key, value in values.items():
        key = key.replace("__", ".")
        for i, line in enumerate(lines):
            if line.startswith(f"{key} =") or line.startswith(f"# {key} ="):
                lines[i] = f"{key} = {value}"
                break
        else:
            lines.insert(lines.index("[alembic]") + 1, f"{key} = {value}")
    ini.write_text("\n".join(lines) + "\n")


APP_MODELS = """\
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))


class Legacy(Base):
    __tablename__ = "legacy_things"
    id: Mapped[int] = mapped_column(primary_key=True)
"""

APP_FIRST = '''\
"""users

Revision ID: a1
Revises:
Create Date: 2026-01-01 00:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "a1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
    )


def downgrade():
    op.drop_table("users")
'''


def make_app_project(root: Path, models_folder: str = "") -> Path:
    """A generic-template Alembic project whose env.py imports app.models."""
    alembic_init(root)
    edit_ini(root / "alembic.ini", sqlalchemy__url="sqlite:///%(here)s/app.db")
    package = root / models_folder / "app" if models_folder else root / "app"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(APP_MODELS)
    env = root / "alembic" / "env.py"
    env.write_text(
        env.read_text().replace(
            "target_metadata = None",
            "from app.models import Base\ntarget_metadata = Base.metadata",
        )
    )
    (root / "alembic" / "versions" / "a1_users.py").write_text(APP_FIRST)
    return root


def app_project(root: Path, url: str, models: str) -> Path:
    """A generic-template Alembic project on ``url`` whose env.py's ``target_metadata``
    is ``app.models``' own; ``models`` is that module's text."""
    alembic_init(root)
    edit_ini(root / "alembic.ini", sqlalchemy__url=url.replace("%", "%%"))
    (root / "app").mkdir(exist_ok=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(models)
    replace_once(
        root / "alembic" / "env.py",
        "target_metadata = None\n",
        f"import sys\nsys.path.insert(0, {str(root)!r})\n"
        "from app.models import Base\ntarget_metadata = Base.metadata\n",
    )
    return root


def run_cli(tool: str, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """One command of ``tool`` ("alembic" or "distill") in the project folder ``root``."""
    command = [sys.executable, "-m", "alembic"] if tool == "alembic" else DISTILL
    return subprocess.run(
        [*command, *args], cwd=root, capture_output=True, text=True, env=ENV, timeout=180
    )


def prepend_to_env(root: Path, text: str) -> None:
    env = root / "alembic" / "env.py"
    source = env.read_text()
    anchor = "def run_migrations_offline"
    env.write_text(source.replace(anchor, textwrap.dedent(text) + "\n\n" + anchor))


# ---------------------------------------------------------------------------
# running the two tools
# ---------------------------------------------------------------------------

# Runs several Alembic commands in one process, each through Alembic's own CLI
# entry point, with a marker line before each command's output.
ALEMBIC_MAIN = """\
import json, sys
from alembic.config import main
for argv in json.loads(sys.argv[1]):
    print(">>> alembic " + " ".join(argv), flush=True)
    main(argv=argv, prog="alembic")
"""
ENV = {key: value for key, value in os.environ.items() if key != "DISTILL_URL"}
REVISION_ID = re.compile(r"\b[0-9a-f]{12}\b")


@dataclass
class Outcome:
    """What one tool printed for a sequence of commands, and how it ended."""

    tool: str  # "alembic" or "distill"
    commands: list[list[str]]
    returncode: int
    stdout: str
    stderr: str

    def output_of(self, verb: str) -> str:
        """The stdout of the last command that starts with ``verb``."""
        chunks = re.split(rf"^>>> {self.tool} ", self.stdout, flags=re.M)
        found = [c.partition("\n")[2] for c in chunks[1:] if c.split()[0] == verb]
        assert found, f"no output of {self.tool} {verb} in:\n{self.stdout}"
        return found[-1]

    def error_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        marked = [line for line in lines if line.startswith(f"{self.tool}: error:")]
        return (marked or lines or ["(no stderr)"])[-1]

    def report(self) -> str:
        cmds = "; ".join(f"{self.tool} {' '.join(c)}" for c in self.commands)
        return (
            f"{cmds} -> exit {self.returncode}\n"
            f"--- stdout\n{self.stdout.rstrip()}\n--- stderr\n{self.stderr.rstrip()}"
        )


def run_alembic(root: Path, *commands: Sequence[str]) -> Outcome:
    cmds = [list(c) for c in commands]
    done = subprocess.run(
        [sys.executable, "-c", ALEMBIC_MAIN, json.dumps(cmds)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
    )
    return Outcome("alembic", cmds, done.returncode, done.stdout, done.stderr)


def run_distill(root: Path, *commands: Sequence[str]) -> Outcome:
    """One ``distill`` process per command, stopping at the first that fails."""
    cmds, stdout, stderr, code = [list(c) for c in commands], "", "", 0
    for argv in cmds:
        done = subprocess.run(
            [*DISTILL, *argv], cwd=root, capture_output=True, text=True, timeout=300, env=ENV
        )
        stdout += f">>> distill {' '.join(argv)}\n{done.stdout}"
        stderr += done.stderr
        code = done.returncode
        if code:
            break
    return Outcome("distill", cmds, code, stdout, stderr)


def run_side_by_side(
    alembic_root: Path,
    alembic_commands: Sequence[Sequence[str]],
    distill_root: Path,
    distill_commands: Sequence[Sequence[str]],
) -> tuple[Outcome, Outcome]:
    """Alembic on one project and Distill on another, at the same time."""
    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(run_alembic, alembic_root, *alembic_commands)
        d = pool.submit(run_distill, distill_root, *distill_commands)
        return a.result(), d.result()


def require_success(outcome: Outcome, where: str, earlier: Sequence[str] = ()) -> None:
    if outcome.returncode == 0:
        return
    before = "".join(f"\n  earlier difference: {line}" for line in earlier)
    if outcome.tool == "alembic":
        pytest.fail(
            f"Alembic (the reference) failed at {where}, so the test's project is wrong: "
            f"{outcome.error_line()}{before}\n{outcome.report()}"
        )
    pytest.fail(f"Distill failed at {where}: {outcome.error_line()}{before}\n{outcome.report()}")


def revisions_in(text: str, known: Sequence[str]) -> list[str]:
    """The known revision ids named in ``text`` (``current``'s output), sorted."""
    return sorted(set(REVISION_ID.findall(text)) & set(known))


# ---------------------------------------------------------------------------
# what a database holds
# ---------------------------------------------------------------------------


def _value(value: object) -> object:
    return str(value) if not isinstance(value, (int, str, type(None))) else value


@dataclass
class Snapshot:
    """Reflected schema, version rows and data of one database."""

    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: list[str] | None = None  # None: no alembic_version table
    rows: dict[str, list[tuple[object, ...]]] = field(default_factory=dict)


def snapshot(url: str) -> Snapshot:
    engine = sa.create_engine(url, poolclass=NullPool)
    shot = Snapshot()
    try:
        with engine.connect() as conn:
            insp = sa.inspect(conn)
            for name in sorted(insp.get_table_names()):
                shot.tables[name] = describe_table(insp, conn.dialect, name)
                columns = insp.get_columns(name)
                # the data, except timestamps a server default filled in
                kept = [c["name"] for c in columns if not isinstance(c["type"], sa.DateTime)]
                table = sa.table(name, *(sa.column(c) for c in kept))
                rows = conn.execute(sa.select(*table.c)).all()
                shot.rows[name] = sorted((tuple(_value(v) for v in row) for row in rows), key=repr)
            if "alembic_version" in shot.tables:
                shot.versions = sorted(
                    conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
                )
    finally:
        engine.dispose()
    return shot


def differences(alembic: Snapshot, distill: Snapshot) -> list[str]:
    """One readable line per way the two databases differ."""
    lines = []
    only_a = sorted(set(alembic.tables) - set(distill.tables))
    only_d = sorted(set(distill.tables) - set(alembic.tables))
    if only_a or only_d:
        lines.append(f"tables only in Alembic's database: {only_a}; only in Distill's: {only_d}")
    for name in sorted(set(alembic.tables) & set(distill.tables)):
        a, d = alembic.tables[name], distill.tables[name]
        for aspect in sorted(set(a) | set(d)):
            if a.get(aspect) != d.get(aspect):
                lines.append(
                    f"{name}: {aspect}: Alembic {a.get(aspect, 'missing')!r} "
                    f"!= Distill {d.get(aspect, 'missing')!r}"
                )
        if name != "alembic_version" and alembic.rows[name] != distill.rows[name]:
            lines.append(
                f"{name}: rows: Alembic {alembic.rows[name]!r} != Distill {distill.rows[name]!r}"
            )
    if alembic.versions != distill.versions:
        lines.append(
            f"alembic_version rows: Alembic {alembic.versions} != Distill {distill.versions}"
        )
    return lines


@contextmanager
def scratch_databases(kind: str, tmp_path: Path, count: int) -> Iterator[list[str]]:
    """``count`` new empty databases of ``kind``, dropped afterwards."""
    urls, drops = [], []
    try:
        for i in range(count):
            folder = tmp_path / f"db{i}"
            folder.mkdir()
            url, drop = create_scratch_database(kind, folder)
            urls.append(url)
            drops.append(drop)
        yield urls
    finally:
        for drop in drops:
            drop()  # type: ignore[operator]


# ---------------------------------------------------------------------------
# building Alembic projects
# ---------------------------------------------------------------------------


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path} no longer holds exactly one {old!r}"
    path.write_text(text.replace(old, new))


def set_ini(ini: Path, key: str, value: str) -> None:
    """Set ``key`` in the [alembic] section of ``ini`` (uncommenting it if need be)."""
    edit_ini(ini, **{key.replace(".", "__"): value})


def use_models(env_py: Path) -> None:
    """Point ``env.py``'s ``target_metadata`` at the project's models."""
    replace_once(
        env_py,
        "target_metadata = None\n",
        "from app.models import Base\n\ntarget_metadata = Base.metadata\n",
    )


def revision_script(
    rev: str,
    down: str | tuple[str, ...] | None,
    message: str,
    upgrade: str,
    downgrade: str,
    *,
    branch_labels: tuple[str, ...] | None = None,
    depends_on: str | tuple[str, ...] | None = None,
    imports: str = "",
) -> str:
    """A revision file as ``alembic revision`` writes it, with the given bodies."""
    revises = ", ".join(down) if isinstance(down, tuple) else down or ""

    def body(code: str) -> str:
        return textwrap.indent(textwrap.dedent(code).strip(), "    ")

    return (
        f'"""{message}\n\nRevision ID: {rev}\nRevises: {revises}\n'
        'Create Date: 2025-03-14 09:26:53.589793\n\n"""\n'
        "from typing import Sequence, Union\n\n"
        "from alembic import op\nimport sqlalchemy as sa\n"
        f"{imports}\n\n"
        "# revision identifiers, used by Alembic.\n"
        f"revision: str = {rev!r}\n"
        f"down_revision: Union[str, Sequence[str], None] = {down!r}\n"
        f"branch_labels: Union[str, Sequence[str], None] = {branch_labels!r}\n"
        f"depends_on: Union[str, Sequence[str], None] = {depends_on!r}\n\n\n"
        f'def upgrade() -> None:\n    """Upgrade schema."""\n{body(upgrade)}\n\n\n'
        f'def downgrade() -> None:\n    """Downgrade schema."""\n{body(downgrade)}\n'
    )


def write_history(root: Path, upgrades: dict[str, str]) -> None:
    """A linear history in ``root``'s alembic/versions: one revision per (id, upgrade
    body), in order, each with an empty downgrade."""
    down = None
    for rev, body in upgrades.items():
        write(root / "alembic" / "versions" / f"{rev}.py",
              revision_script(rev, down, rev, body, "pass"))  # fmt: skip
        down = rev


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())


# --- the "shop" project: generic template, alembic.ini, two version folders -----
