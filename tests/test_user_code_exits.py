"""The project's code ends or stalls ``distill``: never a silent success, never a hang.

``sys.exit()`` in a revision's ``upgrade()``/``downgrade()``, in the models'
import or in an Alembic project's env.py, and an endless loop in the models,
each end the real ``distill`` process with one line ``distill: error: ...``
naming the file and line, exit code 1, and nothing half-applied.  Also: an
Alembic project without env.py, and a ``distill.toml`` that is a folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from distill.sandbox.client import timed_out
from tests.alembic_projects import edit_ini, prepend_to_env
from tests.alembic_projects import make_app_project as make_alembic_project
from tests.projects import DISTILL, ProjectDir, make_project

# statement -> how the error line shows it
EXITS = {
    "sys.exit(0)": "called sys.exit(0)",
    "sys.exit(3)": "called sys.exit(3)",
    'sys.exit("stop here")': "called sys.exit('stop here')",
    "raise SystemExit": "called sys.exit()",
}
EXIT_IDS = ["exit0", "exit3", "exit_msg", "raise_SystemExit"]


@pytest.fixture(autouse=True)
def fresh_app_modules() -> Iterator[None]:
    """The Alembic helpers import ``app`` in this process; each test needs its own."""
    yield
    for name in [n for n in sys.modules if n == "app" or n.startswith("app.")]:
        del sys.modules[name]


def one_error(done: subprocess.CompletedProcess[str], *parts: str) -> str:
    """The single error line, after checking exit code 1, no traceback, and ``parts`` in it."""
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    (line,) = lines
    assert line.startswith("distill: error: "), line
    for part in parts:
        assert part in line, (part, line)
    return line


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def run(root: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DISTILL_URL"}
    return subprocess.run(
        [*DISTILL, *args], cwd=root, env=env, capture_output=True, text=True, timeout=timeout
    )


def table_names(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def version_rows(url: str, table: str = "distill_version") -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {row[0] for row in conn.execute(sa.text(f"SELECT version_num FROM {table}"))}
    finally:
        engine.dispose()


# -- a revision's upgrade() and downgrade() --------------------------------------------------


def two_revisions(p: ProjectDir, *, upgrade: str = "", downgrade: str = "") -> Path:
    p.add("a1", None, 'op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))')
    return p.add(
        "a2",
        "a1",
        'op.create_table("u", sa.Column("id", sa.Integer, primary_key=True))\n' + upgrade,
        'op.drop_table("u")\n' + downgrade,
        header="import sys\n",
    )


@pytest.mark.parametrize("statement", EXITS, ids=EXIT_IDS)
def test_an_exit_in_upgrade_is_an_error_and_rolls_the_revision_back(
    tmp_path: Path, db_url: str, dialect_name: str, statement: str
) -> None:
    p = make_project(tmp_path / "proj", db_url)
    a2 = two_revisions(p, upgrade=statement)
    done = p.cli("upgrade", "head")
    at = f"{a2}:{line_of(a2, statement)}"
    line = one_error(done, f"upgrade of revision a2 ({a2}) {EXITS[statement]} at {at}")
    assert version_rows(db_url) == {"a1"}  # the revision before it stays applied
    if dialect_name == "mariadb":
        assert "1 statement(s) of it already ran" in line and "CREATE TABLE u" in line
        assert "u" in table_names(db_url)
    else:
        assert "nothing of it was applied, the database is still at a1" in line
        assert "u" not in table_names(db_url)


@pytest.mark.parametrize("statement", EXITS, ids=EXIT_IDS)
def test_an_exit_in_downgrade_is_an_error_and_rolls_the_revision_back(
    tmp_path: Path, db_url: str, dialect_name: str, statement: str
) -> None:
    p = make_project(tmp_path / "proj", db_url)
    a2 = two_revisions(p, downgrade=statement)
    assert p.cli("upgrade", "head").returncode == 0
    done = p.cli("downgrade", "-1")
    at = f"{a2}:{line_of(a2, statement)}"
    line = one_error(done, f"downgrade of revision a2 ({a2}) {EXITS[statement]} at {at}")
    assert version_rows(db_url) == {"a2"}
    if dialect_name == "mariadb":
        assert "1 statement(s) of it already ran" in line and "DROP TABLE u" in line
    else:
        assert "nothing of it was applied, the database is still at a2" in line
        assert "u" in table_names(db_url)


def test_an_exit_while_a_revision_file_loads(tmp_path: Path) -> None:
    p = make_project(tmp_path / "proj", "sqlite:///app.db")
    path = p.add("a1", None, 'op.create_table("t", sa.Column("id", sa.Integer))')
    path.write_text(path.read_text() + "\nimport sys\nsys.exit(0)\n")
    at = f"{path}:{line_of(path, 'sys.exit(0)')}"
    one_error(p.cli("upgrade", "head"), f"{path}: called sys.exit(0) at {at}", "nothing of it ran")
    assert "t" not in table_names(f"sqlite:///{p.root / 'app.db'}")


def test_an_exit_in_upgrade_while_check_replays_the_migrations(tmp_path: Path) -> None:
    p = make_project(tmp_path / "proj", "sqlite:///app.db", 'metadata = "models:metadata"\n')
    (p.root / "models.py").write_text("import sqlalchemy as sa\nmetadata = sa.MetaData()\n")
    a2 = two_revisions(p, upgrade="sys.exit(0)")
    at = f"{a2}:{line_of(a2, 'sys.exit(0)')}"
    for args in (("check",), ("revision", "--autogenerate", "-m", "more")):
        one_error(p.cli(*args), f"{at}: upgrade() called sys.exit(0)")
    assert sorted(f.name for f in p.versions.glob("*.py")) == ["a1_a1.py", "a2_a2.py"]


def test_an_exit_in_upgrade_with_sql_is_an_error(tmp_path: Path) -> None:
    p = make_project(tmp_path / "proj", "sqlite:///app.db")
    a2 = two_revisions(p, upgrade="sys.exit(0)")
    done = p.cli("upgrade", "head", "--sql")
    assert "CREATE TABLE t" in done.stdout  # the revision before it, printed
    one_error(
        done,
        f"upgrade of revision a2 ({a2}) called sys.exit(0) at {a2}:{line_of(a2, 'sys.exit')}",
        "the SQL written before this error is incomplete",
    )


def test_ctrl_c_in_user_code_still_stops_distill(tmp_path: Path) -> None:
    p = make_project(tmp_path / "proj", "sqlite:///app.db")
    two_revisions(p, upgrade="raise KeyboardInterrupt")
    done = p.cli("upgrade", "head")
    assert done.returncode == 130 and done.stderr.strip() == "distill: error: interrupted"


# -- the models' import -----------------------------------------------------------------------


def models_project(
    tmp_path: Path, models_tail: str, settings: str = "", url: str = "sqlite:///app.db"
) -> ProjectDir:
    p = make_project(tmp_path / "proj", url, f'metadata = "models:metadata"\n{settings}')
    (p.root / "models.py").write_text(
        "import sys\nimport sqlalchemy as sa\nmetadata = sa.MetaData()\n"
        'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True))\n' + models_tail
    )
    return p


@pytest.mark.parametrize("statement", EXITS, ids=EXIT_IDS)
def test_an_exit_in_the_models_fails_check_and_autogenerate(
    tmp_path: Path, db_url: str, statement: str
) -> None:
    p = models_project(tmp_path, statement + "\n", url=db_url)
    models = p.root / "models.py"
    expected = (
        f"the models could not be loaded: importing models {EXITS[statement]} "
        f"at {models}:{line_of(models, statement)}"
    )
    one_error(p.cli("check"), expected)
    one_error(p.cli("revision", "--autogenerate", "-m", "t"), expected)
    assert list(p.versions.glob("*.py")) == []
    assert table_names(db_url) == set()


def test_an_exit_in_a_hook_is_an_error_not_a_success(tmp_path: Path) -> None:
    p = models_project(tmp_path, "", 'include_object = "hooks:include"\n')
    hooks = p.root / "hooks.py"
    hooks.write_text("import sys\n\n\ndef include(*args):\n    sys.exit(0)\n")
    one_error(
        p.cli("check"),
        f"the project's code called sys.exit(0) at {hooks}:5; distill stopped there",
    )


# -- an Alembic project's env.py ----------------------------------------------------------------


@pytest.mark.parametrize("statement", EXITS, ids=EXIT_IDS)
def test_an_exit_in_env_py_fails_upgrade_check_and_autogenerate(
    tmp_path: Path, db_url: str, statement: str
) -> None:
    root = make_alembic_project(tmp_path / "proj")
    edit_ini(root / "alembic.ini", sqlalchemy__url=db_url.replace("%", "%%"))
    prepend_to_env(root, f"import sys\n{statement}")
    env = root / "alembic" / "env.py"
    expected = f"{env}: {EXITS[statement]} at {env}:{line_of(env, statement)}"
    one_error(run(root, "upgrade", "head"), expected, "nothing of it ran")
    assert table_names(db_url) == set()
    one_error(run(root, "check"), expected)
    one_error(run(root, "revision", "--autogenerate", "-m", "more"), expected)
    assert [f.name for f in (root / "alembic" / "versions").glob("*.py")] == ["a1_users.py"]


def test_an_exit_in_models_that_env_py_imports_names_the_models_line(tmp_path: Path) -> None:
    root = make_alembic_project(tmp_path / "proj")
    models = root / "app" / "models.py"
    models.write_text(models.read_text() + "import sys\nsys.exit(4)\n")
    at = f"{models}:{line_of(models, 'sys.exit(4)')}"
    one_error(run(root, "upgrade", "head"), f"{root / 'alembic' / 'env.py'}: called sys.exit(4)")
    one_error(run(root, "check"), f"called sys.exit(4) at {at}")
    assert not (root / "app.db").exists()


# -- the timeout on importing the models ----------------------------------------------------------

ENDLESS = "n = 0\nwhile True:\n    n += 1\n"


def timed(p_root: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = run(p_root, *args, timeout=60)
    return done, time.monotonic() - started


def test_endless_models_stop_at_the_timeout_option(tmp_path: Path) -> None:
    p = models_project(tmp_path, ENDLESS)
    models = p.root / "models.py"
    for args in (
        ("--timeout", "2", "check"),
        ("revision", "--autogenerate", "-m", "x", "--timeout", "2"),
    ):
        done, took = timed(p.root, *args)
        editor_words = timed_out(2).error.message  # type: ignore[union-attr]
        assert editor_words == "timed out after 2 s"
        one_error(
            done,
            f"the models could not be loaded: {editor_words} in {models}:",
            "(while importing models)",
            "--timeout",
        )
        assert 2 <= took < 30
    assert list(p.versions.glob("*.py")) == []


def test_endless_models_stop_at_the_timeout_setting(tmp_path: Path) -> None:
    p = models_project(
        tmp_path, "import time\nwhile True:\n    time.sleep(0.05)\n", "timeout = 1.5\n"
    )
    models = p.root / "models.py"
    done, took = timed(p.root, "check")
    one_error(done, f"timed out after 1.5 s in {models}:{line_of(models, 'time.sleep')}")
    assert 1.5 <= took < 30
    # the option wins over the setting
    one_error(timed(p.root, "check", "--timeout", "1")[0], "timed out after 1 s in")
    # 0 is no limit: the models load and check compares them
    models.write_text(models.read_text().replace("while True", "while False"))
    done = p.cli("--timeout", "0", "check")
    assert done.stderr == "" and "t: table in models, not in migrations" in done.stdout


def test_endless_models_imported_by_env_py_stop_at_the_ini_timeout(tmp_path: Path) -> None:
    root = make_alembic_project(tmp_path / "proj")
    edit_ini(root / "alembic.ini", timeout="2")
    models = root / "app" / "models.py"
    models.write_text(models.read_text() + ENDLESS)
    done, took = timed(root, "check")
    one_error(
        done,
        f"the models could not be loaded: timed out after 2 s in {models}:",
        f"(while running {root / 'alembic' / 'env.py'})",
    )
    assert 2 <= took < 30


@pytest.mark.parametrize("value", ["-1", '"soon"', "true", "nan"])
def test_a_bad_timeout_setting_is_refused(tmp_path: Path, value: str) -> None:
    p = models_project(tmp_path, "", f"timeout = {value}\n")
    one_error(p.cli("check"), f"{p.root / 'distill.toml'}: 'timeout' must be")


def test_a_bad_timeout_option_is_a_usage_error(tmp_path: Path) -> None:
    p = models_project(tmp_path, "")
    for value in ("-1", "nan", "soon"):
        done = p.cli("--timeout", value, "check")
        assert done.returncode == 2 and "argument --timeout" in done.stderr


# -- an Alembic project without env.py; a distill.toml that is a folder ----------------------------


def test_an_alembic_project_without_env_py_is_refused_as_alembic_refuses_it(
    tmp_path: Path,
) -> None:
    root = make_alembic_project(tmp_path / "proj")
    env = root / "alembic" / "env.py"
    env.unlink()
    alembic = [sys.executable, "-m", "alembic"]
    for command in (
        ["upgrade", "head"],
        ["downgrade", "base"],
        ["stamp", "head"],
        ["current"],
        ["check"],
    ):
        real = subprocess.run([*alembic, *command], cwd=root, capture_output=True, text=True)
        assert real.returncode == 1 and f"Can't find Python file {env}" in real.stderr
        one_error(run(root, *command), f"{env} does not exist", "restore env.py")
    assert not (root / "app.db").exists()
    # heads reads no env.py, in Alembic as in Distill
    assert subprocess.run([*alembic, "heads"], cwd=root, capture_output=True).returncode == 0
    assert run(root, "heads").returncode == 0


def test_a_distill_toml_folder_is_an_error_not_skipped(tmp_path: Path) -> None:
    outer = make_project(tmp_path / "outer", "sqlite:///app.db")
    folder = outer.root / "inner" / "distill.toml"
    folder.mkdir(parents=True)
    one_error(run(folder.parent, "heads"), f"{folder} is a folder, not a settings file")
    one_error(
        run(folder.parent, "-c", "distill.toml", "heads"), f"config file {folder} is a folder"
    )
