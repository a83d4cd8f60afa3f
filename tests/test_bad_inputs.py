"""A corpus of user mistakes: each ends in one line ``distill: error: ...``, exit 1.

Every case runs the real ``distill`` process, so what is checked is exactly
what a person sees: one line on stderr naming what and where, no traceback,
no password, nothing written.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.projects import DISTILL, ProjectDir, make_project

Setup = Callable[[ProjectDir], None]


@dataclass(frozen=True)
class Case:
    name: str
    setup: Setup
    args: tuple[str, ...]
    expect: str  # must appear in the error line


def _settings(text: str) -> Setup:
    def setup(p: ProjectDir) -> None:
        (p.root / "distill.toml").write_text(text)

    return setup


def _append_settings(text: str) -> Setup:
    def setup(p: ProjectDir) -> None:
        path = p.root / "distill.toml"
        path.write_text(path.read_text() + text)

    return setup


def _file(name: str, text: str) -> Setup:
    def setup(p: ProjectDir) -> None:
        (p.versions / name).write_text(text)

    return setup


def _chain(*steps: Setup) -> Setup:
    def setup(p: ProjectDir) -> None:
        for step in steps:
            step(p)

    return setup


def _revs(*specs: tuple[str, object]) -> Setup:
    def setup(p: ProjectDir) -> None:
        for rev, down in specs:
            p.add(rev, down)  # type: ignore[arg-type]

    return setup


def _nothing(_: ProjectDir) -> None:
    pass


def _header(rev: str, down: str) -> str:
    return f'"""m"""\nrevision = "{rev}"\ndown_revision = {down}\n'


LINEAR = _revs(("aaaa11110001", None), ("aaaa11110002", "aaaa11110001"))
FORK = _revs(
    ("bbbb11110001", None), ("bbbb11110002", "bbbb11110001"), ("bbbb11110003", "bbbb11110001")
)
SAMEPREFIX = _revs(("cccc11110001", None), ("cccc22220002", "cccc11110001"))
BAD_PG = "postgresql+psycopg://app:hunter2@127.0.0.1:1/db"

CASES = [
    # -- configuration ---------------------------------------------------------------
    Case(
        "unknown key",
        _settings('script_locaton = "m"\n'),
        ("heads",),
        "did you mean 'script_location'",
    ),
    Case("bad toml", _settings("url = \n"), ("heads",), "not valid TOML"),
    Case("wrong type list", _settings('version_locations = "v"\n'), ("heads",), "must be a list"),
    Case(
        "wrong type bool",
        _settings('transaction_per_migration = "yes"\n'),
        ("heads",),
        "must be true or false",
    ),
    Case(
        "wrong type number",
        _settings('lock_timeout = "soon"\n'),
        ("heads",),
        "must be a number of seconds",
    ),
    Case("bad url scheme", _settings('url = "nonsense"\n'), ("current",), "not a database URL"),
    Case(
        "unknown dialect",
        _settings('url = "nosuchdb://x/y"\n'),
        ("current",),
        "unknown database dialect",
    ),
    Case(
        "unset env in url",
        _settings('url = "postgresql://u:${NO_SUCH_VAR_X}@h/d"\n'),
        ("current",),
        "NO_SUCH_VAR_X is not set",
    ),
    Case("missing -c file", _nothing, ("-c", "nope.toml", "heads"), "does not exist"),
    Case(
        "pyproject without section",
        _chain(
            lambda p: (p.root / "other.toml").write_text("[tool.other]\nx=1\n"),
            lambda p: (p.root / "pyproject.toml").write_text("[project]\nname='x'\n"),
        ),
        ("-c", "pyproject.toml", "heads"),
        "no [tool.distill] section",
    ),
    Case(
        "no url at all",
        _settings('script_location = "migrations"\n'),
        ("current",),
        "no database URL: set url in",
    ),
    Case(
        "bad --url blames the flag",
        _nothing,
        ("--url", "notaurl", "current"),
        "--url/DISTILL_URL: url is not a database URL",
    ),
    Case(
        "missing script folder",
        _settings('script_location = "elsewhere"\n'),
        ("heads",),
        "elsewhere",
    ),
    Case(
        "missing version location",
        _settings('version_locations = ["nowhere"]\n'),
        ("history",),
        "nowhere",
    ),
    Case(
        "two config files",
        _chain(lambda p: (p.root / "pyproject.toml").write_text("[tool.distill]\n")),
        ("heads",),
        "keep one",
    ),
    Case("-C to missing dir", _nothing, ("-C", "no/such/dir", "heads"), "no/such/dir"),
    # -- database URLs and servers ----------------------------------------------------
    Case(
        "unreachable server",
        _settings(f'url = "{BAD_PG}"\n'),
        ("current",),
        "cannot connect to postgresql+psycopg://app:***@127.0.0.1:1/db",
    ),
    Case("unreachable via --url", _nothing, ("--url", BAD_PG, "upgrade", "head"), "cannot connect"),
    Case(
        "wrong password mysql",
        _nothing,
        ("--url", "mysql+pymysql://nosuchuser:hunter2@127.0.0.1:3306/test", "current"),
        "cannot connect to mysql+pymysql://nosuchuser:***@",
    ),
    Case(
        "missing database pg",
        _nothing,
        ("--url", "postgresql+psycopg://postgres:hunter2@127.0.0.1:5432/no_such_db_x", "current"),
        "no_such_db_x",
    ),
    Case(
        "sqlite in missing folder",
        _nothing,
        ("--url", "sqlite:////no/such/folder/x.db", "upgrade", "head"),
        "cannot connect",
    ),
    Case(
        "malformed url",
        _nothing,
        ("--url", "postgresql://u:p@h:notaport/db", "current"),
        "valid database URL",
    ),
    # -- revision files ---------------------------------------------------------------------
    Case(
        "syntax error header",
        _file("x1_broken.py", 'revision = "x1"\ndown_revision = (\n'),
        ("heads",),
        "x1_broken.py",
    ),
    Case(
        "non-literal down_revision",
        _file("x2_dyn.py", _header("x2", "compute()")),
        ("heads",),
        "x2_dyn.py",
    ),
    Case(
        "non-string revision",
        _file("x3_num.py", "revision = 123\ndown_revision = None\n"),
        ("heads",),
        "x3_num.py",
    ),
    Case(
        "duplicate id",
        _chain(
            _file("d1_a.py", _header("dup1dup1", "None")),
            _file("d1_b.py", _header("dup1dup1", "None")),
        ),
        ("heads",),
        "d1_a.py",
    ),
    Case(
        "down_revision pointing nowhere",
        _file("x4_orphan.py", _header("x4x4", '"ffff0000"')),
        ("heads",),
        "x4_orphan.py",
    ),
    Case(
        "cycle",
        _chain(
            _file("c1.py", _header("cyc00001", '"cyc00002"')),
            _file("c2.py", _header("cyc00002", '"cyc00001"')),
        ),
        ("history",),
        "cyc0000",
    ),
    Case(
        "depends_on pointing nowhere",
        _file(
            "x5_dep.py",
            '"""m"""\nrevision = "x5x5"\ndown_revision = None\ndepends_on = "zzzz9999"\n',
        ),
        ("heads",),
        "zzzz9999",
    ),
    Case(
        "duplicate branch label",
        _chain(
            _file(
                "l1.py",
                '"""m"""\nrevision = "lab00001"\ndown_revision = None\nbranch_labels = ("x",)\n',
            ),
            _file(
                "l2.py",
                '"""m"""\nrevision = "lab00002"\ndown_revision = None\nbranch_labels = ("x",)\n',
            ),
        ),
        ("heads",),
        "l1.py",
    ),
    Case(
        "import error in upgrade",
        _chain(
            LINEAR,
            _file(
                "e1_bad.py",
                '"""m"""\nimport no_such_module_xyz\nrevision = "e1e1e1e1"\n'
                'down_revision = "aaaa11110002"\n\ndef upgrade():\n    pass\n',
            ),
        ),
        ("upgrade", "head"),
        "no_such_module_xyz",
    ),
    Case(
        "no upgrade function",
        _chain(
            LINEAR,
            _file("e2_nofn.py", '"""m"""\nrevision = "e2e2e2e2"\ndown_revision = "aaaa11110002"\n'),
        ),
        ("upgrade", "head"),
        "has no upgrade() function",
    ),
    Case(
        "op outside migration",
        _chain(
            LINEAR,
            _file(
                "e3_op.py",
                '"""m"""\nfrom distill import op\nop.execute("x")\nrevision = "e3e3e3e3"\n'
                'down_revision = "aaaa11110002"\n',
            ),
        ),
        ("upgrade", "head"),
        "outside a migration",
    ),
    Case(
        "sqlite rebuild under a view using the dropped column",
        _file(
            "v1_view.py",
            _header("v1v1v1v1", "None")
            + "from distill import op\nimport sqlalchemy as sa\n\ndef upgrade():\n"
            '    op.create_table("t", sa.Column("id", sa.Integer, primary_key=True),'
            ' sa.Column("note", sa.Text))\n'
            '    op.execute("CREATE VIEW v AS SELECT id, note FROM t")\n'
            '    op.drop_column("t", "note")\n',
        ),
        ("upgrade", "head"),
        "view 'v' uses column 'note' of table 't', which this change removes",
    ),
    Case(
        "sqlite rebuild under a trigger using a renamed column",
        _file(
            "v2_trigger.py",
            _header("v2v2v2v2", "None")
            + "from distill import op\nimport sqlalchemy as sa\n\ndef upgrade():\n"
            '    op.create_table("t", sa.Column("id", sa.Integer, primary_key=True),'
            ' sa.Column("note", sa.Text))\n'
            '    op.execute("CREATE TRIGGER trg AFTER UPDATE ON t BEGIN SELECT new.note; END")\n'
            '    with op.batch_alter_table("t") as b:\n'
            '        b.alter_column("note", new_column_name="remark", type_=sa.String(9))\n',
        ),
        ("upgrade", "head"),
        "trigger 'trg' uses column 'note' of table 't', which this change renames to 'remark'",
    ),
    # -- identifiers and the graph ---------------------------------------------------------
    Case("unknown revision", LINEAR, ("upgrade", "ffffffffffff"), "ffffffffffff"),
    Case("ambiguous prefix", SAMEPREFIX, ("show", "cccc"), "cccc11110001"),
    Case("several heads for head", FORK, ("upgrade", "head"), "merge"),
    Case("several heads for revision", FORK, ("revision", "-m", "x"), "merge"),
    Case("downgrade below base", LINEAR, ("downgrade", "-5"), "-5"),
    Case("relative beyond head", LINEAR, ("upgrade", "+7"), "+7"),
    Case("unknown label", LINEAR, ("upgrade", "nolabel@head"), "nolabel"),
    Case("bad relative syntax", LINEAR, ("upgrade", "aaaa11110001+x"), "aaaa11110001+x"),
    Case("stamp a step", LINEAR, ("stamp", "+1"), "stamp '+1': stamp records the revision"),
    Case("stamp current", LINEAR, ("stamp", "current"), "takes no steps"),
    Case("stamp a step from head", LINEAR, ("stamp", "head-1"), "takes no steps"),
    Case(
        "reversed upgrade --sql range",
        LINEAR,
        ("upgrade", "aaaa11110002:aaaa11110001", "--sql"),
        "goes down: aaaa11110001 is below aaaa11110002",
    ),
    Case("downgrade sql without range", LINEAR, ("downgrade", "--sql", "base"), "FROM:TO"),
    Case(
        "rev-id taken", LINEAR, ("revision", "-m", "x", "--rev-id", "aaaa11110001"), "already used"
    ),
    Case(
        "rev-id invalid",
        LINEAR,
        ("revision", "-m", "x", "--rev-id", "no spaces!"),
        "letters, digits or underscores",
    ),
    Case("head not a head", LINEAR, ("revision", "-m", "x", "--head", "aaaa11110001"), "--splice"),
    Case(
        "label taken",
        _chain(
            _file(
                "l3.py",
                '"""m"""\nrevision = "lab00003"\ndown_revision = None\nbranch_labels = ("shop",)\n',
            )
        ),
        ("revision", "-m", "x", "--head", "base", "--branch-label", "shop"),
        "already used",
    ),
    Case(
        "version path not configured",
        LINEAR,
        ("revision", "-m", "x", "--version-path", "somewhere"),
        "version_locations",
    ),
    Case("merge with one head", LINEAR, ("merge", "heads", "-m", "m"), "nothing to merge"),
    Case(
        "depends on unknown",
        LINEAR,
        ("revision", "-m", "x", "--depends-on", "qqqq9999"),
        "qqqq9999",
    ),
    Case(
        "unknown revision in database",
        _chain(LINEAR, lambda p: _stamp_then_delete(p)),
        ("current",),
        "aaaa11110002",
    ),
    Case("show unknown", LINEAR, ("show", "zzzz"), "zzzz"),
    Case("history bad range", LINEAR, ("history", "-r", "nope:head"), "nope"),
    Case("init into non-empty folder", _nothing, ("init", "migrations"), "not empty"),
    # -- autogenerate and check -------------------------------------------------------------
    Case(
        "autogenerate without metadata",
        LINEAR,
        ("revision", "--autogenerate", "-m", "x"),
        "no metadata setting",
    ),
    Case(
        "metadata module missing",
        _append_settings('metadata = "no_such_models:Base.metadata"\n'),
        ("check",),
        "no module named 'no_such_models'",
    ),
    Case(
        "metadata attribute missing",
        _chain(
            lambda p: (p.root / "models_x.py").write_text(
                "import sqlalchemy as sa\nmeta = sa.MetaData()\n"
            ),
            _append_settings('metadata = "models_x:Base.metadata"\n'),
        ),
        ("check",),
        "models_x has no Base.metadata",
    ),
    Case(
        "models raise on import",
        _chain(
            lambda p: (p.root / "models_y.py").write_text("import sqlalchemy as sa\n\n1 / 0\n"),
            _append_settings('metadata = "models_y:meta"\n'),
        ),
        ("revision", "--autogenerate", "-m", "x"),
        "models_y.py:3: ZeroDivisionError",
    ),
    Case(
        "rename without autogenerate",
        LINEAR,
        ("revision", "-m", "x", "--rename", "a:b"),
        "--rename goes with --autogenerate",
    ),
    Case(
        "rename of nothing",
        _chain(
            lambda p: (p.root / "models_z.py").write_text(
                "import sqlalchemy as sa\nmeta = sa.MetaData()\n"
            ),
            _append_settings('metadata = "models_z:meta"\n'),
        ),
        ("revision", "--autogenerate", "-m", "x", "--rename", "users.a:b"),
        "does not drop users.a and add users.b",
    ),
    Case(
        "bad include_object hook",
        _chain(
            lambda p: (p.root / "models_w.py").write_text(
                "import sqlalchemy as sa\nmeta = sa.MetaData()\n"
            ),
            _append_settings('metadata = "models_w:meta"\ninclude_object = "nowhere:fn"\n'),
        ),
        ("check",),
        "include_object = 'nowhere:fn' cannot be loaded",
    ),
]


def _stamp_then_delete(p: ProjectDir) -> None:
    done = p.cli("stamp", "head")
    assert done.returncode == 0, done.stderr
    next(p.versions.glob("aaaa11110002_*.py")).unlink()


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(f.relative_to(root)): f.read_bytes()
        for f in sorted(root.rglob("*"))
        if f.is_file() and "__pycache__" not in f.parts and not f.name.endswith(".db")
    }


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_user_error_is_one_line(case: Case, tmp_path: Path) -> None:
    p = make_project(tmp_path / "proj", f"sqlite:///{tmp_path / 'proj' / 'app.db'}")
    (p.versions / ".gitkeep").write_text("")
    case.setup(p)
    before = snapshot(p.root)
    env = {k: v for k, v in os.environ.items() if k != "DISTILL_URL"}
    done = subprocess.run(
        [*DISTILL, *case.args], cwd=p.root, capture_output=True, text=True, timeout=60, env=env
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("distill: error: "), done.stderr
    assert case.expect in lines[0], lines[0]
    assert "Traceback" not in done.stderr and "hunter2" not in done.stderr
    assert snapshot(p.root) == before, "an error must leave the files as they were"


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 50
