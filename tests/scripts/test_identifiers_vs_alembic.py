"""Revision identifiers answered as Alembic 1.20 answers them, command for command.

One project made by ``alembic init``, its revision files written by hand; each
case runs the same command line through Alembic's CLI and through ``distill``
and compares what both leave in ``alembic_version``, whether both succeed, and
what ``history`` / ``show`` list.  Where Alembic's answer is a known bug and
Distill answers better on purpose, the case says so (and docs/alembic.md lists it).

The graph (labels in brackets; r2 also depends on l2)::

    t1 - t2 - t3           l1 [left] - l2
     |    \\- g1 [gee]      r1 [right] - r2 ·· depends on l2
     \\- f1 [feat] - f2
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from tests.alembic_projects import ENV, alembic_init, edit_ini
from tests.projects import DISTILL

pytest.importorskip("alembic")

GRAPH = {  # id: (down_revision, branch label, depends_on)
    "t1aa": (None, None, None),
    "t2aa": ("t1aa", None, None),
    "t3aa": ("t2aa", None, None),
    "f1aa": ("t1aa", "feat", None),
    "f2aa": ("f1aa", None, None),
    "g1aa": ("t2aa", "gee", None),
    "l1aa": (None, "left", None),
    "l2aa": ("l1aa", None, None),
    "r1aa": (None, "right", None),
    "r2aa": ("r1aa", None, "l2aa"),
}


def build(root: Path, url: str) -> Path:
    alembic_init(root)
    edit_ini(root / "alembic.ini", sqlalchemy__url=url)
    for rev, (down, label, depends) in GRAPH.items():
        (root / "alembic" / "versions" / f"{rev}.py").write_text(
            f'"""msg {rev}"""\n'
            f"revision = {rev!r}\ndown_revision = {down!r}\n"
            f"branch_labels = {(label,) if label else None!r}\ndepends_on = {depends!r}\n\n\n"
            "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
        )
    return root


# Sets the version rows, runs one command line through the tool's own entry
# point (``alembic.config.main`` / ``distill.cli.main``) and reports its exit
# code, output, stderr and the rows it left; per case, all cases in one process.
RUN_CASES = """\
import contextlib, io, json, sys
import sqlalchemy as sa
from sqlalchemy.pool import NullPool
tool, url, cases = json.loads(sys.argv[1])
if tool == "alembic":
    from alembic.config import main as alembic_main

    def run(argv):
        alembic_main(argv=argv, prog="alembic")
        return 0
else:
    from distill.cli import main as run
engine = sa.create_engine(url, poolclass=NullPool)
for rows, argv in cases:
    if rows is not None:
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM alembic_version")
            for row in rows:
                conn.exec_driver_sql(
                    f"INSERT INTO alembic_version (version_num) VALUES ('{row}')"
                )
    print(">>> case", flush=True)
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        try:
            code = run(argv)
        except SystemExit as stop:
            code = stop.code
        except Exception as error:  # a crash (Alembic has some): exit 1, as the shell would see
            code = 1
            print(f"{type(error).__name__}: {error}", file=sys.stderr)
    sys.stdout.flush()
    left = []
    if sa.inspect(engine).has_table("alembic_version"):
        with engine.connect() as conn:
            query = "SELECT version_num FROM alembic_version"
            left = sorted(r[0] for r in conn.exec_driver_sql(query))
    answer = {"code": code or 0, "rows": left, "stderr": stderr.getvalue()}
    print("<<< " + json.dumps(answer), flush=True)
"""


@dataclass(frozen=True)
class Answer:
    code: int
    stdout: str
    stderr: str
    rows: list[str]  # alembic_version after the command


Case = tuple[Sequence[str] | None, Sequence[str]]  # rows to set first (None: leave), argv


def answers(tool: str, root: Path, url: str, cases: Sequence[Case]) -> list[Answer]:
    """What ``tool`` answered to each case, run in the project folder."""
    done = subprocess.run(
        [sys.executable, "-c", RUN_CASES, json.dumps([tool, url, cases])],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        env=ENV,
    )
    assert done.returncode == 0, done.stderr
    found = []
    for chunk in done.stdout.split(">>> case\n")[1:]:
        output, _, result = chunk.rpartition("<<< ")
        answer = json.loads(result)
        found.append(Answer(int(answer["code"]), output, answer["stderr"], answer["rows"]))
    assert len(found) == len(cases), done.stdout
    return found


def distill_answer(root: Path, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DISTILL, *argv], cwd=root, capture_output=True, text=True, timeout=300, env=ENV
    )


def assert_one_error_line(answer: Answer | subprocess.CompletedProcess[str], where: str) -> None:
    code = answer.code if isinstance(answer, Answer) else answer.returncode
    lines = [line for line in answer.stderr.splitlines() if line.strip()]
    assert code == 1, where
    assert len(lines) == 1 and lines[0].startswith("distill: error: "), where
    assert "Traceback" not in answer.stderr, where


# -- commands that write the version table ------------------------------------------------

# (rows before, command line); Alembic's rows and success are the expected answer.
TABLE_CASES: list[tuple[list[str], list[str]]] = [
    # Relative targets and 'current': Alembic refuses them all and leaves the
    # table alone (Distill used to resolve them from base: 'stamp current'
    # emptied the table, 'stamp +1' moved a database at t2aa down to t1aa).
    (["t2aa"], ["stamp", "+1"]),
    (["t2aa"], ["stamp", "-1"]),
    (["t2aa"], ["stamp", "current"]),
    (["t2aa", "f1aa"], ["stamp", "feat@+1"]),
    (["t2aa", "f2aa"], ["stamp", "feat@-1"]),
    (["t2aa"], ["stamp", "t3aa-1"]),
    (["t2aa"], ["stamp", "t1aa+1"]),
    # label@base is "none of this branch": stamp removes the branch's rows
    # (rows needing it too, r2aa needs l2aa), and nothing else.
    (["t3aa", "r2aa"], ["stamp", "right@base"]),
    (["t3aa", "r2aa"], ["stamp", "left@base"]),
    (["t3aa", "l2aa", "r1aa"], ["stamp", "right@base"]),
    (["t3aa", "l2aa", "r1aa"], ["stamp", "left@base"]),
    (["t3aa", "f2aa"], ["stamp", "feat@base"]),
    (["t2aa", "f1aa"], ["stamp", "gee@base"]),
    (["t3aa", "f2aa"], ["stamp", "gee@base"]),
    # ... and upgrade to it runs nothing.
    (["t1aa"], ["upgrade", "feat@base"]),
    ([], ["upgrade", "left@base"]),
    # label@PARTIAL looks the prefix up among the branch's revisions only:
    # 't' is t1aa on branch feat, but t1aa or t2aa on branch gee.
    ([], ["upgrade", "feat@t"]),
    ([], ["stamp", "feat@t"]),
    ([], ["stamp", "gee@t"]),
    # A prefix of any length that is unique names a revision.
    ([], ["stamp", "g"]),
    (["t3aa"], ["stamp", "feat@head"]),
    # 'heads' holds l2aa, which r2aa depends on: one row for both, as upgrade leaves.
    ([], ["stamp", "heads"]),
    (["t1aa"], ["stamp", "--purge", "heads"]),
]


def test_version_table_commands_answer_as_alembic(db_url: str, tmp_path: Path) -> None:
    root = build(tmp_path / "project", db_url)
    engine = sa.create_engine(db_url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"
        )
    engine.dispose()
    expected = answers("alembic", root, db_url, TABLE_CASES)
    got = answers("distill", root, db_url, TABLE_CASES)
    differ = []
    for (before, argv), alembic, distill in zip(TABLE_CASES, expected, got, strict=True):
        assert not alembic.code or alembic.rows == sorted(before)  # a refusal changes nothing
        if distill.rows != alembic.rows or not same_outcome(alembic, distill):
            differ.append(
                f"{' '.join(argv)} on {before}: Alembic exit {alembic.code}, rows "
                f"{alembic.rows}; Distill exit {distill.code}, rows {distill.rows}: "
                f"{distill.stderr.strip()}"
            )
    assert not differ, "\n".join(differ)


def same_outcome(alembic: Answer, distill: Answer) -> bool:
    """Both succeeded, or both refused (Distill in one 'distill: error:' line, exit 1)."""
    if not alembic.code:
        return distill.code == 0
    lines = [line for line in distill.stderr.splitlines() if line.strip()]
    return distill.code == 1 and len(lines) == 1 and lines[0].startswith("distill: error: ")


def test_stamp_heads_keeps_the_head_a_database_is_at(db_url: str, tmp_path: Path) -> None:
    # Alembic 1.20 drops the row of a head the table already holds when it
    # stamps 'heads' beside another row: a database at t3aa is then recorded
    # as not having t3aa.  Distill keeps it (found comparing both on this graph).
    root = build(tmp_path / "project", db_url)
    engine = sa.create_engine(db_url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"
        )
    engine.dispose()
    cases: list[Case] = [(["l1aa", "t3aa"], ["stamp", "heads"])]
    [alembic] = answers("alembic", root, db_url, cases)
    assert (alembic.code, alembic.rows) == (0, ["f2aa", "g1aa", "r2aa"])
    [distill] = answers("distill", root, db_url, cases)
    assert (distill.code, distill.rows) == (0, ["f2aa", "g1aa", "r2aa", "t3aa"]), distill.stderr


def test_stamp_refuses_steps_with_one_line_naming_what_to_give(tmp_path: Path) -> None:
    root = build(tmp_path / "project", f"sqlite:///{tmp_path / 'app.db'}")
    done = distill_answer(root, ["stamp", "+1"])
    assert_one_error_line(done, done.stderr)
    assert "stamp '+1': stamp records the revision you name and takes no steps" in done.stderr
    assert "head, heads, base or label@head" in done.stderr


# -- commands that only read the revision files -------------------------------------------

HISTORY = re.compile(r"-> (\w+)")


def listed(output: str) -> set[str]:
    """The revisions a ``history`` or ``show`` output names (its "Rev:" or "-> X" lines)."""
    return set(HISTORY.findall(output)) | set(re.findall(r"^Rev: (\w+)", output, re.M))


# Each command line whose answer Distill shares with Alembic.
SAME_ANSWER: list[list[str]] = [
    ["show", "left@base"],  # prints nothing
    ["show", "feat@base"],
    ["show", "feat@t"],  # t1aa: the one 't...' of branch feat
    ["show", "gee@t"],  # refused: t1aa and t2aa are both on branch gee
    ["show", "g"],  # a one-character prefix
    ["show", "t"],  # refused: ambiguous
    # label@base:heads stays on the branch (its heads and what they need).
    ["history", "-r", "feat@base:heads"],
    ["history", "-r", "gee@base:heads"],
    ["history", "-r", "feat@base:"],
    ["history", "-r", "right@base:heads"],
    ["history", "-r", "feat@t1aa:heads"],
    ["history", "-r", "feat@f1aa:"],
    ["history", "-r", "feat@t:"],
    # An upper end brings what it depends on, as 'upgrade r2aa' runs l1aa, l2aa.
    ["history", "-r", "base:r2aa"],
    ["history", "-r", ":r2aa"],
    ["history", "-r", "right@base:"],
    # A lower end follows down_revision upwards.
    ["history", "-r", "t2aa:"],
    ["history", "-r", "t1aa:feat@head"],
    ["history", "-r", "base:heads"],
]


def test_reading_commands_answer_as_alembic(tmp_path: Path) -> None:
    root = build(tmp_path / "project", f"sqlite:///{tmp_path / 'app.db'}")
    cases = [(None, argv) for argv in SAME_ANSWER]
    expected = answers("alembic", root, f"sqlite:///{tmp_path / 'app.db'}", cases)
    got = answers("distill", root, f"sqlite:///{tmp_path / 'app.db'}", cases)
    differ = []
    for argv, alembic, distill in zip(SAME_ANSWER, expected, got, strict=True):
        if not same_outcome(alembic, distill) or (
            not alembic.code and listed(distill.stdout) != listed(alembic.stdout)
        ):
            differ.append(
                f"{' '.join(argv)}: Alembic exit {alembic.code} {sorted(listed(alembic.stdout))}"
                f"; Distill exit {distill.code} {sorted(listed(distill.stdout))} "
                f"{distill.stderr.strip()}"
            )
    assert not differ, "\n".join(differ)


def test_where_alembic_answers_wrongly_distill_answers_on_purpose(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    root = build(tmp_path / "project", url)
    cases: list[Case] = [
        # Alembic 1.20 lists nothing for branch left, whose head l2aa another
        # branch depends on (while 'left@base:left@head' lists l2aa, l1aa) ...
        (None, ["history", "-r", "left@base:heads"]),
        (None, ["history", "-r", "left@base:left@head"]),
        # ... and refuses the branch from its own root ("does not refer to
        # ancestor/descendant revisions along the same branch").
        (None, ["history", "-r", "left@l1aa:heads"]),
        # t1aa is on branch feat ('feat@base:heads' lists it), yet Alembic
        # lists nothing up to it.
        (None, ["history", "-r", "feat@base:t1aa"]),
        # A range whose upper end reaches the lower one only through
        # depends_on: Alembic fails with an AssertionError.
        (None, ["history", "-r", "l1aa:r2aa"]),
        # An upper end off the branch the lower end names: Alembic lists
        # nothing, exit 0; Distill says why, in one line.
        (None, ["history", "-r", "feat@base:t3aa"]),
    ]
    alembic = answers("alembic", root, url, cases)
    distill = answers("distill", root, url, cases)
    branch_left = {"l1aa", "l2aa"}
    assert [(a.code != 0, listed(a.stdout)) for a in alembic] == [
        (False, set()),
        (False, branch_left),
        (True, set()),  # refused
        (False, set()),
        (True, set()),  # AssertionError
        (False, set()),
    ]
    assert "AssertionError" in alembic[4].stderr
    assert [(d.code, listed(d.stdout)) for d in distill[:5]] == [
        (0, branch_left),
        (0, branch_left),
        (0, branch_left),
        (0, {"t1aa"}),
        (0, {"l1aa", "l2aa", "r2aa"}),  # what 'upgrade l1aa:r2aa --sql' runs, l1aa included
    ], [d.stderr for d in distill]
    assert_one_error_line(distill[5], distill[5].stderr)
    assert "t3aa is not on branch 'feat', where the range starts" in distill[5].stderr


# -- --sql ranges -----------------------------------------------------------------------------


def test_reversed_upgrade_range_is_an_error_not_silence(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    root = build(tmp_path / "project", url)
    cases: list[Case] = [(None, ["upgrade", "t3aa:t1aa", "--sql"])]
    [alembic] = answers("alembic", root, url, cases)
    # Alembic 1.20 writes no SQL and exits 0, as if there were nothing to do;
    # its reversed downgrade range is an error, and so is this one in Distill.
    assert alembic.code == 0 and "alembic_version" not in alembic.stdout
    done = distill_answer(root, cases[0][1])
    assert_one_error_line(done, done.stderr)
    assert done.stdout == ""
    assert "upgrade --sql range 't3aa:t1aa' goes down: t1aa is below t3aa" in done.stderr
    assert "'distill downgrade t3aa:t1aa --sql'" in done.stderr
    # An empty range (already there) stays an empty answer, as in Alembic.
    same = distill_answer(root, ["upgrade", "t2aa:t2aa", "--sql"])
    assert same.returncode == 0 and same.stderr == ""


def test_closed_pipe_under_sql_is_not_blamed_on_the_revision(tmp_path: Path) -> None:
    root = build(tmp_path / "project", f"sqlite:///{tmp_path / 'app.db'}")
    # Far more SQL than a pipe buffers, written from inside the revision.
    (root / "alembic" / "versions" / "t2aa.py").write_text(
        textwrap.dedent(
            """\
            from alembic import op

            revision = 't2aa'
            down_revision = 't1aa'
            branch_labels = None
            depends_on = None


            def upgrade():
                for n in range(20000):
                    op.execute(f"INSERT INTO nowhere VALUES ({n}, 'a line of padding')")


            def downgrade():
                pass
            """
        )
    )
    reader = subprocess.Popen(
        [*DISTILL, "upgrade", "t1aa:t3aa", "--sql"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.readline()  # what 'head -1' takes, then it goes away
    reader.stdout.close()
    stderr = reader.stderr.read().decode()
    code = reader.wait(timeout=120)
    # Quietly, with the shell's code for a closed pipe (128 + SIGPIPE).
    assert (code, stderr) == (141, "")
