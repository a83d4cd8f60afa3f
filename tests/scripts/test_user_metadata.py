"""Importing the models named by the metadata setting, and what a mistake says."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from distill.config import load_config
from distill.errors import ConfigError, ScriptError
from distill.scripts.user_metadata import load_metadata


def project(tmp_path: Path, models: str, setting: str | None = None) -> Path:
    package = f"models_{uuid.uuid4().hex[:8]}"  # a fresh name: no import cache between tests
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / package / "models.py").write_text(models)
    value = setting if setting is not None else f"{package}.models:Base.metadata"
    (tmp_path / "distill.toml").write_text(f'metadata = "{value.format(package=package)}"\n')
    return tmp_path


GOOD = (
    "import sqlalchemy as sa\nfrom sqlalchemy.orm import DeclarativeBase\n"
    "class Base(DeclarativeBase):\n    pass\n"
    "class User(Base):\n    __tablename__ = 'users'\n"
    "    id = sa.Column(sa.Integer, primary_key=True)\n"
)


def test_loads_the_metadata_from_the_config_folder(tmp_path: Path) -> None:
    root = project(tmp_path, GOOD)
    metadata = load_metadata(load_config(root, environ={}))
    assert list(metadata.tables) == ["users"]
    assert str(root) in sys.path


@pytest.mark.parametrize(
    ("models", "setting", "error", "message"),
    [
        (GOOD, "", ConfigError, "no metadata setting"),
        (GOOD, "{package}.models", ConfigError, 'expected "module:attribute"'),
        (GOOD, "{package}.nope:Base.metadata", ConfigError, "no module named"),
        (GOOD, "{package}.models:Base.metdata", ConfigError, "stopped at 'metdata'"),
        (GOOD, "{package}.models:Base", ConfigError, "not a SQLAlchemy MetaData"),
        ("import sqlalchemy as sa\nx = = 1\n", None, ScriptError, "models.py:2: SyntaxError"),
        (
            "import sqlalchemy as sa\n\nraise RuntimeError('no config')\n",
            None,
            ScriptError,
            "models.py:3: RuntimeError: no config",
        ),
        ("import no_such_dependency_xyz\n", None, ScriptError, "models.py:1: ModuleNotFoundError"),
    ],
)
def test_mistakes_name_the_file_and_line(
    tmp_path: Path, models: str, setting: str | None, error: type[Exception], message: str
) -> None:
    root = project(tmp_path, models, setting)
    with pytest.raises(error, match=message) as info:
        load_metadata(load_config(root, environ={}))
    assert "\n" not in str(info.value)
