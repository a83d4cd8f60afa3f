"""Reading an Alembic project's ``env.py`` for its settings, migrating nothing.

Alembic projects name their models and comparison options nowhere but in
``env.py``'s ``context.configure(target_metadata=..., include_object=..., ...)``.
Distill runs the file as Alembic would — ``prepend_sys_path`` first on
``sys.path``, ``context.config`` answering from ``alembic.ini`` — with a
stand-in ``context`` that writes the ``configure()`` call down and whose
``run_migrations()`` does nothing.

Online mode is read first, because Alembic autogenerates online and many
projects pass their options only there.  That branch usually connects to the
database (and closes the connection again); when it cannot, the offline
branch is read instead and the reason is kept for ``distill doctor``.  The
language server must not connect on every keystroke: for it, ``context.config``
names an in-memory SQLite database instead (mode "editor"), so the online
branch connects to nothing real and still passes its options.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import exc

from distill.compat.env_config import ProjectConfig
from distill.compat.env_text import ENV_PY
from distill.compat.script_directory import ScriptDirectory
from distill.config import Config
from distill.errors import ConfigError, ScriptError
from distill.masking import mask_text, password_of
from distill.scripts.alembic_modules import EnvRecorder, recording
from distill.scripts.script import load_module
from distill.user_code import ImportOutOfTime, import_time_limit, timed_out_text, user_frame

# configure() options Distill takes from env.py (see apply_env).
HONOURED = frozenset({
    "target_metadata", "include_object", "include_name", "compare_type",
    "compare_server_default", "version_table", "version_table_schema",
    "transaction_per_migration", "render_as_batch", "process_revision_directives",
})  # fmt: skip
# Options about how Alembic itself runs; Distill does the same of its own accord.
INCIDENTAL = frozenset({
    "connection", "url", "dialect_name", "dialect_opts", "literal_binds", "as_sql",
    "output_buffer", "starting_rev", "tag", "template_args", "user_module_prefix",
    "sqlalchemy_module_prefix", "alembic_module_prefix", "version_table_pk",
    "output_encoding", "include_symbol",
})  # fmt: skip


@dataclass(frozen=True)
class EnvFindings:
    """What ``env.py`` configured, and how it was read."""

    env_py: Path
    offline: bool  # which branch of env.py the findings come from
    options: Mapping[str, Any]  # the last configure() call's keyword arguments
    configure_calls: int
    run_calls: int
    url: str | None  # the database env.py named, when alembic.ini names none
    why_offline: str | None = None  # why the online branch could not be read
    executed: tuple[str, ...] = field(default_factory=tuple)
    # the connection it configured is as SQLAlchemy makes it (no options, no listeners)
    plain_connection: bool = True
    # the versions folders env.py chose (context.script.version_locations), if it did
    version_locations: tuple[Path, ...] | None = None


Mode = Literal["online", "offline", "editor"]
# What env.py is told the database is, in the editor: connecting to it costs nothing.
_STAND_IN_URL = "sqlite://"


def complete_config(config: Config, *, mode: Mode = "online") -> Config:
    """``config`` with what an Alembic project's env.py says; other projects unchanged."""
    if config.flavour != "alembic":
        return config
    findings = read_env(config, mode=mode)
    return config if findings is None else apply_env(config, findings)


def read_env(config: Config, *, mode: Mode = "online") -> EnvFindings | None:
    """Run env.py with the stand-in context; None when the project has no env.py."""
    put_on_sys_path(config)  # also for models named by a metadata key, with no env.py
    env_py = config.script_location / ENV_PY
    if not env_py.is_file():
        return None
    if mode == "offline":
        return _read(config, env_py, offline=True)
    url = _STAND_IN_URL if mode == "editor" else config.url
    try:
        found = _read(config, env_py, offline=False, url=url, passthrough=_CANNOT_CONNECT)
    except _CANNOT_CONNECT as error:
        reason = _connect_problem(error, config)
        return replace(_read(config, env_py, offline=True), why_offline=reason)
    # The stand-in database is no database of the project's; a URL env.py built
    # itself (from the app's settings) is.
    return replace(found, url=None) if mode == "editor" and found.url == url else found


# A driver that is not installed, a URL that is a placeholder, a server that
# is down: the online branch cannot be read, the offline branch still can.
# InvalidRequestError: an async engine refusing the editor's sqlite:// stand-in.
_CANNOT_CONNECT: tuple[type[BaseException], ...] = (
    exc.DBAPIError, exc.ArgumentError, exc.InvalidRequestError, ImportError,
)  # fmt: skip


def _connect_problem(error: BaseException, config: Config) -> str:
    detail = getattr(error, "orig", None) or error
    text = " ".join(str(detail).split()) or type(error).__name__
    return mask_text(f"{type(error).__name__}: {text[:200]}", password_of(config.url))


def _read(
    config: Config,
    env_py: Path,
    *,
    offline: bool,
    url: str | None = None,
    passthrough: tuple[type[BaseException], ...] = (),
) -> EnvFindings:
    project_config = ProjectConfig(config, url=url if url is not None else config.url)
    recorder = EnvRecorder(
        project_config,
        offline=offline,
        x_arguments=config.x_arguments,
        script=ScriptDirectory(config),
    )
    try:
        with recording(recorder), import_time_limit(config.timeout):
            load_module(env_py, passthrough=passthrough)
    except ImportOutOfTime as stopped:
        raise env_out_of_time(config, env_py, stopped) from None
    return findings_of(recorder, env_py)


def findings_of(recorder: EnvRecorder, env_py: Path) -> EnvFindings:
    """What the recorder wrote down, as settings: its last configure() call counts."""
    last = recorder.configure_calls[-1] if recorder.configure_calls else {}
    return EnvFindings(
        env_py=env_py,
        offline=recorder.offline,
        options={key: value for key, value in last.items() if key != "connection"},
        configure_calls=len(recorder.configure_calls),
        run_calls=len(recorder.run_calls),
        url=_url_of(last),
        executed=tuple(recorder.executed),
        plain_connection=_plain_connection(last.get("connection")),
        version_locations=recorder.script.chosen_locations() if recorder.script else None,
    )


def env_out_of_time(config: Config, env_py: Path, stopped: ImportOutOfTime) -> ScriptError:
    return ScriptError(
        f"the models could not be loaded: "
        f"{timed_out_text(config.timeout, user_frame(stopped, config.root))} "
        f"(while running {env_py}); find what runs endlessly there, or raise --timeout "
        f"(or the timeout setting in {config.source}) if it needs longer"
    )


def _url_of(options: Mapping[str, Any]) -> str | None:
    connection = options.get("connection")
    url = getattr(getattr(connection, "engine", None), "url", None) or options.get("url")
    if isinstance(url, sa.URL):
        return url.render_as_string(hide_password=False)
    return url if isinstance(url, str) else None


def put_on_sys_path(config: Config) -> None:
    """``prepend_sys_path`` first on ``sys.path``, as Alembic does before env.py."""
    for folder in reversed(config.extra.get("prepend_sys_path", ())):
        entry = str(folder)
        if entry in sys.path:
            sys.path.remove(entry)
        sys.path.insert(0, entry)


def apply_env(config: Config, findings: EnvFindings) -> Config:
    """Distill settings from env.py's configure() call."""
    options = findings.options
    extra = dict(config.extra)
    for key in ("include_object", "include_name", "process_revision_directives"):
        if callable(options.get(key)):
            extra[key] = options[key]
    if callable(options.get("process_revision_directives")):
        # The hook's context.opts; the connection is closed by the time it runs.
        extra["configure_options"] = {k: v for k, v in options.items() if k != "connection"}
    for key in ("compare_type", "compare_server_default"):
        if isinstance(options.get(key), bool):
            extra[key] = options[key]
    if options.get("target_metadata") is not None:
        extra["target_metadata"] = options["target_metadata"]
    extra["render_as_batch"] = bool(options.get("render_as_batch", False))
    # How env.py reached the database, for commands.models_memo (in memory only: the URL
    # holds the password): which URL, from which branch, and whether it did more than
    # connect (context.execute(), listeners of its own, execution options).
    extra["env_run"] = EnvRun(
        url=findings.url,
        online=not findings.offline,
        plain_connection=not findings.executed and findings.plain_connection,
    )
    return replace(
        config,
        url=config.url or findings.url,
        version_locations=findings.version_locations or config.version_locations,
        version_table=str(options.get("version_table") or config.version_table),
        version_table_schema=options.get("version_table_schema", config.version_table_schema),
        transaction_per_migration=bool(
            options.get("transaction_per_migration", config.transaction_per_migration)
        ),
        extra=extra,
    )


@dataclass(frozen=True)
class EnvRun:
    url: str | None  # the database env.py connected to (rendered with its password)
    online: bool  # its online branch configured the run
    plain_connection: bool  # it did nothing to the connection but open it


# Events through which code changes what a connection does; SQLAlchemy's own
# listeners (its dialects' on-connect set-up) are not the project's.
_POOL_EVENTS = ("connect", "first_connect", "checkout", "checkin", "reset")
_ENGINE_EVENTS = ("engine_connect", "before_cursor_execute", "after_cursor_execute",
                  "before_execute", "begin", "set_connection_execution_options")  # fmt: skip


def _plain_connection(connection: object) -> bool:
    """Whether ``connection`` is as SQLAlchemy makes it: no execution options, no
    listeners of anyone else's on its engine or pool (a PRAGMA, a search_path)."""
    if not isinstance(connection, sa.Connection):
        return connection is None
    engine = connection.engine
    if connection.get_execution_options() or engine.get_execution_options():
        return False
    listeners = [
        *(fn for name in _POOL_EVENTS for fn in getattr(engine.pool.dispatch, name)),
        *(fn for name in _ENGINE_EVENTS for fn in getattr(engine.dispatch, name)),
    ]
    return all(str(getattr(fn, "__module__", "")).startswith("sqlalchemy.") for fn in listeners)


def metadata_of(config: Config) -> sa.MetaData | None:
    """env.py's target_metadata, several MetaData merged into one; None when it set none."""
    target = config.extra.get("target_metadata")
    if target is None or isinstance(target, sa.MetaData):
        return target
    if isinstance(target, Sequence) and all(isinstance(m, sa.MetaData) for m in target):
        merged = sa.MetaData()
        for metadata in target:
            for table in metadata.sorted_tables:
                table.to_metadata(merged)
        return merged
    raise ConfigError(
        f"{config.script_location / ENV_PY}: target_metadata is a {type(target).__name__}, "
        "not a SQLAlchemy MetaData (or a list of them); point it at Base.metadata"
    )
