"""The ``[lint]`` settings (``[tool.distill.lint]`` in pyproject.toml)::

    [tool.distill.lint]
    target_version = { postgresql = 15 }
    autogenerate_safe_forms = true
    index-not-concurrent = "warning"
    drop-column = "off"

A rule code set to ``off``, ``information``, ``warning`` or ``error``, and the
server version the lint targets per dialect: a major version (``postgresql = 15``)
or, for MariaDB, whose majors say little, a string (``mariadb = "10.11"``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from distill.config import Config
from distill.errors import ConfigError
from distill.lint.rules import RULES

SEVERITIES = ("off", "information", "warning", "error")
_KEYS = ("target_version", "autogenerate_safe_forms")  # beside the rule codes
NEWEST = {"postgresql": (17,), "mysql": (11, 4), "sqlite": (3,)}  # without a server to ask
_DIALECTS = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite"}


@dataclass(frozen=True)
class LintSettings:
    severities: Mapping[str, str] = field(default_factory=dict)
    # dialect name -> version: (15,) for PostgreSQL 15, (10, 11) for MariaDB 10.11
    target_versions: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    # ``revision --autogenerate`` writes the safe forms the lint would rewrite to
    autogenerate_safe_forms: bool = False


def lint_settings(config: Config) -> LintSettings:
    raw = config.extra.get("lint", {})
    where = f"{config.source or 'the settings'} [lint]"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: must be a table of rule codes and target_version")
    severities: dict[str, str] = {}
    versions: dict[str, tuple[int, ...]] = {}
    safe_forms = False
    for key, value in raw.items():
        if key == "target_version":
            versions = _versions(where, value)
        elif key == "autogenerate_safe_forms":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: {key} = {value!r}: say true or false")
            safe_forms = value
        elif key in RULES:
            if value not in SEVERITIES:
                raise ConfigError(
                    f"{where}: {key} = {value!r}: say one of {', '.join(map(repr, SEVERITIES))}"
                )
            severities[key] = value
        else:
            near = difflib.get_close_matches(key, [*RULES, *_KEYS], n=1)
            hint = f"; did you mean {near[0]!r}?" if near else "; docs/safety.md lists the codes"
            raise ConfigError(f"{where}: unknown rule {key!r}{hint}")
    return LintSettings(severities, versions, safe_forms)


def _versions(where: str, value: Any) -> dict[str, tuple[int, ...]]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: target_version must be a table, e.g. {{ postgresql = 15 }}")
    found: dict[str, tuple[int, ...]] = {}
    for name, given in value.items():
        dialect = _DIALECTS.get(str(name))
        version = _version(given)
        if dialect is None or version is None:
            raise ConfigError(
                f"{where}: target_version.{name} = {given!r}: give a dialect "
                "(postgresql, mariadb, mysql) and its version, e.g. postgresql = 15 or "
                'mariadb = "10.11" (a string: as a TOML number 10.10 would read 10.1)'
            )
        found[dialect] = version
    return found


def _version(given: object) -> tuple[int, ...] | None:
    """15 -> (15,); "10.11" -> (10, 11); None for anything else (a float among them)."""
    if isinstance(given, int) and not isinstance(given, bool):
        return (given,) if given >= 1 else None
    parts = given.split(".") if isinstance(given, str) else []
    if not parts or len(parts) > 3 or not all(p.isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts) if int(parts[0]) >= 1 else None
