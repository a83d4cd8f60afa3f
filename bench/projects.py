"""Twin projects for benchmarks: the same revision chain for Distill and for Alembic.

Both get a linear chain of N revisions with the same ids and bodies, written
straight to disk (running ``alembic revision`` N times would take minutes and
measure nothing we compare).
"""

from __future__ import annotations

import atexit
import compileall
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent

_SCRIPT = '''"""{message}

Revision ID: {rev}
Revises: {down_doc}
Create Date: 2026-11-23 10:00:00.000000
"""
from {package} import op
import sqlalchemy as sa

revision = "{rev}"
down_revision = {down}
branch_labels = None
depends_on = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''


def rev_id(index: int) -> str:
    return f"{index:012x}"


def write_chain(versions: Path, count: int, package: str, body: str = "    pass") -> None:
    versions.mkdir(parents=True, exist_ok=True)
    for i in range(1, count + 1):
        down = f'"{rev_id(i - 1)}"' if i > 1 else "None"
        (versions / f"{rev_id(i)}_step_{i}.py").write_text(
            _SCRIPT.format(
                message=f"step {i}",
                rev=rev_id(i),
                down=down,
                down_doc=rev_id(i - 1) if i > 1 else "",
                package=package,
                upgrade=body,
                downgrade="    pass",
            )
        )


@dataclass(frozen=True)
class Twins:
    distill: Path
    alembic: Path


def make_twins(root: Path, count: int, url_for: dict[str, str], body: str = "    pass") -> Twins:
    """A Distill project and an Alembic project with the same chain of ``count``."""
    if root.exists():
        shutil.rmtree(root)
    distill_dir, alembic_dir = root / "distill", root / "alembic"
    distill_dir.mkdir(parents=True)
    (distill_dir / "distill.toml").write_text(
        f'script_location = "migrations"\nurl = "{url_for["distill"]}"\n'
    )
    write_chain(distill_dir / "migrations" / "versions", count, "distill", body)
    alembic_dir.mkdir()
    subprocess.run(
        [str(BIN / "alembic"), "init", "--template", "generic", "migrations"],
        cwd=alembic_dir,
        check=True,
        capture_output=True,
    )
    ini = alembic_dir / "alembic.ini"
    ini.write_text(
        ini.read_text().replace(
            "sqlalchemy.url = driver://user:pass@localhost/dbname",
            f"sqlalchemy.url = {url_for['alembic']}",
        )
    )
    write_chain(alembic_dir / "migrations" / "versions", count, "alembic", body)
    return Twins(distill_dir, alembic_dir)


# Both tools run as installed software does: with their bytecode cached, as pip
# leaves a wheel (Alembic's is).  Distill is installed editable here, and some
# machines set PYTHONDONTWRITEBYTECODE, which would make every run of it compile
# its ~90 modules again (0.1 s a process): its bytecode is written once, up front.
# Distill's caches (distill.caches) go to a folder of the run's own, which
# ``drop_header_caches`` empties for the cold-cache measurements.
compileall.compile_dir(Path(__file__).resolve().parent.parent / "server" / "distill", quiet=1)
CACHE_DIR = Path(tempfile.mkdtemp(prefix="distill-bench-cache-"))
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["DISTILL_CACHE_DIR"] = str(CACHE_DIR)
atexit.register(shutil.rmtree, CACHE_DIR, ignore_errors=True)


def drop_header_caches() -> None:
    """The revision-header caches of every project, as after a fresh checkout."""
    for cache in CACHE_DIR.rglob("headers.json"):
        cache.unlink()


def run(tool: str, args: Sequence[str], cwd: Path) -> float:
    """Seconds one whole process of ``tool`` takes; raises if it fails."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(BIN / tool), *args], cwd=cwd, capture_output=True, text=True, env=ENV
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{tool} {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return elapsed


def best_of(repeat: int, tool: str, args: Sequence[str], cwd: Path) -> float:
    return min(run(tool, args, cwd) for _ in range(repeat))


def report(rows: Sequence[tuple[str, float, float, str]]) -> None:
    """Print name, Distill seconds, Alembic seconds, ratio and the target."""
    print(f"{'benchmark':44} {'distill':>9} {'alembic':>9} {'ratio':>7}  target")
    for name, ours, theirs, target in rows:
        ratio = ours / theirs if theirs else float("nan")
        print(f"{name:44} {ours:9.3f} {theirs:9.3f} {ratio:7.3f}  {target}")
