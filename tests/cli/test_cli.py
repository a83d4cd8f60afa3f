"""Every command through the real ``distill`` process, as a person types it."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from distill import __version__
from tests.projects import DISTILL, ProjectDir, make_project


@pytest.fixture
def proj(tmp_path: Path) -> ProjectDir:
    return make_project(tmp_path / "proj", "sqlite:///app.db")


def ok(p: ProjectDir, *args: str) -> str:
    done = p.cli(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_version_and_help() -> None:
    done = subprocess.run([*DISTILL, "--version"], capture_output=True, text=True)
    assert done.stdout.strip() == f"distill {__version__}"
    usage = subprocess.run([*DISTILL, "upgrade"], capture_output=True, text=True)
    assert usage.returncode == 2 and "the following arguments are required" in usage.stderr
    bare = subprocess.run([*DISTILL], capture_output=True, text=True)
    assert bare.returncode == 2 and "COMMAND" in bare.stderr


def test_init_adds_a_section_to_an_existing_pyproject(tmp_path: Path) -> None:
    original = '[project]\nname = "app"\n\n[tool.ruff]\nline-length = 100\n'
    (tmp_path / "pyproject.toml").write_text(original)
    done = subprocess.run(
        [*DISTILL, "init", "migrations"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith(original)  # nothing already there is disturbed
    assert tomllib.loads(text)["tool"]["distill"] == {"script_location": "migrations"}
    assert (tmp_path / "migrations" / "versions").is_dir()
    assert "def upgrade() -> None:" in (tmp_path / "migrations" / "script.py.tmpl").read_text()
    again = subprocess.run(
        [*DISTILL, "init", "other"], cwd=tmp_path, capture_output=True, text=True
    )
    assert again.returncode == 1
    assert "already names script_location = 'migrations', not " in again.stderr
    assert not (tmp_path / "other").exists()


@pytest.mark.parametrize(
    "settings",
    ['script_location = "db/migrations"\nurl = "sqlite:///app.db"\n', None],
    ids=["named", "the-default-folder"],
)
def test_init_keeps_settings_that_already_name_the_folder(
    tmp_path: Path, settings: str | None
) -> None:
    """As alembic init keeps an existing alembic.ini: the settings came first (a clone
    without the folder, or settings written by hand), init creates the folder only."""
    folder = "db/migrations" if settings else "migrations"
    text = "[tool.distill]\n" + (settings or 'url = "sqlite:///app.db"\n')
    (tmp_path / "distill.toml").write_text(text)
    done = subprocess.run([*DISTILL, "init", folder], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "distill.toml").read_text() == text
    assert (tmp_path / folder / "versions").is_dir()
    assert (tmp_path / folder / "script.py.tmpl").is_file()
    assert "already name this folder; left as they are" in done.stderr
    # The folder is usable at once: a revision lands in it.
    made = subprocess.run(
        [*DISTILL, "revision", "-m", "first"], cwd=tmp_path, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    assert list((tmp_path / folder / "versions").glob("*_first.py"))


@pytest.mark.parametrize(
    ("settings", "args", "expect"),
    [
        ('script_location = "other"\n', ["init", "migrations"], "names script_location = 'other'"),
        ("script_location = 3\n", ["init", "migrations"], "'script_location' must be a folder"),
        (
            'script_location = "migrations"\nurl = "sqlite:///a.db"\n',
            ["--url", "sqlite:///b.db", "init", "migrations"],
            "already names another url",
        ),
    ],
    ids=["other-folder", "not-a-path", "other-url"],
)
def test_init_refuses_settings_that_conflict(
    tmp_path: Path, settings: str, args: list[str], expect: str
) -> None:
    text = f"[tool.distill]\n{settings}"
    (tmp_path / "distill.toml").write_text(text)
    done = subprocess.run([*DISTILL, *args], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("distill: error: ") and expect in line
    assert (tmp_path / "distill.toml").read_text() == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["distill.toml"]


def test_init_writes_distill_toml_without_pyproject(tmp_path: Path) -> None:
    done = subprocess.run(
        [*DISTILL, "--url", "sqlite:///x.db", "init", "db/migrations"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    settings = tomllib.loads((tmp_path / "distill.toml").read_text())["tool"]["distill"]
    assert settings == {"script_location": "db/migrations", "url": "sqlite:///x.db"}


def test_revision_upgrade_current_history_downgrade(proj: ProjectDir) -> None:
    first = ok(proj, "revision", "-m", "create users", "--rev-id", "aaaa00000001")
    assert first.strip() == "Created migrations/versions/aaaa00000001_create_users.py"
    path = proj.versions / "aaaa00000001_create_users.py"
    text = path.read_text()
    assert '"""create users\n\nRevision ID: aaaa00000001\nRevises:\nCreate Date: ' in text
    assert "from distill import op\nimport sqlalchemy as sa\n" in text
    assert 'revision = "aaaa00000001"\ndown_revision = None\n' in text
    path.write_text(
        text.replace(
            "def upgrade() -> None:\n    pass",
            'def upgrade() -> None:\n    op.create_table("users", sa.Column("id", sa.Integer,'
            " primary_key=True))",
        )
    )
    ok(proj, "revision", "-m", "second", "--rev-id", "aaaa00000002")
    second = (proj.versions / "aaaa00000002_second.py").read_text()
    assert 'down_revision = "aaaa00000001"' in second and "Revises: aaaa00000001" in second

    done = proj.cli("upgrade", "head")
    assert done.returncode == 0 and done.stdout == ""
    assert re.fullmatch(
        r"Upgraded sqlite:///\S+app\.db from base to aaaa00000002 "
        r"\(2 revisions, \d+\.\d\ds\)\n",
        done.stderr,
    ), done.stderr
    assert ok(proj, "current") == "aaaa00000002 (head)\n"
    assert ok(proj, "history") == (
        "aaaa00000001 -> aaaa00000002 (head), second\n<base> -> aaaa00000001, create users\n"
    )
    assert ok(proj, "history", "-i").startswith("aaaa00000001 -> aaaa00000002 (head) (current)")
    verbose = ok(proj, "history", "-v")
    assert verbose.count("Applied: ") == 2 and " UTC by " in verbose
    assert ok(proj, "heads") == "aaaa00000002 (head)\n"

    done = proj.cli("downgrade", "-1")
    assert done.returncode == 0 and "Downgraded" in done.stderr
    assert ok(proj, "current") == "aaaa00000001\n"
    assert "Applied: no" in ok(proj, "history", "-v")
    quiet = proj.cli("-q", "upgrade", "head")
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == ""
    nothing = proj.cli("upgrade", "head")
    assert "Nothing to do" in nothing.stderr


def test_global_options_after_the_command_and_dash_c(proj: ProjectDir, tmp_path: Path) -> None:
    proj.add("aaaa00000001", None)
    done = subprocess.run(
        [*DISTILL, "current", "-C", str(proj.root), "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
    done = subprocess.run(
        [
            *DISTILL,
            "-C",
            str(proj.root),
            "upgrade",
            "head",
            "--url",
            f"sqlite:///{tmp_path / 'other.db'}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "other.db").exists() and not (proj.root / "app.db").exists()


def test_python_dash_m_and_console_script_agree(proj: ProjectDir) -> None:
    proj.add("aaaa00000001", None)
    script = Path(sys.executable).parent / "distill"
    direct = subprocess.run([str(script), "heads"], cwd=proj.root, capture_output=True, text=True)
    assert direct.stdout == ok(proj, "heads") == "aaaa00000001 (head)\n"


def test_branches_labels_merge_show(proj: ProjectDir) -> None:
    proj.add("aaaa00000001", None, message="root")
    proj.add("bbbb00000001", "aaaa00000001", message="left", branch_labels=["left"])
    proj.add("cccc00000001", "aaaa00000001", message="right")
    assert ok(proj, "heads") == "bbbb00000001 (left) (head)\ncccc00000001 (head)\n"
    assert ok(proj, "branches") == (
        "aaaa00000001 (branchpoint), root\n    -> bbbb00000001, left\n    -> cccc00000001, right\n"
    )
    ok(proj, "upgrade", "left@head")
    assert ok(proj, "current") == "bbbb00000001 (head)\n"
    ok(proj, "upgrade", "heads")
    assert ok(proj, "current") == "bbbb00000001 (head)\ncccc00000001 (head)\n"

    out = ok(proj, "merge", "heads", "-m", "join", "--rev-id", "dddd00000001")
    assert "dddd00000001_join.py" in out
    merged = (proj.versions / "dddd00000001_join.py").read_text()
    assert 'down_revision = ("bbbb00000001", "cccc00000001")' in merged
    assert ok(proj, "heads") == "dddd00000001 (head)\n"
    history = ok(proj, "history")
    assert history.splitlines()[0] == (
        "bbbb00000001, cccc00000001 -> dddd00000001 (head) (mergepoint), join"
    )
    assert "aaaa00000001 (branchpoint), root" in history

    shown = ok(proj, "show", "dddd")
    assert shown.startswith("Rev: dddd00000001 (head)\nParent: bbbb00000001, cccc00000001\n")
    assert "Path: migrations/versions/dddd00000001_join.py" in shown
    ok(proj, "upgrade", "head")
    assert ok(proj, "current") == "dddd00000001 (head)\n"


def test_revision_on_a_new_base_with_label_and_depends_on(proj: ProjectDir) -> None:
    proj.add("aaaa00000001", None, message="root")
    ok(
        proj,
        "revision",
        "-m",
        "audit",
        "--head",
        "base",
        "--branch-label",
        "audit",
        "--rev-id",
        "eeee00000001",
        "--depends-on",
        "aaaa",
    )
    text = (proj.versions / "eeee00000001_audit.py").read_text()
    assert 'down_revision = None\nbranch_labels = "audit"\ndepends_on = "aaaa00000001"' in text
    assert ok(proj, "heads") == "aaaa00000001 (head)\neeee00000001 (audit) (head)\n"


def test_revision_into_a_second_version_location(tmp_path: Path) -> None:
    p = make_project(
        tmp_path / "p",
        "sqlite:///app.db",
        'version_locations = ["migrations/versions", "migrations/extra"]\n',
    )
    (p.root / "migrations" / "extra").mkdir()
    ok(p, "revision", "-m", "one", "--rev-id", "aaaa00000001")
    ok(p, "revision", "-m", "two", "--rev-id", "aaaa00000002", "--version-path", "migrations/extra")
    assert (p.root / "migrations" / "extra" / "aaaa00000002_two.py").exists()
    assert ok(p, "heads") == "aaaa00000002 (head)\n"


def test_stamp_and_sql_modes(proj: ProjectDir) -> None:
    proj.add(
        "aaaa00000001",
        None,
        'op.create_table("t", sa.Column("id", sa.Integer))',
        'op.drop_table("t")',
    )
    proj.add("aaaa00000002", "aaaa00000001")
    sql = ok(proj, "upgrade", "head", "--sql")
    assert "CREATE TABLE t (" in sql and "BEGIN;" in sql and "COMMIT;" in sql
    assert "-- Running upgrade base (empty) -> aaaa00000001" in sql
    assert not (proj.root / "app.db").exists()  # offline touches no database
    assert "DROP TABLE t;" in ok(proj, "downgrade", "aaaa00000002:base", "--sql")
    stamp_sql = ok(proj, "stamp", "aaaa00000001", "--sql")
    assert "INSERT INTO distill_version (version_num) VALUES ('aaaa00000001');" in stamp_sql

    done = proj.cli("stamp", "aaaa00000002")
    assert done.returncode == 0 and "base -> aaaa00000002" in done.stderr
    assert ok(proj, "current") == "aaaa00000002 (head)\n"
    ok(proj, "stamp", "base", "--purge")
    assert ok(proj, "current") == ""


def test_progress_is_drawn_on_a_terminal_only(proj: ProjectDir) -> None:
    for i in range(1, 4):
        proj.add(f"aaaa0000000{i}", f"aaaa0000000{i - 1}" if i > 1 else None, message=f"step {i}")
    # On a terminal: "[k/n] upgrade <id> <message>  <seconds>s", redrawn in place.
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [*DISTILL, "upgrade", "head"],
        cwd=proj.root,
        stdin=child,
        stdout=child,
        stderr=child,
        close_fds=True,
    )
    os.close(child)
    output = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    proc.wait(timeout=60)
    os.close(main)
    text = output.decode()
    assert "[1/3] upgrade aaaa00000001 step 1" in text and "[3/3] upgrade aaaa00000003" in text
    assert "Upgraded" in text
    # Not a terminal: no progress lines.
    ok(proj, "downgrade", "base")
    piped = proj.cli("upgrade", "head")
    assert "[1/3]" not in piped.stderr and "Upgraded" in piped.stderr


def test_format_json_prints_each_step_then_what_ran(proj: ProjectDir) -> None:
    """One JSON object per line: a step as it runs and as it finishes, then the result.
    A failing revision leaves the finished steps on stdout and the one-line error."""
    for i in range(1, 3):
        proj.add(f"aaaa0000000{i}", f"aaaa0000000{i - 1}" if i > 1 else None, message=f"s{i}")
    lines = [
        json.loads(line) for line in ok(proj, "upgrade", "head", "--format", "json").splitlines()
    ]
    steps = [(e["state"], e["revision"], e["index"], e["total"]) for e in lines[:-1]]
    first, second = "aaaa00000001", "aaaa00000002"
    assert steps == [("running", first, 1, 2), ("finished", first, 1, 2),
                     ("running", second, 2, 2), ("finished", second, 2, 2)]  # fmt: skip
    assert lines[-1] == {
        "event": "result", "command": "upgrade", "before": [], "after": ["aaaa00000002"],
        "steps": [{"direction": "upgrade", "revision": "aaaa00000001"},
                  {"direction": "upgrade", "revision": "aaaa00000002"}],
    }  # fmt: skip
    down = json.loads(ok(proj, "downgrade", "base", "--format", "json").splitlines()[-1])
    assert [s["revision"] for s in down["steps"]] == ["aaaa00000002", "aaaa00000001"]
    stamped = json.loads(ok(proj, "stamp", "head", "--format", "json"))
    assert (stamped["before"], stamped["after"], stamped["steps"]) == ([], ["aaaa00000002"], [])
    ok(proj, "stamp", "base", "--purge")

    proj.add("aaaa00000003", "aaaa00000002", 'raise RuntimeError("no")')
    done = proj.cli("upgrade", "head", "--format", "json")
    assert done.returncode == 1 and done.stderr.count("distill: error:") == 1
    finished = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["revision"] for e in finished if e["state"] == "finished"] == [
        "aaaa00000001", "aaaa00000002"
    ]  # fmt: skip
    refused = proj.cli("upgrade", "head", "--sql", "--format", "json")
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.strip() == (
        "distill: error: 'distill upgrade --sql' writes SQL, not JSON: leave out --format json"
    )


def test_history_ranges_relative_to_current(proj: ProjectDir) -> None:
    for i in range(1, 5):
        proj.add(f"aaaa0000000{i}", f"aaaa0000000{i - 1}" if i > 1 else None, message=f"s{i}")
    ok(proj, "upgrade", "aaaa00000003")
    # "-r -2:" must not be taken for an option; -2 counts down from the current
    # revision (aaaa00000003), and the range runs from there up to the head.
    assert ok(proj, "history", "-r", "-2:") == (
        "aaaa00000003 -> aaaa00000004 (head), s4\n"
        "aaaa00000002 -> aaaa00000003, s3\n"
        "aaaa00000001 -> aaaa00000002, s2\n"
        "<base> -> aaaa00000001, s1\n"
    )
    assert ok(proj, "history", "-r", "current:") == ok(proj, "history", "-r=aaaa00000003:")
    broken = proj.cli(
        "--url", "postgresql+psycopg://u:pw@127.0.0.1:1/x", "history", "-r", "current:"
    )
    assert broken.returncode == 1 and "needs the database" in broken.stderr


def test_sql_piped_into_a_closed_reader_exits_quietly(proj: ProjectDir) -> None:
    for i in range(1, 40):
        proj.add(f"aaaa{i:08d}", f"aaaa{i - 1:08d}" if i > 1 else None, "op.execute('SELECT 1')")
    done = subprocess.run(
        f"{' '.join(DISTILL)} upgrade head --sql | head -1",
        shell=True,
        cwd=proj.root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
