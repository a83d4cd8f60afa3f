"""``context.config`` for an Alembic project's env.py, answering from alembic.ini."""

from __future__ import annotations

import argparse
import configparser
from typing import Any

from distill import alembic_config
from distill.config import Config
from distill.errors import ConfigError


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
