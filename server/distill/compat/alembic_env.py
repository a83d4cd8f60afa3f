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

import argparse
import configparser
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import exc

from distill import alembic_config
from distill.compat.alembic_modules import EnvRecorder, recording
from distill.config import Config
from distill.errors import ConfigError
from distill.masking import mask_text
from distill.scripts.script import load_module

ENV_PY = "env.py"
# configure() options Distill takes from env.py (see apply_env).
HONOURED = frozenset({
    "target_metadata", "include_object", "include_name", "compare_type",
    "compare_server_default", "version_table", "version_table_schema",
    "transaction_per_migration", "render_as_batch",
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


Mode = Literal["online", "offline", "editor"]
# What env.py is told the database is, in the editor: connecting to it costs nothing.
_STAND_IN_URL = "sqlite://"


def complete_config(config: Config, *, mode: Mode = "online") -> Config:
    """``config`` with what an Alembic project's env.py says; other projects unchanged."""
    if config.flavour != "alembic":
        return config
    findings = read_env(config, mode=mode)
    return config if findings is None else apply_env(config, findings)


# configure() options that change where the version rows are kept.
_BOOKKEEPING = frozenset({"version_table", "version_table_schema"})


@dataclass(frozen=True)
class Bookkeeping:
    """What env.py's text says of the version table, read without running it."""

    mentioned: bool  # a configure() call passes version_table(_schema), or **options
    literal: Mapping[str, str]  # the ones passed as plain strings


def bookkeeping_in_text(config: Config) -> Bookkeeping:
    """Read as text, so ``current`` and the language server (which runs no project
    code) know the version table without running env.py and importing the models."""
    import ast

    env_py = config.script_location / ENV_PY
    try:
        tree = ast.parse(env_py.read_bytes(), str(env_py))
    except (OSError, SyntaxError, ValueError):
        return Bookkeeping(env_py.exists(), {})  # running it will say what is wrong
    mentioned = False
    literal: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "configure":
            for keyword in node.keywords:
                if keyword.arg is None or keyword.arg in _BOOKKEEPING:
                    mentioned = True
                value = getattr(keyword.value, "value", None)  # an ast.Constant's
                if keyword.arg in _BOOKKEEPING and isinstance(value, str):
                    literal[keyword.arg] = value
    return Bookkeeping(mentioned, literal)


def with_literal_bookkeeping(config: Config) -> Config:
    """An Alembic project's config with the version table env.py names in plain text."""
    if config.flavour != "alembic":
        return config
    found = bookkeeping_in_text(config).literal
    return replace(
        config,
        version_table=found.get("version_table", config.version_table),
        version_table_schema=found.get("version_table_schema", config.version_table_schema),
    )


def read_env(config: Config, *, mode: Mode = "online") -> EnvFindings | None:
    """Run env.py with the stand-in context; None when the project has no env.py."""
    env_py = config.script_location / ENV_PY
    if not env_py.is_file():
        return None
    put_on_sys_path(config)
    if mode == "offline":
        return _read(config, env_py, offline=True)
    url = _STAND_IN_URL if mode == "editor" else config.url
    try:
        found = _read(config, env_py, offline=False, url=url, passthrough=_CANNOT_CONNECT)
    except _CANNOT_CONNECT as error:
        reason = _connect_problem(error, config)
        return replace(_read(config, env_py, offline=True), why_offline=reason)
    # The stand-in database is no database of the project's.
    return replace(found, url=None) if mode == "editor" else found


# A driver that is not installed, a URL that is a placeholder, a server that
# is down: the online branch cannot be read, the offline branch still can.
# InvalidRequestError: an async engine refusing the editor's sqlite:// stand-in.
_CANNOT_CONNECT: tuple[type[BaseException], ...] = (
    exc.DBAPIError, exc.ArgumentError, exc.InvalidRequestError, ImportError,
)  # fmt: skip


def _connect_problem(error: BaseException, config: Config) -> str:
    detail = getattr(error, "orig", None) or error
    text = " ".join(str(detail).split()) or type(error).__name__
    password = sa.make_url(config.url).password if config.url and "://" in config.url else None
    return mask_text(f"{type(error).__name__}: {text[:200]}", password)


def _read(
    config: Config,
    env_py: Path,
    *,
    offline: bool,
    url: str | None = None,
    passthrough: tuple[type[BaseException], ...] = (),
) -> EnvFindings:
    project_config = ProjectConfig(config, url=url if url is not None else config.url)
    recorder = EnvRecorder(project_config, offline=offline, x_arguments=config.x_arguments)
    with recording(recorder):
        load_module(env_py, passthrough=passthrough)
    last = recorder.configure_calls[-1] if recorder.configure_calls else {}
    return EnvFindings(
        env_py=env_py,
        offline=offline,
        options={key: value for key, value in last.items() if key != "connection"},
        configure_calls=len(recorder.configure_calls),
        run_calls=len(recorder.run_calls),
        url=_url_of(last),
        executed=tuple(recorder.executed),
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
    for key in ("include_object", "include_name"):
        if callable(options.get(key)):
            extra[key] = options[key]
    for key in ("compare_type", "compare_server_default"):
        if isinstance(options.get(key), bool):
            extra[key] = options[key]
    if options.get("target_metadata") is not None:
        extra["target_metadata"] = options["target_metadata"]
    extra["render_as_batch"] = bool(options.get("render_as_batch", False))
    return replace(
        config,
        url=config.url or findings.url,
        version_table=str(options.get("version_table") or config.version_table),
        version_table_schema=options.get("version_table_schema", config.version_table_schema),
        transaction_per_migration=bool(
            options.get("transaction_per_migration", config.transaction_per_migration)
        ),
        extra=extra,
    )


class ProjectConfig:
    """``context.config`` for env.py: Alembic's Config, answering from alembic.ini.

    The database URL is the one Distill uses (``--url`` and ``DISTILL_URL``
    applied), so env.py connects where the command was pointed.
    """

    config_ini_section = "alembic"

    def __init__(self, config: Config, url: str | None) -> None:
        ini = config.source if config.source and config.source.suffix == ".ini" else None
        self.config_file_name = str(ini) if ini else None
        self.toml_file_name = str(config.root / "pyproject.toml")
        self.attributes: dict[str, Any] = {}
        self.cmd_opts = argparse.Namespace(x=list(config.x_arguments), config=self.config_file_name)
        self._ini = ini
        self._url = url
        self._parser: configparser.ConfigParser | None = None
        self._sections: dict[str, dict[str, str]] = {}  # read on demand, as Alembic does

    def _section(self, name: str) -> dict[str, str] | None:
        if name not in self._sections:
            if self._parser is None and self._ini is not None:
                self._parser = alembic_config.read_ini(self._ini)
            if self._parser is not None and self._parser.has_section(name):
                assert self._ini is not None
                self._sections[name] = alembic_config.ini_section(self._ini, self._parser, name)
            elif name == self.config_ini_section:
                self._sections[name] = {}
            else:
                return None
            if name == self.config_ini_section and self._url:
                self._sections[name]["sqlalchemy.url"] = self._url
        return self._sections[name]

    def get_section(self, name: str, default: Any = None) -> Any:
        section = self._section(name)
        return dict(section) if section is not None else default

    def get_section_option(self, section: str, name: str, default: Any = None) -> Any:
        values = self._section(section)
        if values is None:
            raise ConfigError(
                f"{self._ini}: env.py asked for section [{section}], which is missing"
            )
        return values.get(name, default)

    def get_main_option(self, name: str, default: Any = None) -> Any:
        return self.get_section_option(self.config_ini_section, name, default)

    def get_alembic_option(self, name: str, default: Any = None) -> Any:
        return self.get_main_option(name, default)

    def set_section_option(self, section: str, name: str, value: str) -> None:
        values = self._section(section)
        if values is None:
            values = self._sections[section] = {}
        values[name] = value

    def set_main_option(self, name: str, value: str) -> None:
        self.set_section_option(self.config_ini_section, name, value)

    def remove_main_option(self, name: str) -> None:
        self.get_section(self.config_ini_section)
        self._sections[self.config_ini_section].pop(name, None)

    def print_stdout(self, text: str, *arg: Any) -> None:
        print(text % arg if arg else text)


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
