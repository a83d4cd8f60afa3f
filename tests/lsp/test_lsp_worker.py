"""The language server's model worker, with real processes: what a build returns,
what the user's mistakes become, and that nothing the models do harms the server.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import time
import types
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from distill.caches import cache_for
from distill.errors import ScriptError
from distill.lsp.session import Session, Settings, replay_targets
from distill.replay.recorder import replay
from distill.sandbox.client import ModelError, ModelsResult, ModelWorker
from distill.sandbox.protocol import BuildRequest, MigrationsResult, dump, restricted_loads
from distill.schema.from_metadata import schema_from_metadata
from distill.schema.model import Schema
from tests.projects import ProjectDir
from tests.projects import make_project as make_migrations

SPEC = "app.models:Base.metadata"
MODELS = """\
import enum

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.mixins import Stamped


class Base(DeclarativeBase):
    pass


class Mood(enum.Enum):
    happy = "happy"
    sad = "sad"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column("full_name", sa.String(80), index=True)
    mood: Mapped[Mood] = mapped_column(sa.Enum(Mood, name="mood"), default=Mood.happy)


class Post(Stamped, Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(sa.String(200), server_default="untitled")


audit = sa.Table(
    "audit",
    Base.metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)
"""
MIXINS = """\
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column


class Stamped:
    created: Mapped[int] = mapped_column(sa.Integer, default=0)
"""


def make_project(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(MODELS)
    (root / "app" / "mixins.py").write_text(MIXINS)
    (root / "distill.toml").write_text(f'metadata = "{SPEC}"\n')
    return root.resolve()


def line_of(text: str, start: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start))


def edited(old: str, new: str) -> str:
    assert old in MODELS
    return MODELS.replace(old, new, 1)


def in_process_schema(root: Path, dialect: str) -> Schema:
    """The same models imported here, under fresh module names, without writing a .pyc."""
    modules: dict[str, types.ModuleType] = {}
    try:
        for name, text in (("app.mixins", MIXINS), ("app.models", MODELS)):
            module = types.ModuleType(f"distill_test_{uuid.uuid4().hex}")
            module.__file__ = str(root / "app" / f"{name.split('.')[1]}.py")
            sys.modules[module.__name__] = module
            modules[name] = module
            source = text.replace("from app.mixins", f"from {modules['app.mixins'].__name__}")
            exec(compile(source, module.__file__, "exec"), module.__dict__)
        metadata = modules["app.models"].Base.metadata
        return schema_from_metadata(metadata, sa.engine.URL.create(dialect).get_dialect()())
    finally:
        for module in modules.values():
            sys.modules.pop(module.__name__, None)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="module")
def worker(root: Path) -> Iterator[ModelWorker]:
    """One warm worker for the tests that leave it as they found it (builds are ~20 ms)."""
    shared = ModelWorker(root, SPEC, "sqlite")
    try:
        yield shared
    finally:
        shared.close()


def models_file(root: Path) -> str:
    return str(root / "app" / "models.py")


def ok(result: ModelsResult) -> Schema:
    assert result.error is None, result.error
    assert result.schema is not None
    return result.schema


# -- what a build returns -------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql+psycopg"])
def test_the_schema_is_the_one_built_in_process(tmp_path: Path, dialect: str) -> None:
    root = make_project(tmp_path)
    worker = ModelWorker(root, SPEC, dialect)
    try:
        schema = ok(worker.build())
    finally:
        worker.close()
    assert schema == in_process_schema(root, dialect)
    assert [t.name for t in schema.tables] == ["audit", "posts", "users"]
    if dialect.startswith("postgresql"):
        assert [e.name for e in schema.enums] == ["mood"]


def test_origins_name_the_class_its_line_and_attributes(root: Path, worker: ModelWorker) -> None:
    result = worker.build()
    ok(result)
    origins = {o.table: o for o in result.origins}
    users = origins["users"]
    assert (users.class_name, users.file) == ("User", models_file(root))
    assert users.line == line_of(MODELS, "class User(")
    assert users.attributes == {"id": "id", "full_name": "name", "mood": "mood"}
    posts = origins["posts"]
    assert posts.line == line_of(MODELS, "class Post(")
    assert posts.attributes["created"] == "created"  # from the mixin, still the Post table's
    audit = origins["audit"]
    assert (audit.class_name, audit.file, audit.line, audit.attributes) == (None, None, None, {})
    assert result.files == (
        str(root / "app" / "__init__.py"),
        str(root / "app" / "mixins.py"),
        models_file(root),
    )


IMPERATIVE = """
from sqlalchemy.orm import registry

things_registry = registry(metadata=Base.metadata)
things = sa.Table("things", Base.metadata, sa.Column("id", sa.Integer, primary_key=True),
                  sa.Column("label", sa.String(20)))


class Thing:
    pass


things_registry.map_imperatively(Thing, things, properties={"title": things.c.label})


class Admin(User):  # single-table inheritance: the users table stays User's
    pass
"""


def test_origins_of_imperative_mappings_and_inheritance(root: Path, worker: ModelWorker) -> None:
    text = MODELS + IMPERATIVE
    result = worker.build({models_file(root): text})
    ok(result)
    origins = {o.table: o for o in result.origins}
    assert (origins["things"].class_name, origins["things"].line) == (
        "Thing",
        line_of(text, "class Thing:"),
    )
    assert origins["things"].attributes == {"id": "id", "label": "title"}
    assert origins["users"].class_name == "User"


def test_an_unsaved_buffer_is_built_and_nothing_is_written(root: Path, worker: ModelWorker) -> None:
    text = edited(
        "    mood: Mapped[Mood]",
        "    email: Mapped[str] = mapped_column(sa.String(255))\n    mood: Mapped[Mood]",
    )
    text = "\n\n" + text  # the class moves down two lines in the buffer only
    result = worker.build({models_file(root): text})
    users = ok(result).table("users")
    assert users is not None and users.column("email") is not None
    origin = next(o for o in result.origins if o.table == "users")
    assert origin.line == line_of(text, "class User(")
    assert origin.attributes["email"] == "email"
    assert Path(models_file(root)).read_text() == MODELS
    assert list(root.rglob("*.pyc")) == []


def test_each_build_imports_afresh_and_the_second_is_faster(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    worker = ModelWorker(root, SPEC, "sqlite")
    try:
        first = worker.build({models_file(root): edited("String(80)", "String(81)")})
        second = worker.build({models_file(root): edited("String(80)", "String(82)")})
    finally:
        worker.close()
    for result, length in ((first, 81), (second, 82)):
        column = ok(result).table("users").column("full_name")  # type: ignore[union-attr]
        assert column is not None and column.type.length == length
    print(f"\nfirst build {first.seconds:.3f} s, warm build {second.seconds:.3f} s")


def test_the_host_warms_third_party_imports_and_never_the_project(tmp_path: Path) -> None:
    """Each import appends to a log: the project's once per build, a library's once in all
    the children (the first) and once in the host, which the next children inherit."""
    log = tmp_path / "imports.log"
    site = tmp_path / "site"
    site.mkdir()
    (site / "sidecar.py").write_text(f"open({str(log)!r}, 'a').write('sidecar\\n')\n")
    root = make_project(tmp_path / "project")
    text = MODELS + f"import sidecar\nopen({str(log)!r}, 'a').write('models\\n')\n"
    paths = [str(site), *filter(None, [os.environ.get("PYTHONPATH")])]
    worker = ModelWorker(
        root, SPEC, "sqlite", env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    )
    try:
        for _ in range(3):
            ok(worker.build({models_file(root): text}))
    finally:
        worker.close()
    assert log.read_text().split() == ["sidecar", "models", "sidecar", "models", "models"]


def test_builds_from_two_threads_take_turns(root: Path, worker: ModelWorker) -> None:
    results: list[ModelsResult] = []
    threads = [threading.Thread(target=lambda: results.append(worker.build())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and all(r.error is None for r in results)


# -- the user's mistakes --------------------------------------------------------------------


def test_a_syntax_error_names_file_line_and_column(root: Path, worker: ModelWorker) -> None:
    text = edited('    __tablename__ = "posts"', '    __tablename__ = = "posts"')
    result = worker.build({models_file(root): text})
    assert result.error is not None and result.schema is None
    assert result.error.kind == "syntax"
    assert result.error.message.startswith("SyntaxError: ")
    assert result.error.file == models_file(root)
    assert result.error.line == line_of(text, '    __tablename__ = = "posts"')
    assert result.error.column is not None and result.error.column > 1
    assert models_file(root) in result.files  # still watched, though it did not import


def test_a_name_error_at_module_level(root: Path, worker: ModelWorker) -> None:
    text = edited("sa.String(200)", "sa.Strng(200)")
    error = worker.build({models_file(root): text}).error
    assert error is not None
    assert (error.kind, error.file) == ("import", models_file(root))
    assert error.message == "AttributeError: module 'sqlalchemy' has no attribute 'Strng'"
    assert error.line == line_of(text, "    title: Mapped[str]")
    text = edited(
        "    id: Mapped[int] = mapped_column(primary_key=True)\n    name",
        "    id: Mapped[int] = mapped_column(primary_key=True)\n    x = Strng\n    name",
    )
    error = worker.build({models_file(root): text}).error
    assert error is not None
    assert error.message == "NameError: name 'Strng' is not defined"
    assert error.line == line_of(text, "    x = Strng")


def test_an_error_points_at_the_innermost_project_file(root: Path, worker: ModelWorker) -> None:
    mixins = str(root / "app" / "mixins.py")
    error = worker.build({mixins: MIXINS + "\n1 / 0\n"}).error
    assert error is not None
    assert (error.kind, error.file, error.line) == ("import", mixins, MIXINS.count("\n") + 2)
    assert error.message == "ZeroDivisionError: division by zero"


def test_a_missing_package(root: Path, worker: ModelWorker) -> None:
    text = "import no_such_package_xyz\n" + MODELS
    error = worker.build({models_file(root): text}).error
    assert error is not None
    assert (error.kind, error.file, error.line) == ("import", models_file(root), 1)
    assert error.message == "ModuleNotFoundError: No module named 'no_such_package_xyz'"


def test_sys_exit_in_the_models(root: Path, worker: ModelWorker) -> None:
    text = MODELS + "import sys\nsys.exit(3)\n"
    error = worker.build({models_file(root): text}).error
    assert error is not None
    assert (error.kind, error.message) == ("import", "called sys.exit(3)")
    assert (error.file, error.line) == (models_file(root), line_of(text, "sys.exit"))


def test_infinite_recursion_in_the_models(root: Path, worker: ModelWorker) -> None:
    text = MODELS + "def again():\n    return again()\nagain()\n"
    error = worker.build({models_file(root): text}).error
    assert error is not None
    assert (error.kind, error.file) == ("import", models_file(root))
    assert error.message.startswith("RecursionError: maximum recursion depth exceeded")
    assert error.line == line_of(text, "    return again()")


def test_os_exit_in_the_models_is_a_crash(root: Path, worker: ModelWorker) -> None:
    error = worker.build({models_file(root): MODELS + "import os\nos._exit(5)\n"}).error
    assert error is not None
    assert error.kind == "crash"
    assert "exited with code 5" in error.message
    ok(worker.build())


def test_a_signal_in_the_models_is_a_crash(root: Path, worker: ModelWorker) -> None:
    text = MODELS + "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n"
    error = worker.build({models_file(root): text}).error
    assert error is not None
    assert (error.kind, error.message) == (
        "crash",
        "the models process was killed by SIGSEGV before sending a result",
    )


def test_a_bad_setting_is_a_config_error(root: Path) -> None:
    for spec, words in (
        ("app.models:Base.metdata", "stopped at 'metdata'"),
        ("app.nope:Base.metadata", "no module named 'app.nope'"),
    ):
        worker = ModelWorker(root, spec, "sqlite")
        try:
            error = worker.build().error
        finally:
            worker.close()
        assert error is not None and error.kind == "config"
        assert words in error.message
        assert error.file == str(root / "distill.toml")


def test_prints_do_not_disturb_the_protocol(root: Path, worker: ModelWorker) -> None:
    noise = (
        "import os, sys\nprint('x' * 70_000)\nsys.stdout.write('\\0' * 9)\n"
        "sys.stdout.flush()\nos.write(1, b'from C code')\ninput_value = input()\n"
    )
    result = worker.build(
        {models_file(root): MODELS.replace("class Base", noise + "class Base", 1)}
    )
    # input() reads EOF, not the protocol's bytes: an import error like any other
    assert result.error is not None and result.error.message.startswith("EOFError")
    ok(worker.build({models_file(root): noise.replace("input_value = input()\n", "") + MODELS}))


# -- the processes ---------------------------------------------------------------------------


def test_a_hang_times_out_and_the_next_build_works(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    worker = ModelWorker(root, SPEC, "sqlite", timeout=1.0)
    try:
        host = None
        result = worker.build({models_file(root): "import time\ntime.sleep(60)\n" + MODELS})
        host = worker.host_pid
        assert result.error is not None
        # Interrupted where it runs, so the editor underlines that line.
        where = models_file(root)
        assert (result.error.kind, result.error.message) == (
            "timeout", f"timed out after 1 s in {where}:2"
        )  # fmt: skip
        assert (result.error.file, result.error.line) == (where, 2)
        assert result.seconds < 10
        ok(worker.build())
        assert worker.host_pid == host  # the child ended by itself, the host lives on
    finally:
        worker.close()


def test_a_killed_host_is_restarted(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    worker = ModelWorker(root, SPEC, "sqlite")
    try:
        ok(worker.build())
        first = worker.host_pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        ok(worker.build())
        assert worker.host_pid not in (None, first)
    finally:
        worker.close()


def test_close_leaves_no_process_behind(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    worker = ModelWorker(root, SPEC, "sqlite")
    ok(worker.build())
    host = worker.host_pid
    assert host is not None
    worker.close()
    worker.close()
    with pytest.raises(ProcessLookupError):
        os.kill(host, 0)
    error = worker.build().error
    assert error is not None and error.kind == "crash" and "closed" in error.message


def test_close_ends_a_build_in_progress(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    worker = ModelWorker(root, SPEC, "sqlite", timeout=30)
    ok(worker.build())
    hang = {models_file(root): "import time\ntime.sleep(60)\n" + MODELS}
    results: list[ModelsResult] = []
    thread = threading.Thread(target=lambda: results.append(worker.build(hang)))
    thread.start()
    time.sleep(0.3)
    worker.close()
    thread.join(5)
    assert not thread.is_alive()
    assert results[0].error == ModelError("crash", "the model worker is closed")


def test_the_fallback_without_fork_gives_the_same_results(root: Path, worker: ModelWorker) -> None:
    fallback = ModelWorker(root, SPEC, "sqlite", fork=False)
    broken = {models_file(root): edited("sa.String(200)", "sa.Strng(200)")}
    try:
        for overlays in ({}, broken):
            expected, got = worker.build(overlays), fallback.build(overlays)
            assert (got.schema, got.origins, got.files, got.error) == (
                expected.schema,
                expected.origins,
                expected.files,
                expected.error,
            )
        assert fallback.host_pid is None
    finally:
        fallback.close()


# -- the migrations, replayed in the same build ------------------------------------------------

USERS = """\
op.create_table(
    "users",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("full_name", sa.String(80), nullable=False),
)
op.create_index("ix_users_full_name", "users", ["full_name"])
"""
POSTS = """\
op.create_table(
    "posts",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
)
"""


def migrated_project(root: Path, url: str = "sqlite:///app.db", *bodies: str) -> ProjectDir:
    """The models project, with settings for migrations and revisions r1, r2, ..."""
    make_project(root)
    project = make_migrations(root.resolve(), url, f'metadata = "{SPEC}"\n')
    down = None
    for number, body in enumerate(bodies or (USERS, POSTS), start=1):
        project.add(f"r{number}", down, body)
        down = f"r{number}"
    return project


def revision_file(project: ProjectDir, rev: str) -> str:
    return str(next(project.versions.glob(f"{rev}_*.py")))


def test_a_build_with_targets_replays_as_in_process(tmp_path: Path) -> None:
    project = migrated_project(tmp_path)
    for path in project.versions.glob("*.py"):
        os.utime(path, (time.time() - 60,) * 2)  # not "racy": replays of it may be kept
    graph = project.project().graph
    dialect = sa.engine.URL.create("sqlite").get_dialect()()
    worker = ModelWorker(project.root, SPEC, "sqlite")
    try:
        first = worker.build(targets=("heads", "r1"))
        again = worker.build(targets=["heads"])  # from the replay cache the first one filled
        models_only = worker.build()
    finally:
        worker.close()
    assert ok(first) == in_process_schema(project.root, "sqlite")
    assert (first.migrations.error, first.migrations.notes) == (None, ())
    assert first.migrations.schemas == {
        "heads": replay(graph, dialect).schema,
        "r1": replay(graph, dialect, "r1").schema,
    }
    assert [t.name for t in first.migrations.schemas["heads"].tables] == ["posts", "users"]
    assert again.migrations.schemas == {"heads": first.migrations.schemas["heads"]}
    assert (models_only.migrations.schemas, models_only.migrations.error) == ({}, None)
    assert list(cache_for(project.versions, "replay").glob("*.pickle"))
    assert not (project.versions / "__pycache__").exists()  # nothing of Distill's in the project


HANG = "import time\ntime.sleep(60)"


@pytest.mark.parametrize("fork", [True, False], ids=["host", "one-shot"])
def test_a_hanging_revision_times_out_and_the_next_build_works(tmp_path: Path, fork: bool) -> None:
    project = migrated_project(tmp_path, "sqlite:///app.db", USERS, HANG)
    worker = ModelWorker(project.root, SPEC, "sqlite", timeout=2.0, fork=fork)
    try:
        result = worker.build(targets=("heads",))
        host = worker.host_pid
        ok(result)  # the models' part stands
        error = result.migrations.error
        assert error is not None and result.migrations.schemas == {}
        assert error.kind == "timeout"
        assert error.message.startswith("replaying the migrations timed out after 2 s in ")
        line = line_of(Path(revision_file(project, "r2")).read_text(), "    time.sleep(60)")
        assert (error.file, error.line) == (revision_file(project, "r2"), line)
        assert result.seconds < 10
        project.add("r2", "r1", POSTS)
        fixed = worker.build(targets=("heads",))
        assert fixed.migrations.error is None
        assert fixed.migrations.schemas["heads"].table("posts") is not None
        assert worker.host_pid == host  # the child was killed, not the host
    finally:
        worker.close()


def test_a_revision_deaf_to_the_deadline_is_stopped_by_the_host(tmp_path: Path) -> None:
    deaf = "import signal\nsignal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])\n" + HANG
    project = migrated_project(tmp_path, "sqlite:///app.db", USERS, deaf)
    worker = ModelWorker(project.root, SPEC, "sqlite", timeout=2.0)
    try:
        result = worker.build(targets=("heads",))
        ok(result)
        assert result.migrations.error == ModelError(
            "timeout", "replaying the migrations timed out after 2 s"
        )
        assert result.seconds < 10
        ok(worker.build())
    finally:
        worker.close()


def test_a_raising_revision_is_a_migration_error_at_its_line(tmp_path: Path) -> None:
    body = "op.add_column('users', sa.Column('age', sa.Integer))\nx = 1 / 0"
    project = migrated_project(tmp_path, "sqlite:///app.db", USERS, body)
    worker = ModelWorker(project.root, SPEC, "sqlite")
    try:
        result = worker.build(targets=("heads",))
    finally:
        worker.close()
    ok(result)
    error = result.migrations.error
    assert error is not None and error.kind == "migration"
    path = revision_file(project, "r2")
    line = line_of(Path(path).read_text(), "    x = 1 / 0")
    assert (error.file, error.line) == (path, line)
    assert error.message.startswith(f"{path}:{line}: upgrade() raised ZeroDivisionError: ")


@pytest.mark.parametrize("fork", [True, False], ids=["host", "one-shot"])
def test_os_exit_in_a_revision_is_a_crash_and_the_models_stand(tmp_path: Path, fork: bool) -> None:
    project = migrated_project(tmp_path, "sqlite:///app.db", USERS, "import os\nos._exit(5)")
    worker = ModelWorker(project.root, SPEC, "sqlite", fork=fork)
    try:
        result = worker.build(targets=("heads",))
    finally:
        worker.close()
    ok(result)
    assert result.migrations.error == ModelError(
        "crash", "the build exited with code 5 while replaying the migrations"
    )


def test_raw_structural_sql_falls_back_to_a_scratch_database(tmp_path: Path) -> None:
    alter = 'op.execute("ALTER TABLE users ADD COLUMN extra INTEGER")'
    project = migrated_project(tmp_path, "sqlite:///app.db", USERS, alter)
    worker = ModelWorker(project.root, SPEC, "sqlite")
    try:
        result = worker.build(targets=("heads",))
    finally:
        worker.close()
    assert result.migrations.error is None
    users = result.migrations.schemas["heads"].table("users")
    assert users is not None and users.column("extra") is not None
    notes = result.migrations.notes
    assert any(n.startswith("note: replay is not exact: ") and "r2_r2.py" in n for n in notes)
    assert "note: building the migrations' schema on a scratch database instead" in notes
    assert not (project.root / "app.db").exists()  # the project's database was not touched


def test_the_url_override_reaches_the_scratch_database_and_no_result(tmp_path: Path) -> None:
    alter = 'op.execute("ALTER TABLE users ADD COLUMN extra INTEGER")'
    project = migrated_project(tmp_path, "sqlite:///app.db", USERS, alter)
    url = "postgresql+psycopg://me:s3cret-pw@127.0.0.1:1/app"  # nothing listens on port 1
    worker = ModelWorker(project.root, SPEC, "postgresql+psycopg", url=url)
    try:
        result = worker.build(targets=("heads",))
    finally:
        worker.close()
    error = result.migrations.error
    assert error is not None and error.kind == "migration"
    assert "postgresql+psycopg://me:***@127.0.0.1:1/app" in error.message
    assert "s3cret-pw" not in repr(result)
    request = BuildRequest("/", SPEC, "sqlite", (None,), {}, 1.0, ("heads",), url)
    assert "s3cret-pw" not in repr(request)


def test_a_session_reports_a_hanging_revision_without_hanging(tmp_path: Path) -> None:
    project = migrated_project(tmp_path, "sqlite:///app.db", USERS, HANG)
    session = Session(project.root, Settings(timeout=2.0))
    try:
        started = time.monotonic()
        with pytest.raises(ScriptError, match="replaying the migrations timed out after 2 s"):
            session.analyse({})
        assert time.monotonic() - started < 10
        project.add("r2", "r1", POSTS)
        analysis = session.analyse({})
        assert analysis.model_error is None and analysis.heads == ("r2",)
    finally:
        session.close()


def test_the_targets_a_session_asks_for(tmp_path: Path) -> None:
    graph = migrated_project(tmp_path).project().graph
    assert replay_targets(None, ("r1",)) == ()
    for current in (None, (), ("r2",), ("r1", "r2"), ("nope",)):
        assert replay_targets(graph, current) == ("heads",)
    assert replay_targets(graph, ("r1",)) == ("heads", "r1")


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("distill.sandbox.protocol", "dump"),  # a function: unpickling would call it
        ("distill.sandbox.protocol", "os.system"),  # a dotted name reaches any import
        ("distill.schema.model", "json.loads"),
        ("distill.sandbox.client", "ModelWorker"),
        ("os", "system"),
    ],
)
def test_results_unpickle_only_distill_data_classes(module: str, name: str) -> None:
    result = ModelsResult(
        schema=None, migrations=MigrationsResult(error=ModelError("migration", "x"))
    )
    assert restricted_loads(dump(result)) == result
    crafted = b"\x80\x04c" + f"{module}\n{name}\n".encode() + b"."
    with pytest.raises(pickle.UnpicklingError, match="has no place in a model build result"):
        restricted_loads(crafted)
