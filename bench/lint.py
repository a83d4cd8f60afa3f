"""Lint benchmark: ``distill lint --all`` over a long history, whole process, cold.

    python bench/lint.py [--revisions 500] [--repeat 3]

Target (the safety issue): 500 revisions, cold (no caches), <= 1 s.  The
revisions are a realistic mix on twenty tables: columns added and altered,
indexes (plain and concurrent), foreign keys, drops.  No other tool lints
Alembic revisions with the schema at each step, so there is no ratio: the
figure is against the target.  Also: the lint of the last revision alone,
the rest counted as applied (what a revision file being written needs).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from projects import BIN, CACHE_DIR, ENV, rev_id, write_chain

TABLES = 20
BODIES = [
    '    op.add_column("t{t}", sa.Column("c{i}", sa.Integer()))\n'
    '    op.create_index("ix_t{t}_c{i}", "t{t}", ["c{i}"])',
    "    with op.get_context().autocommit_block():\n"
    '        op.create_index("cx_t{t}_{i}", "t{t}", ["id"], postgresql_concurrently=True)',
    '    op.alter_column("t{t}", "name", type_=sa.String({n}))',
    '    op.create_foreign_key("fk_t{t}_{i}", "t{t}", "t{u}", ["ref"], ["id"])',
    '    op.add_column("t{t}", sa.Column("d{i}", sa.Integer(), nullable=False, '
    'server_default="0"))',
    '    op.add_column("t{t}", sa.Column("e{i}", sa.Integer()))\n'
    '    op.drop_column("t{t}", "e{i}")',
]


def make_project(root: Path, count: int) -> Path:
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / "distill.toml").write_text(
        'script_location = "migrations"\nurl = "postgresql+psycopg://bench@127.0.0.1:1/none"\n'
    )
    versions = root / "migrations" / "versions"
    write_chain(versions, count, "distill")
    first = "\n".join(
        f'    op.create_table("t{t}", sa.Column("id", sa.Integer, primary_key=True), '
        'sa.Column("name", sa.String(40)), sa.Column("ref", sa.Integer))'
        for t in range(TABLES)
    )
    for i in range(1, count + 1):
        path = next(versions.glob(f"{rev_id(i)}_*.py"))
        t, u = i % TABLES, (i + 1) % TABLES
        body = (
            first
            if i == 1
            else BODIES[i % len(BODIES)].format(
                t=t, u=u, i=i, j=i - 1 - (i - 1) % len(BODIES) + 1, n=40 + i
            )
        )
        text = path.read_text().replace(
            "def upgrade() -> None:\n    pass", f"def upgrade() -> None:\n{body}", 1
        )
        path.write_text(text)
    return root


def timed(args: list[str], cwd: Path) -> float:
    for cache in CACHE_DIR.glob("*"):
        shutil.rmtree(cache, ignore_errors=True)  # cold: no header or replay caches
    started = time.perf_counter()
    done = subprocess.run([str(BIN / "distill"), *args], cwd=cwd, capture_output=True,
                          text=True, env=ENV)  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1) or "finding" not in done.stderr:
        raise RuntimeError(f"distill {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return seconds


def in_editor(root: Path, count: int, repeat: int = 30) -> float:
    """p95 seconds of what the editor's sandbox does on a save of the last revision: the
    applied part from the replay cache, then the lint of that one revision."""
    from distill.autogen.generate import target_dialect
    from distill.commands import open_project
    from distill.lint.engine import Run, lint
    from distill.replay.recorder import replay

    project = open_project(root)
    graph, dialect = project.graph, target_dialect(project.config)
    cache = Path(tempfile.mkdtemp(prefix="distill-bench-lint-cache-"))
    previous, last = rev_id(count - 1), rev_id(count)
    replay(graph, dialect, previous, cache)  # the replay the editor already made
    run = Run(dialect, (17,), one_transaction=False)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        start = replay(graph, dialect, previous, cache).schema
        lint(graph, [last], run, start)
        times.append(time.perf_counter() - started)
    shutil.rmtree(cache, ignore_errors=True)
    return statistics.quantiles(times, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--revisions", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = make_project(Path(tempfile.mkdtemp(prefix="distill-bench-lint-")) / "p", args.revisions)
    every = [timed(["lint", "--all"], root) for _ in range(args.repeat)]
    last = [timed(["lint", rev_id(args.revisions)], root) for _ in range(args.repeat)]
    print(f"{'benchmark':52} {'median s':>9}  target")
    print(f"{'lint --all, ' + str(args.revisions) + ' revisions, cold':52} "
          f"{statistics.median(every):9.3f}  <= 1.0 s")  # fmt: skip
    print(f"{'lint of the last revision alone, cold (process)':52} "
          f"{statistics.median(last):9.3f}  (a whole process)")  # fmt: skip
    print(f"{'editor: lint of one revision on save, p95':52} "
          f"{in_editor(root, args.revisions):9.3f}  <= 0.050 s")  # fmt: skip
    shutil.rmtree(root.parent, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
