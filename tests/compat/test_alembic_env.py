"""An Alembic project's env.py and scripts, run by Distill (projects made by ``alembic init``)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from distill.compat.alembic_env import complete_config, read_env
from distill.config import load_config
from tests.alembic_projects import alembic_init, edit_ini, prepend_to_env
from tests.alembic_projects import make_app_project as make_project
from tests.projects import DISTILL


@pytest.fixture(autouse=True)
def fresh_app_modules() -> Iterator[None]:
    """Every project here has its own ``app`` package; tests reading env.py in this
    process must import theirs, not one an earlier test left in sys.modules."""

    def forget() -> None:
        for name in [n for n in sys.modules if n == "app" or n.startswith("app.")]:
            del sys.modules[name]

    forget()
    yield
    forget()


def add_to_online_configure(root: Path, text: str) -> None:
    env = root / "alembic" / "env.py"
    source = env.read_text()
    anchor = "connection=connection, target_metadata=target_metadata"
    assert anchor in source
    env.write_text(source.replace(anchor, f"{anchor}, {text}"))


def distill(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DISTILL_URL"}
    return subprocess.run(
        [*DISTILL, *args], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )


def tables(database: Path) -> set[str]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


def test_env_py_names_the_models_and_options(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    prepend_to_env(root, """
        def include_object(object, name, type_, reflected, compare_to):
            return not (type_ == "table" and name.startswith("legacy_"))
    """)  # fmt: skip
    add_to_online_configure(
        root, 'include_object=include_object, compare_type=False, version_table="app_version"'
    )
    findings = read_env(load_config(root, environ={}))
    assert findings is not None and not findings.offline and findings.why_offline is None
    assert findings.configure_calls == 1 and findings.run_calls == 1
    config = complete_config(load_config(root, environ={}))
    assert config.version_table == "app_version"
    assert config.extra["compare_type"] is False
    assert sorted(config.extra["target_metadata"].tables) == ["legacy_things", "users"]

    # The hook leaves legacy_things out: the history matches the models.
    upgraded = distill(root, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    assert tables(root / "app.db") == {"app_version", "users"}
    checked = distill(root, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_offline_branch_is_read_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    edit_ini(root / "alembic.ini", sqlalchemy__url="postgresql+psycopg://u:s3cret@127.0.0.1:9/x")
    findings = read_env(load_config(root, environ={}))
    assert findings is not None and findings.offline
    assert findings.why_offline and "OperationalError" in findings.why_offline
    assert "s3cret" not in findings.why_offline
    doctor = distill(root, "doctor")
    assert "offline configure() is used" in doctor.stdout and "s3cret" not in doctor.stdout


def test_x_arguments_reach_env_py_and_scripts(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    prepend_to_env(root, """
        import pathlib
        pathlib.Path(config.get_main_option("here"), "x.txt").write_text(
            repr(context.get_x_argument(as_dictionary=True))
        )
    """)  # fmt: skip
    script = root / "alembic" / "versions" / "a1_users.py"
    script.write_text(
        script.read_text()
        .replace("from alembic import op", "import alembic\nfrom alembic import context, op")
        .replace(
            "def upgrade():\n",
            "def upgrade():\n"
            "    assert not context.is_offline_mode()\n"
            "    assert op.get_context().dialect.name == 'sqlite'\n"
            "    assert op.get_context().bind is op.get_bind()\n"
            "    assert alembic.op is op and alembic.context is context\n"
            "    tenant = context.get_x_argument(as_dictionary=True)['tenant']\n"
            "    op.execute(sa.text(f'CREATE TABLE seen_{tenant} (id INTEGER)'))\n",
        )
    )
    upgraded = distill(root, "-x", "tenant=acme", "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    assert (root / "x.txt").read_text() == "{'tenant': 'acme'}"
    assert "seen_acme" in tables(root / "app.db")


def test_scripts_see_offline_mode_with_sql(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    script = root / "alembic" / "versions" / "a1_users.py"
    script.write_text(
        script.read_text()
        .replace("from alembic import op", "from alembic import context, op")
        .replace(
            "def upgrade():\n",
            "def upgrade():\n"
            "    if context.is_offline_mode():\n"
            "        suffix = context.get_x_argument(as_dictionary=True)['tenant']\n"
            "        op.execute(f'SELECT 1 AS offline_marker_{suffix}')\n",
        )
    )
    offline = distill(root, "-x", "tenant=acme", "upgrade", "head", "--sql")
    assert offline.returncode == 0, offline.stderr
    assert "offline_marker_acme" in offline.stdout
    assert not (root / "app.db").exists()


def test_prepend_sys_path_finds_models_in_src(tmp_path: Path) -> None:
    root = make_project(tmp_path, models_folder="src")
    edit_ini(root / "alembic.ini", prepend_sys_path="src")
    checked = distill(root, "check")
    assert "users" not in checked.stdout, checked.stdout + checked.stderr
    assert "database is at base" in checked.stdout or checked.returncode == 1
    missing = make_project(tmp_path / "no_path", models_folder="src")
    edit_ini(missing / "alembic.ini", prepend_sys_path=".")
    failed = distill(missing, "check")
    assert failed.returncode == 1
    assert "env.py" in failed.stderr and "ModuleNotFoundError" in failed.stderr


def test_env_py_error_is_one_line_naming_its_line(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    prepend_to_env(root, "raise RuntimeError('boom')")
    failed = distill(root, "upgrade", "head")
    assert failed.returncode == 1
    (line,) = failed.stderr.strip().splitlines()
    env = root / "alembic" / "env.py"
    number = env.read_text().splitlines().index("raise RuntimeError('boom')") + 1
    assert line.startswith("distill: error: ") and f"{env}:{number}: RuntimeError: boom" in line
    assert not (root / "app.db").exists()
    # heads and history read no env.py, as in Alembic
    assert distill(root, "heads").returncode == 0


def test_doctor_on_a_stock_project_and_a_multidb_one(tmp_path: Path) -> None:
    root = make_project(tmp_path / "generic")
    fine = distill(root, "doctor")
    assert fine.returncode == 0, fine.stdout + fine.stderr
    assert "configure(target_metadata=...): honoured" in fine.stdout
    assert "PROBLEM" not in fine.stdout

    multi = tmp_path / "multi"
    alembic_init(multi, template="multidb")
    ini = multi / "alembic.ini"
    ini.write_text(
        ini.read_text()
        .replace("[engine1]\nsqlalchemy.url = driver://user:pass@localhost/dbname",
                 f"[engine1]\nsqlalchemy.url = sqlite:///{multi}/one.db")
        .replace("[engine2]\nsqlalchemy.url = driver://user:pass@localhost/dbname2",
                 f"[engine2]\nsqlalchemy.url = sqlite:///{multi}/two.db")
    )  # fmt: skip
    doctor = distill(multi, "doctor")
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    assert "context.configure() 2 times" in doctor.stdout
    assert "upgrade_token=...): not honoured" in doctor.stdout


@pytest.mark.parametrize("hook", ["include_name", "include_object"])
def test_a_failing_hook_names_itself(tmp_path: Path, hook: str) -> None:
    root = make_project(tmp_path)
    prepend_to_env(root, f"""
        def {hook}(*args):
            raise KeyError("nope")
    """)  # fmt: skip
    add_to_online_configure(root, f"{hook}={hook}")
    failed = distill(root, "check")
    assert failed.returncode == 1
    assert f"the {hook} hook" in failed.stderr and "KeyError" in failed.stderr


def alembic(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_new_revisions_use_the_projects_mako_template_and_alembic_runs_them(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path)
    add_to_online_configure(root, "render_as_batch=True")
    models = root / "app" / "models.py"
    models.write_text(
        models.read_text().replace(
            "    name: Mapped[str] = mapped_column(sa.String(50))\n",
            "    name: Mapped[str] = mapped_column(sa.String(80))\n"
            "    email: Mapped[str | None] = mapped_column(sa.String(255))\n",
        )
    )
    made = distill(root, "revision", "--autogenerate", "-m", "email and longer names",
                   "--rev-id", "b2")  # fmt: skip
    assert made.returncode == 0, made.stderr
    text = (root / "alembic" / "versions" / "b2_email_and_longer_names.py").read_text()
    assert "from alembic import op" in text and "from distill" not in text
    assert "# revision identifiers, used by Alembic." in text  # the project's own template
    assert 'with op.batch_alter_table("users") as batch_op:' in text
    assert "batch_op.alter_column(" in text and "batch_op.add_column(" in text
    compile(text, "b2", "exec")

    plain = distill(root, "revision", "-m", "by hand", "--rev-id", "c3")
    assert plain.returncode == 0, plain.stderr
    by_hand = (root / "alembic" / "versions" / "c3_by_hand.py").read_text()
    assert "    pass" in by_hand and "down_revision: Union[str, Sequence[str], None] = 'b2'" in (
        by_hand
    )
    side = distill(root, "revision", "-m", "side", "--rev-id", "d4", "--head", "b2", "--splice")
    assert side.returncode == 0, side.stderr
    merged = distill(root, "merge", "heads", "-m", "join", "--rev-id", "e5")
    assert merged.returncode == 0, merged.stderr
    assert "('c3', 'd4')" in (root / "alembic" / "versions" / "e5_join.py").read_text()

    # Alembic itself runs every file Distill wrote, on SQLite (batch mode), up and down.
    for args in (["upgrade", "heads"], ["downgrade", "base"], ["upgrade", "heads"]):
        ran = alembic(root, *args)
        assert ran.returncode == 0, ran.stderr
    assert distill(root, "current").stdout.split() == ["e5", "(head)"]
    assert distill(root, "check").returncode == 0


def test_current_reads_env_py_only_when_it_may_name_the_version_table(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    assert distill(root, "upgrade", "head").returncode == 0
    prepend_to_env(root, "open('ran.txt', 'a').write('ran')")
    assert distill(root, "current").stdout.split() == ["a1", "(head)"]
    assert not (root / "ran.txt").exists()  # the models were not imported
    add_to_online_configure(root, 'version_table="app_version"')
    assert distill(root, "current").stdout.strip() == ""  # app_version does not exist yet
    assert (root / "ran.txt").exists()


@pytest.mark.parametrize(
    ("built", "mentioned"),
    [
        # jupyterhub's env.py: options assembled in the file from the file's own dicts
        ("opts = {}\n    opts.update(common)\n    opts['url'] = 'x'", False),
        ("opts = dict(common, version_table='app_version')", True),
        ("import app.models as settings\n    opts = {}\n    opts.update(settings.OPTS)", True),
    ],
)
def test_options_passed_as_a_dict_name_the_version_table_only_where_they_may(
    tmp_path: Path, built: str, mentioned: bool
) -> None:
    from distill.compat.env_text import bookkeeping_in_text

    root = make_project(tmp_path)
    env = root / "alembic" / "env.py"
    env.write_text(
        env.read_text()
        .replace(
            "def run_migrations_offline",
            f"common = dict(compare_type=True)\n\n\ndef options():\n    {built}\n"
            "    return opts\n\n\ndef run_migrations_offline",
        )
        .replace("connection=connection, target_metadata=target_metadata", "**opts")
    )
    config = load_config(root, environ={})
    assert bookkeeping_in_text(config).mentioned is mentioned


def test_the_editor_reads_the_online_branch_without_the_database(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    prepend_to_env(root, """
        def include_object(object, name, type_, reflected, compare_to):
            return name != "legacy_things"
    """)  # fmt: skip
    add_to_online_configure(root, "include_object=include_object")
    # A server nobody could reach: the editor's reading must not need it.
    edit_ini(root / "alembic.ini", sqlalchemy__url="postgresql+psycopg://u@127.0.0.1:9/x")
    findings = read_env(load_config(root, environ={}), mode="editor")
    assert findings is not None and not findings.offline and findings.url is None
    assert callable(findings.options["include_object"])
    doctor = distill(root, "doctor")
    assert "the editor reads env.py's online branch (no database connection)" in doctor.stdout


def test_include_object_gets_the_models_objects(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    models = root / "app" / "models.py"
    models.write_text(
        models.read_text().replace(
            '    __tablename__ = "legacy_things"\n',
            '    __tablename__ = "legacy_things"\n    __table_args__ = {"info": {"skip": True}}\n',
        )
    )
    prepend_to_env(root, """
        seen = []
        visits = []

        def include_object(object, name, type_, reflected, compare_to):
            if type_ == "column" and not reflected:
                assert object.table.name in ("users", "legacy_things"), object
            if type_ == "column" and reflected:  # as Prefect's hook reads its columns
                visits.append((object.table.name, name, object.type.__visit_name__))
            seen.append((type_, name, reflected, type(object).__name__))
            return not object.info.get("skip", False)
    """)  # fmt: skip
    add_to_online_configure(root, "include_object=include_object")
    checked = distill(root, "check")
    assert "legacy_things" not in checked.stdout + checked.stderr, checked.stderr
    assert "raised" not in checked.stderr, checked.stderr  # object.type of a reflected column
    config = complete_config(load_config(root, environ={}))
    from distill.autogen.generate import options_for

    include = options_for(config).include
    assert include is not None
    assert include("table", "legacy_things", None, False, None) is False
    assert include("table", "legacy_things", None, True, None) is True  # a stand-in: empty info
    assert include("column", "name", "users", False, None) is True
    env = config.extra["include_object"].__globals__
    assert ("table", "legacy_things", False, "Table") in env["seen"]
    assert ("column", "name", False, "Column") in env["seen"]
    from distill.schema.model import Column, ColumnType

    reflected = Column("id", ColumnType("integer", "INTEGER", "sa.Integer()"), nullable=False)
    assert include("column", "id", "users", True, reflected) is True
    assert env["visits"] == [("users", "id", "integer")]


def test_the_version_table_is_read_from_env_py_text_where_it_is_a_literal(tmp_path: Path) -> None:
    from distill.compat.env_text import bookkeeping_in_text
    from distill.lsp.session import Session, Settings

    root = make_project(tmp_path)
    config = load_config(root, environ={})
    assert bookkeeping_in_text(config).mentioned is False
    add_to_online_configure(root, 'version_table="app_version", version_table_schema=SCHEMA')
    found = bookkeeping_in_text(config)
    assert found.mentioned and found.literal == {"version_table": "app_version"}
    # The language server runs no project code, and still reads the right table.
    assert Session(root, Settings()).config.version_table == "app_version"


def test_a_metadata_key_serves_when_env_py_sets_no_target_metadata(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    env = root / "alembic" / "env.py"
    env.write_text(
        env.read_text().replace("target_metadata = Base.metadata", "target_metadata = None")
    )
    assert "sets no target_metadata" in distill(root, "check").stderr
    edit_ini(root / "alembic.ini", metadata="app.models:Base.metadata")
    checked = distill(root, "check")
    assert "legacy_things: table in models, not in migrations" in checked.stdout, checked.stderr


def test_prepend_sys_path_serves_a_metadata_key_without_env_py(tmp_path: Path) -> None:
    root = make_project(tmp_path, models_folder="src")
    (root / "alembic" / "env.py").unlink()
    edit_ini(root / "alembic.ini", prepend_sys_path="src", metadata="app.models:Base.metadata")
    checked = distill(root, "check")
    assert "legacy_things: table in models, not in migrations" in checked.stdout, checked.stderr
