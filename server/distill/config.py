"""Where a project's settings come from and what they mean.

Settings live in ``[tool.distill]`` of ``pyproject.toml`` or at the top level of
``distill.toml``, found by walking up from the working directory.  Relative
paths resolve from the folder holding that file, so ``distill`` behaves the same
from any sub-folder and with ``-C``.  The database URL can be overridden by
``DISTILL_URL`` and ``--url``, and may name environment variables as
``${NAME}`` so that passwords stay out of version control.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from distill import alembic_config
from distill.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

PYPROJECT = "pyproject.toml"
DISTILL_TOML = "distill.toml"
DEFAULT_FILE_TEMPLATE = "%(rev)s_%(slug)s"
# Generous: an import that takes a minute is stuck, not slow (CI must not hang forever).
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Config:
    """A project's settings, with every path absolute."""

    root: Path
    source: Path | None
    script_location: Path
    version_locations: tuple[Path, ...]
    url: str | None = None
    metadata: str | None = None
    version_table: str = "distill_version"
    version_table_schema: str | None = None
    # None keeps no audit table: Alembic projects, where Alembic would see it as drift
    history_table: str | None = "distill_history"
    transaction_per_migration: bool = True
    file_template: str = DEFAULT_FILE_TEMPLATE
    lock_timeout: float = 300.0  # seconds to wait for Distill's own migration lock
    # Per revision, on the database: how long a statement may wait for a table's lock,
    # and run at all (None: the server's own settings); lock waits retried this often.
    ddl_lock_timeout: float | None = None
    statement_timeout: float | None = None
    retries: int = 0
    # seconds the project's code may take to import (models, env.py); 0: no limit
    timeout: float = DEFAULT_TIMEOUT
    extra: Mapping[str, Any] = field(default_factory=dict)
    # ``-x key=value`` from the command line, for env.py and context.get_x_argument()
    x_arguments: tuple[str, ...] = ()
    # "alembic": settings read from alembic.ini / [tool.alembic] (see alembic_config.py)
    flavour: Literal["distill", "alembic"] = "distill"

    @property
    def qualified_version_table(self) -> str:
        """``schema.table`` of the version table, or its bare name in the default schema."""
        schema = f"{self.version_table_schema}." if self.version_table_schema else ""
        return f"{schema}{self.version_table}"

    @property
    def template_path(self) -> Path:
        return self.script_location / "script.py.tmpl"

    def require_url(self) -> str:
        if not self.url:
            key = "sqlalchemy.url" if self.flavour == "alembic" else "url"
            where = (
                f"set {key} in {self.source}"
                if self.source
                else "no Distill settings were found here or above (run 'distill init' and set url)"
            )
            raise ConfigError(f"no database URL: {where}, or export DISTILL_URL, or pass --url")
        return self.url


# key -> (expected python type(s), human description)
_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "script_location": ((str,), "a folder path"),
    "version_locations": ((list,), "a list of folder paths"),
    "url": ((str,), "a database URL"),
    "metadata": ((str,), '"module:attribute", e.g. "app.models:Base.metadata"'),
    "version_table": ((str,), "a table name"),
    "version_table_schema": ((str,), "a schema name"),
    "history_table": ((str,), "a table name"),
    "transaction_per_migration": ((bool,), "true or false"),
    "file_template": ((str,), 'a file name template such as "%(rev)s_%(slug)s"'),
    "lock_timeout": ((int, float), "a number of seconds"),
    "ddl_lock_timeout": ((int, float), "a number of seconds"),
    "statement_timeout": ((int, float), "a number of seconds"),
    "retries": ((int,), "a number of retries, 0 or more"),
    "timeout": ((int, float), "a number of seconds (0: no limit)"),
}
# Keys later features read; accepted now so a config written for them loads.
_FORWARD_KEYS = {
    "include_object",
    "include_name",
    "compare_type",
    "compare_server_default",
    "exclude_tables",
    "include_schemas",
    "post_write_hooks",
    "lint",  # read by distill.lint.settings, which checks it
}


def find_config_file(start: Path) -> tuple[Path, Mapping[str, Any]] | None:
    """The nearest file at or above ``start`` that holds Distill settings."""
    for folder in (start, *start.parents):
        found = _settings_in_folder(folder)
        if found is not None:
            return found
    return None


def project_folder(start: Path) -> Path | None:
    """The folder at or above ``start`` holding Distill settings or an Alembic project."""
    for folder in (start, *start.parents):
        if _settings_in_folder(folder) is not None or alembic_config.has_alembic_settings(
            folder, _pyproject_data(folder)
        ):
            return folder
    return None


def _settings_in_folder(folder: Path) -> tuple[Path, Mapping[str, Any]] | None:
    candidates = []
    toml_file = folder / DISTILL_TOML
    _refuse_folder(toml_file)
    if toml_file.is_file():
        data = _read_toml(toml_file)
        candidates.append((toml_file, _distill_toml_settings(toml_file, data)))
    pyproject = folder / PYPROJECT
    if pyproject.is_file():
        data = _read_toml(pyproject)
        section = alembic_config.tool_table(pyproject, data, "distill")
        # [tool.distill.lint] alone beside an Alembic project configures the lint of
        # that project; it does not turn it into a Distill project.
        lint_only = section is not None and set(section) <= {"lint"}
        if section is not None and not (
            lint_only and alembic_config.has_alembic_settings(folder, data)
        ):
            candidates.append((pyproject, section))
    if len(candidates) > 1:
        raise ConfigError(
            f"both {toml_file} and [tool.distill] in {pyproject} hold Distill settings; keep one"
        )
    return candidates[0] if candidates else None


def _refuse_folder(path: Path) -> None:
    """A distill.toml that is a folder is a mistake to name, not a file to pass over."""
    if path.is_dir():
        raise ConfigError(
            f"{path} is a folder, not a settings file: remove or rename it, "
            "so the settings can be found"
        )


def _distill_toml_settings(path: Path, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """distill.toml's settings: at its top level, or in [tool.distill] as in pyproject.toml."""
    section = alembic_config.tool_table(path, data, "distill")
    return data if section is None else section


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
            return data
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}; fix the file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
            "TOML files must be saved as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None


def load_config(
    cwd: Path | None = None,
    config_file: Path | None = None,
    url: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Settings for a command started in ``cwd`` (``-c`` and ``--url`` applied)."""
    env = os.environ if environ is None else environ
    cwd = (cwd or Path.cwd()).resolve()
    if config_file is not None:
        source: Path | None = (cwd / config_file).resolve()
        assert source is not None
        if source.is_dir():
            raise ConfigError(f"config file {source} is a folder, not a file; check -c/--config")
        if not source.is_file():
            raise ConfigError(f"config file {source} does not exist; check -c/--config")
        if source.suffix == ".ini":
            return _from_alembic(source, url, env)
        data = _read_toml(source)
        if _alembic_only_pyproject(source, data):
            return _from_alembic(source, url, env)
        settings = _distill_toml_settings(source, data)
        if source.name == PYPROJECT and alembic_config.tool_table(source, data, "distill") is None:
            raise ConfigError(f"{source} has no [tool.distill] section; run 'distill init'")
    else:
        for folder in (cwd, *cwd.parents):
            found = _settings_in_folder(folder)
            if found is not None:
                break
            if alembic_config.has_alembic_settings(folder, _pyproject_data(folder)):
                return _from_alembic(folder / alembic_config.ALEMBIC_INI, url, env)
        source, settings = found if found else (None, {})
    root = source.parent if source else cwd
    return _build(root, source, settings, url or env.get("DISTILL_URL") or None, env)


def _alembic_only_pyproject(source: Path, data: Mapping[str, Any]) -> bool:
    distill = alembic_config.tool_table(source, data, "distill")
    if source.name != PYPROJECT or (distill is not None and not set(distill) <= {"lint"}):
        return False
    return alembic_config.tool_table(source, data, "alembic") is not None


def _pyproject_data(folder: Path) -> Mapping[str, Any] | None:
    pyproject = folder / PYPROJECT
    return _read_toml(pyproject) if pyproject.is_file() else None


def _from_alembic(file: Path, url: str | None, env: Mapping[str, str]) -> Config:
    """Settings of an Alembic project: ``file`` is its alembic.ini or pyproject.toml."""
    folder = file.parent
    ini_file = folder / alembic_config.ALEMBIC_INI if file.suffix != ".ini" else file
    data = _pyproject_data(folder)
    has_tool = (
        data is not None
        and alembic_config.tool_table(folder / PYPROJECT, data, "alembic") is not None
    )
    read = alembic_config.read_alembic_settings(
        ini_file if ini_file.is_file() else None,
        folder / PYPROJECT if has_tool else None,
        data if has_tool else None,
    )
    if read.metadata:
        check_metadata_spec(read.source, read.metadata)
    url_override = url or env.get("DISTILL_URL") or None
    raw_url = url_override or read.url
    url_from = "--url/DISTILL_URL" if url_override else f"{read.source}: sqlalchemy.url"
    return Config(
        root=folder,
        source=read.source,
        script_location=read.script_location,
        version_locations=read.version_locations,
        url=_resolve_url(url_from, raw_url, folder, env) if raw_url else None,
        version_table=alembic_config.ALEMBIC_VERSION_TABLE,
        history_table=None,
        # Alembic's default: one transaction for the whole command (env.py may say otherwise)
        transaction_per_migration=False,
        metadata=read.metadata,
        file_template=_checked_file_template(read.source, read.file_template),
        timeout=DEFAULT_TIMEOUT if read.timeout is None else _alembic_timeout(read),
        extra={
            "prepend_sys_path": read.prepend_sys_path,
            "version_locations_listed": read.version_locations_listed,
            "distill_only_ops": read.distill_only_ops,
            **_lint_table(folder, data),
        },
        flavour="alembic",
    )


def _lint_table(folder: Path, data: Mapping[str, Any] | None) -> dict[str, Any]:
    """An Alembic project's ``[tool.distill.lint]`` (pyproject.toml), when it has one."""
    section = alembic_config.tool_table(folder / PYPROJECT, data, "distill") if data else None
    return {"lint": section["lint"]} if section and "lint" in section else {}


def _alembic_timeout(read: alembic_config.AlembicSettings) -> float:
    section = "[alembic]" if read.source.suffix == ".ini" else "[tool.alembic]"
    return timeout_setting(f"{read.source} {section}", read.timeout)


def _build(
    root: Path,
    source: Path | None,
    settings: Mapping[str, Any],
    url_override: str | None,
    env: Mapping[str, str],
) -> Config:
    where = str(source) if source else "settings"
    _check_keys(where, settings)
    _check_values(where, settings)
    script_location = root / settings.get("script_location", "migrations")
    version_locations = tuple(
        root / _require_str(where, "version_locations", item)
        for item in settings.get("version_locations", [])
    ) or (script_location / "versions",)
    raw_url = url_override or settings.get("url")
    url_from = "--url/DISTILL_URL" if url_override else where
    resolved_url = _resolve_url(url_from, raw_url, root, env) if raw_url else None
    return Config(
        root=root,
        source=source,
        script_location=script_location,
        version_locations=version_locations,
        url=resolved_url,
        metadata=settings.get("metadata"),
        version_table=settings.get("version_table", "distill_version"),
        version_table_schema=settings.get("version_table_schema"),
        history_table=settings.get("history_table", "distill_history"),
        transaction_per_migration=settings.get("transaction_per_migration", True),
        file_template=settings.get("file_template", DEFAULT_FILE_TEMPLATE),
        lock_timeout=float(settings.get("lock_timeout", 300.0)),
        ddl_lock_timeout=_seconds(settings.get("ddl_lock_timeout")),
        statement_timeout=_seconds(settings.get("statement_timeout")),
        retries=int(settings.get("retries", 0)),
        timeout=timeout_setting(where, settings.get("timeout", DEFAULT_TIMEOUT)),
        extra={k: v for k, v in settings.items() if k in _FORWARD_KEYS},
    )


def _seconds(value: float | None) -> float | None:
    return None if value is None or value <= 0 else float(value)


def _check_keys(where: str, settings: Mapping[str, Any]) -> None:
    for key, value in settings.items():
        if key in _FORWARD_KEYS:
            continue
        if key not in _KEYS:
            near = difflib.get_close_matches(key, [*_KEYS, *_FORWARD_KEYS], n=1)
            hint = f"; did you mean '{near[0]}'?" if near else f"; known keys: {', '.join(_KEYS)}"
            raise ConfigError(f"{where}: unknown setting '{key}'{hint}")
        types, description = _KEYS[key]
        # bool is an int in Python; a number setting must not accept true/false
        wrong_type = not isinstance(value, types) or (isinstance(value, bool) and bool not in types)
        negative_count = key == "retries" and isinstance(value, int) and value < 0
        if wrong_type or negative_count:
            raise ConfigError(f"{where}: '{key}' must be {description}, not {value!r}")


def timeout_setting(where: str, value: object) -> float:
    """The ``timeout`` setting's seconds: a number, 0 or more (0: no limit)."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not 0 <= seconds < math.inf:
        raise ConfigError(
            f"{where}: 'timeout' must be a number of seconds, 0 or more (0: no limit), "
            f"not {value!r}"
        )
    return seconds


def _check_values(where: str, settings: Mapping[str, Any]) -> None:
    """Values of the right type that could only fail later, or do harm, are refused now."""
    for key in ("version_table", "history_table", "version_table_schema"):
        if key in settings and not settings[key].strip():
            raise ConfigError(f"{where}: '{key}' is empty; give it a name or remove the key")
    version_table = settings.get("version_table", "distill_version")
    if settings.get("history_table", "distill_history") == version_table:
        raise ConfigError(
            f"{where}: 'version_table' and 'history_table' are both {version_table!r}; "
            "the two tables need different names"
        )
    lock_timeout = settings.get("lock_timeout", 0)
    if math.isnan(lock_timeout) or lock_timeout < 0:
        raise ConfigError(
            f"{where}: 'lock_timeout' is {lock_timeout}; give a number of seconds, 0 or more"
        )
    if "file_template" in settings:
        _checked_file_template(where, settings["file_template"])
    if settings.get("metadata"):  # "" is no setting, as an absent key
        check_metadata_spec(where, settings["metadata"])


def check_metadata_spec(where: object, spec: str) -> None:
    """``metadata`` must read "module:attribute"; refused on load, before any command runs."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name.strip() or not attribute.strip():
        raise ConfigError(
            f'{where}: metadata = {spec!r}: expected "module:attribute", '
            'e.g. "app.models:Base.metadata"'
        )


def _checked_file_template(where: object, template: str | None) -> str:
    """``template`` when it makes a file name, else a ConfigError naming ``where``."""
    if template is None:
        return DEFAULT_FILE_TEMPLATE
    if not template.strip():
        raise ConfigError(
            f"{where}: 'file_template' is empty, which would name every revision '.py'; "
            f"remove it or write e.g. {DEFAULT_FILE_TEMPLATE!r}"
        )
    from datetime import datetime

    from distill.file_template import revision_filename

    try:
        revision_filename(template, "0123456789ab", "a message", datetime(2000, 1, 2))
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}") from None
    return template


def _require_str(where: str, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: '{key}' must list folder paths as strings, not {value!r}")
    return value


_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _resolve_url(where: str, url: str, root: Path, env: Mapping[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise ConfigError(f"{where}: url uses ${{{name}}} but {name} is not set")
        return env[name]

    expanded = _ENV_REFERENCE.sub(substitute, url)
    if "://" not in expanded:
        # Not echoed: without "://" a password in it could not be told apart to mask.
        raise ConfigError(
            f"{where}: url is not a database URL; "
            "expected e.g. sqlite:///app.db or postgresql+psycopg://user@host/db"
        )
    return _anchor_sqlite_path(expanded, root)


def _anchor_sqlite_path(url: str, root: Path) -> str:
    """Relative SQLite file paths resolve from the config folder, not the cwd."""
    prefix, sep, rest = url.partition(":///")
    if not sep or not prefix.startswith("sqlite") or rest.startswith("/") or rest == "":
        return url
    if rest.startswith(":memory:") or rest.startswith("file:"):
        return url
    return f"{prefix}:///{root / rest}"
