"""Reading an existing Alembic project's settings, so ``distill`` works in it.

Used only when no Distill settings are found.  Alembic keeps its settings in the
``[alembic]`` section of ``alembic.ini`` and, since Alembic 1.16, in
``[tool.alembic]`` of ``pyproject.toml``; when both are present a key in the ini
file wins, as in Alembic.  ``%(here)s`` means the folder of the file that holds
the value.  Relative paths resolve from that folder too.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distill.errors import ConfigError

if TYPE_CHECKING:
    import configparser

ALEMBIC_INI = "alembic.ini"
ALEMBIC_VERSION_TABLE = "alembic_version"

_SEPARATORS = {"os": os.pathsep, "space": " ", "newline": "\n", ":": ":", ";": ";"}
# What Alembic splits on when an ini file names no separator at all.
_LEGACY_VERSION_SPLIT = re.compile(r", *|(?: +)")
_LEGACY_SYS_PATH_SPLIT = re.compile(r", *|(?: +)|:")


@dataclass(frozen=True)
class AlembicSettings:
    """What Distill takes from an Alembic project, with every path absolute."""

    source: Path  # alembic.ini when there is one, else pyproject.toml
    script_location: Path
    version_locations: tuple[Path, ...]
    prepend_sys_path: tuple[Path, ...]
    url: str | None
    file_template: str | None
    # Distill's own key, for a project whose env.py sets no target_metadata
    metadata: str | None = None
    # Distill's own key: autogenerate may write ops only Distill can run
    distill_only_ops: bool = False
    # Distill's own key: seconds the project's code may take to import (text in an ini file)
    timeout: object = None
    # the settings list version_locations (else they are "<script_location>/versions")
    version_locations_listed: bool = False


def has_alembic_settings(folder: Path, pyproject_data: Mapping[str, Any] | None) -> bool:
    """Whether ``folder`` holds an Alembic project (``alembic.ini`` or ``[tool.alembic]``)."""
    if (folder / ALEMBIC_INI).is_file():
        return True
    return (
        pyproject_data is not None
        and tool_table(folder / "pyproject.toml", pyproject_data, "alembic") is not None
    )


def tool_table(path: Path, data: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """``[tool.<name>]`` of parsed TOML ``data`` read from ``path``, or None when it is absent.

    A ``tool`` or ``tool.<name>`` that is not a table is refused: taking it for
    "no settings" would run against another project's settings, or none.
    """
    tool = data.get("tool")
    if tool is None:
        return None
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: 'tool' must be a table ([tool] or [tool.{name}]), not {tool!r}")
    section = tool.get(name)
    if section is not None and not isinstance(section, dict):
        raise ConfigError(
            f"{path}: [tool.{name}] must be a table of settings, not {section!r}; "
            f"write the settings under a [tool.{name}] header"
        )
    return section


def read_alembic_settings(
    ini_file: Path | None, pyproject: Path | None, toml_data: Mapping[str, Any] | None
) -> AlembicSettings:
    """Settings from ``ini_file`` and/or ``[tool.alembic]`` of ``pyproject`` (already parsed)."""
    section = _read_ini_section(ini_file) if ini_file else None
    toml_section: Mapping[str, Any] = (
        (tool_table(pyproject, toml_data, "alembic") or {}) if pyproject and toml_data else {}
    )
    toml_folder = pyproject.parent if pyproject else None
    if ini_file is not None and section is None and not toml_section:
        raise ConfigError(
            f"{ini_file}: has no [alembic] section; add one with script_location = ..."
        )
    source = ini_file or pyproject
    assert source is not None

    def ini(key: str) -> str | None:
        return section.get(key) if section is not None and key in section else None

    def toml(key: str) -> Any:
        value = toml_section.get(key)
        if value is None or toml_folder is None:
            return None
        if key in _TOML_STRINGS and not isinstance(value, str):
            raise ConfigError(f"{pyproject}: [tool.alembic] {key} must be a string, not {value!r}")
        return _interpolate_toml(pyproject, key, value, toml_folder)

    if ini_file is not None and section is not None:
        _check_separators(ini_file, section)

    where = ini_file if ini(_SCRIPT_KEY) is not None else pyproject
    raw_location = ini(_SCRIPT_KEY) or toml(_SCRIPT_KEY)
    if not raw_location:
        raise ConfigError(
            f"{source}: no script_location in [alembic]"
            + (" or [tool.alembic]" if pyproject else "")
            + "; set it to the folder holding env.py and versions/"
        )
    if ini("prepend_sys_path") is not None:
        assert ini_file is not None and section is not None
        sys_path = _paths(_split(ini_file, section, "prepend_sys_path", None), ini_file.parent)
    else:
        sys_path = _paths(
            _toml_list(pyproject, "prepend_sys_path", toml("prepend_sys_path")), toml_folder
        )
    base = where.parent if where else source.parent
    script_location = _folder(source, raw_location, base, sys_path)

    if ini("version_locations") is not None:
        assert ini_file is not None and section is not None
        items = _split(ini_file, section, "version_locations", "version_path_separator")
        versions = tuple(_folder(ini_file, item, ini_file.parent, sys_path) for item in items)
    else:
        items = _toml_list(pyproject, "version_locations", toml("version_locations"))
        folder = toml_folder or source.parent
        versions = tuple(_folder(source, item, folder, sys_path) for item in items)

    file_template = (
        ini("file_template") if ini("file_template") is not None else toml("file_template")
    )
    metadata = ini("metadata") or toml("metadata")
    distill_only = ini("distill_only_ops") or toml_section.get("distill_only_ops")
    timeout = ini("timeout") if ini("timeout") is not None else toml_section.get("timeout")
    return AlembicSettings(
        source=source,
        script_location=script_location,
        version_locations=versions or (script_location / "versions",),
        version_locations_listed=bool(versions),
        prepend_sys_path=sys_path,
        url=ini("sqlalchemy.url") or None,
        file_template=file_template if isinstance(file_template, str) else None,
        metadata=metadata if isinstance(metadata, str) else None,
        distill_only_ops=distill_only is True or str(distill_only).lower() in ("true", "1", "yes"),
        timeout=timeout,
    )


_SCRIPT_KEY = "script_location"
_TOML_STRINGS = (_SCRIPT_KEY, "file_template", "metadata")


def _check_separators(ini_file: Path, section: Mapping[str, str]) -> None:
    """A separator Alembic does not know is refused whether or not a list is split by it."""
    for key in ("path_separator", "version_path_separator"):
        if key in section and section[key].strip() not in _SEPARATORS:
            raise ConfigError(
                f"{ini_file}: {key} = {section[key].strip()!r} is not a known separator; "
                f"use one of {', '.join(_SEPARATORS)}"
            )


def _read_ini_section(ini_file: Path) -> Mapping[str, str] | None:
    parser = read_ini(ini_file)
    if not parser.has_section("alembic"):
        return None
    return ini_section(ini_file, parser, "alembic")


def read_ini(ini_file: Path) -> configparser.ConfigParser:
    """The whole ini file, with ``%(here)s`` meaning its folder, as Alembic reads it."""
    import configparser  # here: most commands never read an ini file

    parser = configparser.ConfigParser(defaults={"here": ini_file.parent.as_posix()})
    try:
        with ini_file.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except configparser.Error as exc:
        message = " ".join(str(exc).split())
        raise ConfigError(f"{ini_file}: not a valid ini file: {message}; fix the file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{ini_file}: not UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{ini_file}: cannot be read: {exc.strerror}") from None
    return parser


def ini_section(ini_file: Path, parser: configparser.ConfigParser, name: str) -> dict[str, str]:
    """Section ``name`` with its values interpolated (``here`` included, as in Alembic)."""
    import configparser

    try:
        return {key: parser.get(name, key) for key in parser.options(name)}
    except configparser.InterpolationError as exc:
        message = " ".join(str(exc).split())
        raise ConfigError(f"{ini_file}: [{name}] {message}; write a literal % as %%") from None


def _split(
    ini_file: Path, section: Mapping[str, str], key: str, legacy_key: str | None
) -> list[str]:
    """``key``'s value split as Alembic does: ``path_separator``, then the legacy key."""
    value = section[key]
    for separator_key in ("path_separator", legacy_key):
        if separator_key is None or separator_key not in section:
            continue
        name = section[separator_key].strip()
        if name not in _SEPARATORS:
            raise ConfigError(
                f"{ini_file}: {separator_key} = {name!r} is not a known separator; "
                f"use one of {', '.join(_SEPARATORS)}"
            )
        parts = value.split(_SEPARATORS[name])
        break
    else:
        legacy = _LEGACY_VERSION_SPLIT if legacy_key else _LEGACY_SYS_PATH_SPLIT
        parts = legacy.split(value)
    return [part.strip() for part in parts if part.strip()]


def _toml_list(pyproject: Path | None, key: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{pyproject}: [tool.alembic] {key} must be a list of folder paths")
    return value


def _interpolate_toml(pyproject: Path | None, key: str, value: Any, folder: Path) -> Any:
    if isinstance(value, list):
        return [_interpolate_toml(pyproject, key, item, folder) for item in value]
    if not isinstance(value, str):
        return value
    try:
        return value % {"here": folder.as_posix()}
    except (KeyError, ValueError, TypeError):
        raise ConfigError(
            f"{pyproject}: [tool.alembic] {key} = {value!r}: only %(here)s may be "
            "substituted; write a literal % as %%"
        ) from None


# "package:path" names a folder inside a package; a Windows drive ("C:\...") does not.
_RESOURCE = re.compile(r"^(?P<package>[A-Za-z_][\w.]*):(?P<path>(?![\\/]).*)$")


def package_folder(source: object, location: str, search: Sequence[Path] = ()) -> Path | None:
    """The folder a ``package:path`` location names, as Alembic finds it, or None when
    ``location`` is a plain path.  The package is looked up on ``search`` (the
    project's ``prepend_sys_path``) and ``sys.path`` without running its code."""
    found = _RESOURCE.match(location)
    if found is None:
        return None
    package = found["package"]
    places: list[str] | None = [str(folder) for folder in search] + sys.path
    for part in package.split("."):
        spec = importlib.machinery.PathFinder.find_spec(part, places)
        places = list(spec.submodule_search_locations or ()) if spec else None
        if not places:
            break
    if not places:  # an editable install's finder, say: ask the import system itself
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            spec = None
        places = list(spec.submodule_search_locations or ()) if spec else None
    if not places:
        raise ConfigError(
            f"{source}: {location!r} names a folder in package {package!r}, which is not "
            "installed or not on the path; install it (or list its folder in "
            "prepend_sys_path), or name the folder by its path"
        )
    return Path(places[0], found["path"])


def _folder(source: Path, location: str, base: Path, search: Sequence[Path]) -> Path:
    return package_folder(source, location, search) or base / location


def _paths(items: list[str], base: Path | None) -> tuple[Path, ...]:
    assert base is not None or not items
    return tuple((base / item) if base else Path(item) for item in items)
