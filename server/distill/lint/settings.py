"""The ``[lint]`` settings (``[tool.distill.lint]`` in pyproject.toml)::

    [tool.distill.lint]
    target_version = { postgresql = 15 }
    index-not-concurrent = "warning"
    drop-column = "off"

A rule code set to ``off``, ``information``, ``warning`` or ``error``, and the
server version (major) the lint targets per dialect.
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
NEWEST = {"postgresql": 17, "mysql": 11, "sqlite": 3}  # without a server to ask
_DIALECTS = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite"}


@dataclass(frozen=True)
class LintSettings:
    severities: Mapping[str, str] = field(default_factory=dict)
    target_versions: Mapping[str, int] = field(default_factory=dict)  # dialect name -> major


def lint_settings(config: Config) -> LintSettings:
    raw = config.extra.get("lint", {})
    where = f"{config.source or 'the settings'} [lint]"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: must be a table of rule codes and target_version")
    severities: dict[str, str] = {}
    versions: dict[str, int] = {}
    for key, value in raw.items():
        if key == "target_version":
            versions = _versions(where, value)
        elif key in RULES:
            if value not in SEVERITIES:
                raise ConfigError(
                    f"{where}: {key} = {value!r}: say one of {', '.join(map(repr, SEVERITIES))}"
                )
            severities[key] = value
        else:
            near = difflib.get_close_matches(key, [*RULES, "target_version"], n=1)
            hint = f"; did you mean {near[0]!r}?" if near else "; docs/safety.md lists the codes"
            raise ConfigError(f"{where}: unknown rule {key!r}{hint}")
    return LintSettings(severities, versions)


def _versions(where: str, value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: target_version must be a table, e.g. {{ postgresql = 15 }}")
    found: dict[str, int] = {}
    for name, major in value.items():
        dialect = _DIALECTS.get(str(name))
        if dialect is None or isinstance(major, bool) or not isinstance(major, int) or major < 1:
            raise ConfigError(
                f"{where}: target_version.{name} = {major!r}: give a dialect "
                "(postgresql, mariadb, mysql) and its major version, e.g. postgresql = 15"
            )
        found[dialect] = major
    return found
