"""Engine-core benchmarks, Distill against Alembic 1.20 in the same run.

    python bench/engine_core.py [--revisions 5000] [--upgrade-revisions 500]

- ``heads`` and ``history`` on a linear chain (whole process), cold (no
  header cache) and warm; target ratio <= 0.10.
- ``current`` at head with that chain; target <= 0.3 s absolute.
- ``upgrade head`` of trivial revisions on a fresh SQLite file; target <= 0.5.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from projects import best_of, drop_header_caches, make_twins, report, run


def graph_commands(root: Path, count: int, repeat: int) -> list[tuple[str, float, float, str]]:
    twins = make_twins(
        root,
        count,
        {
            "distill": "sqlite:///bench.db",
            "alembic": f"sqlite:///{root / 'alembic' / 'bench.db'}",
        },
    )
    rows = []
    for command in ("heads", "history"):
        cold = []
        for _ in range(repeat):
            drop_header_caches()
            cold.append(run("distill", [command], twins.distill))
        warm = best_of(repeat, "distill", [command], twins.distill)
        theirs = best_of(repeat, "alembic", [command], twins.alembic)
        rows.append((f"{command}, {count} revisions (cold cache)", min(cold), theirs, "<= 0.10"))
        rows.append((f"{command}, {count} revisions (warm cache)", warm, theirs, "<= 0.10"))
    run("distill", ["stamp", "head"], twins.distill)
    run("alembic", ["stamp", "head"], twins.alembic)
    ours = best_of(repeat, "distill", ["current"], twins.distill)
    theirs = best_of(repeat, "alembic", ["current"], twins.alembic)
    rows.append((f"current at head, {count} revisions", ours, theirs, "distill <= 0.300 s"))
    return rows


def upgrade_head(root: Path, count: int, repeat: int) -> list[tuple[str, float, float, str]]:
    ours, theirs = [], []
    for _ in range(repeat):
        twins = make_twins(
            root,
            count,
            {
                "distill": "sqlite:///bench.db",
                "alembic": f"sqlite:///{root / 'alembic' / 'bench.db'}",
            },
        )
        ours.append(run("distill", ["-q", "upgrade", "head"], twins.distill))
        theirs.append(run("alembic", ["upgrade", "head"], twins.alembic))
    return [(f"upgrade head, {count} revisions, fresh SQLite", min(ours), min(theirs), "<= 0.5")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--revisions", type=int, default=5000)
    parser.add_argument("--upgrade-revisions", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="distill-bench-"))
    try:
        rows = graph_commands(root / "graph", args.revisions, args.repeat)
        rows += upgrade_head(root / "upgrade", args.upgrade_revisions, args.repeat)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report(rows)


if __name__ == "__main__":
    main()
