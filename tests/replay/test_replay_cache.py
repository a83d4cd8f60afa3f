"""The replay cache: a replay runs only the revisions no stored schema includes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy.dialects import sqlite

from distill.caches import cache_for
from distill.replay import cache as replay_cache
from distill.replay.recorder import ReplayResult, replay
from tests.projects import ProjectDir, make_project


def _body(n: int, marker: Path) -> str:
    # Each run of upgrade() leaves its revision number in the marker file, so a
    # test sees exactly which scripts a replay ran.
    return (
        f"open({str(marker)!r}, 'a').write('r{n} ')\n"
        f"op.create_table('t{n}', sa.Column('id', sa.Integer, primary_key=True))"
    )


@pytest.fixture
def project(tmp_path: Path) -> ProjectDir:
    return make_project(tmp_path / "project", f"sqlite:///{tmp_path / 'db.sqlite'}")


def _add(project: ProjectDir, n: int, marker: Path, *, age: float = 60.0) -> Path:
    path = project.add(f"r{n}", f"r{n - 1}" if n > 1 else None, _body(n, marker))
    _age(path, age)
    return path


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _replay(project: ProjectDir, cache: Path | None) -> ReplayResult:
    result = replay(project.project().graph, sqlite.dialect(), cache=cache)
    assert result.exact
    return result


def _ran(marker: Path) -> list[str]:
    ran = marker.read_text().split() if marker.exists() else []
    marker.unlink(missing_ok=True)
    return ran


def test_a_second_replay_runs_nothing_and_gives_the_same_schema(
    project: ProjectDir, tmp_path: Path
) -> None:
    marker, cache = tmp_path / "ran", tmp_path / "cache"
    for n in (1, 2):
        _add(project, n, marker)
    first = _replay(project, cache)
    assert _ran(marker) == ["r1", "r2"]
    second = _replay(project, cache)
    assert _ran(marker) == []
    assert second.schema == first.schema == _replay(project, None).schema
    assert [t.name for t in second.schema.tables] == ["t1", "t2"]


def test_a_new_revision_replays_alone_and_so_does_an_edited_head(
    project: ProjectDir, tmp_path: Path
) -> None:
    marker, cache = tmp_path / "ran", tmp_path / "cache"
    for n in (1, 2):
        _add(project, n, marker)
    _replay(project, cache)
    _ran(marker)
    head = _add(project, 3, marker)
    assert [t.name for t in _replay(project, cache).schema.tables] == ["t1", "t2", "t3"]
    assert _ran(marker) == ["r3"]
    # An edit changes the file's size and time; the schema stored before the
    # head was added is still there, so only the head runs again.
    _edit(head, "'t3'", "'t3_renamed'")
    assert [t.name for t in _replay(project, cache).schema.tables] == ["t1", "t2", "t3_renamed"]
    assert _ran(marker) == ["r3"]


def test_an_edited_older_revision_replays_what_follows_it(
    project: ProjectDir, tmp_path: Path
) -> None:
    marker, cache = tmp_path / "ran", tmp_path / "cache"
    paths = [_add(project, n, marker) for n in (1, 2, 3)]
    _replay(project, cache)
    _ran(marker)
    _edit(paths[1], "'t2'", "'t2_renamed'")
    assert [t.name for t in _replay(project, cache).schema.tables] == ["t1", "t2_renamed", "t3"]
    # Only whole paths are stored, so there is no stored prefix ending at r1.
    assert _ran(marker) == ["r1", "r2", "r3"]


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))
    _age(path, 30)


def test_a_file_written_just_now_is_not_trusted(project: ProjectDir, tmp_path: Path) -> None:
    # Its time may not change if it is rewritten within the file system's
    # clock resolution, so only the settled revisions before it are stored.
    marker, cache = tmp_path / "ran", tmp_path / "cache"
    _add(project, 1, marker)
    _add(project, 2, marker, age=0)
    _replay(project, cache)
    _replay(project, cache)
    assert _ran(marker) == ["r1", "r2", "r2"]


def test_an_inexact_replay_is_not_stored(project: ProjectDir, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = project.add("r1", None, 'op.execute("ALTER TABLE x ADD COLUMN y INTEGER")')
    _age(path, 60)
    result = replay(project.project().graph, sqlite.dialect(), cache=cache)
    assert not result.exact
    assert not list(cache.glob("*.pickle")) if cache.exists() else True


def test_a_damaged_cache_file_is_a_miss(project: ProjectDir, tmp_path: Path) -> None:
    marker, cache = tmp_path / "ran", tmp_path / "cache"
    _add(project, 1, marker)
    _replay(project, cache)
    for stored in cache.glob("*.pickle"):
        stored.write_bytes(b"not a pickle")
    _ran(marker)
    assert [t.name for t in _replay(project, cache).schema.tables] == ["t1"]
    assert _ran(marker) == ["r1"]


def test_only_the_most_recently_used_schemas_are_kept(
    project: ProjectDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker, cache = tmp_path / "ran", tmp_path / "cache"
    monkeypatch.setattr(replay_cache, "KEEP", 2)
    for n in (1, 2, 3):
        _add(project, n, marker)
        _replay(project, cache)
    assert len(list(cache.glob("*.pickle"))) == 2


def test_a_folder_that_cannot_be_written_means_no_cache(
    project: ProjectDir, tmp_path: Path
) -> None:
    marker, cache = tmp_path / "ran", tmp_path / "cache"
    cache.write_text("a file where the folder should be")  # fails even for root
    _add(project, 1, marker)
    assert [t.name for t in _replay(project, cache).schema.tables] == ["t1"]
    assert [t.name for t in _replay(project, cache).schema.tables] == ["t1"]
    assert _ran(marker) == ["r1", "r1"]


def test_check_keeps_its_cache_beside_the_header_cache(project: ProjectDir, tmp_path: Path) -> None:
    (project.root / "models.py").write_text(
        "import sqlalchemy as sa\nmetadata = sa.MetaData()\n"
        "sa.Table('t1', metadata, sa.Column('id', sa.Integer, primary_key=True))\n"
    )
    (project.root / "distill.toml").write_text(
        (project.root / "distill.toml").read_text() + 'metadata = "models:metadata"\n'
    )
    _add(project, 1, tmp_path / "ran")
    done = project.cli("check")
    assert done.returncode == 1, done.stderr  # the database is behind: nothing applied yet
    stored = list(cache_for(project.versions, replay_cache.FOLDER).glob("*.pickle"))
    assert len(stored) == 1


def test_a_replay_that_needs_a_scratch_database_is_kept_too(
    project: ProjectDir, tmp_path: Path
) -> None:
    """``op.get_bind()`` forces the scratch database; its schema is kept like the
    symbolic replay's, so the next run opens none (optuna's history does this)."""
    from distill.autogen.generate import migration_schema, replay_cache_folder

    marker = tmp_path / "ran"
    path = project.add(
        "r1",
        None,
        "bind = op.get_bind()\n"
        f"open({str(marker)!r}, 'a').write('r1 ')\n"
        "op.create_table('t1', sa.Column('id', sa.Integer, primary_key=True))",
    )
    _age(path, 60)
    config = project.project().config
    notes: list[str] = []

    def built() -> list[str]:
        graph = project.project().graph
        return [
            t.name for t in migration_schema(graph, config, sqlite.dialect(), notes.append).tables
        ]

    assert built() == ["t1"] and _ran(marker) == ["r1"]
    assert "note: building the migrations' schema on a scratch database instead" in notes
    notes.clear()
    assert built() == ["t1"] and _ran(marker) == []  # from the cache: no scratch database
    assert notes == [
        "note: the migrations' schema is the one a scratch database gave for these "
        "same revision files before (a revision needs a live database)"
    ]
    path.write_text(path.read_text().replace("'t1'", "'t2'"))
    _age(path, 30)
    assert built() == ["t2"] and _ran(marker) == ["r1"]
    assert replay_cache_folder(config) is not None
