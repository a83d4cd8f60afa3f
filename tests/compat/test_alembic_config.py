"""Distill reads an existing Alembic project's settings (alembic.ini, [tool.alembic]).

The projects are made by the installed Alembic itself (``alembic init``).
"""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig

from distill.config import load_config
from distill.errors import ConfigError
from tests.alembic_projects import (
    alembic_init,
    edit_ini,
)
from tests.projects import DISTILL


def test_generic_project(tmp_path: Path) -> None:
    alembic_init(tmp_path)
    edit_ini(
        tmp_path / "alembic.ini",
        sqlalchemy__url="sqlite:///%(here)s/app.db",
        file_template="%%(year)d_%%(rev)s_%%(slug)s",
    )
    sub = tmp_path / "src"
    sub.mkdir()
    config = load_config(sub, environ={})
    assert config.flavour == "alembic"
    assert config.source == tmp_path / "alembic.ini"
    assert config.root == tmp_path
    assert config.script_location == tmp_path / "alembic"
    assert config.version_locations == (tmp_path / "alembic" / "versions",)
    assert config.url == f"sqlite:///{tmp_path}/app.db"
    assert config.file_template == "%(year)d_%(rev)s_%(slug)s"
    assert config.extra["prepend_sys_path"] == (tmp_path,)
    assert config.version_table == "alembic_version"
    assert config.history_table is None  # an audit table would be drift to Alembic


def test_url_flag_and_env_override_the_ini(tmp_path: Path) -> None:
    alembic_init(tmp_path)
    config = load_config(tmp_path, environ={"DISTILL_URL": "sqlite:///env.db"})
    assert config.url == f"sqlite:///{tmp_path / 'env.db'}"
    assert load_config(tmp_path, url="postgresql://u@h/d", environ={}).url == "postgresql://u@h/d"


def test_pyproject_project(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n')
    alembic_init(tmp_path, "pyproject")
    text = (tmp_path / "pyproject.toml").read_text()
    text = text.replace(
        "prepend_sys_path = [\n", 'prepend_sys_path = [\n    "%(here)s/src",\n'
    ).replace(
        '# version_locations = [\n#    "%(here)s/alembic/versions",\n#    "%(here)s/foo/bar"\n# ]',
        'version_locations = ["%(here)s/alembic/versions", "extra"]\n'
        'file_template = "%%(rev)s_x_%%(slug)s"',
    )
    (tmp_path / "pyproject.toml").write_text(text)
    edit_ini(tmp_path / "alembic.ini", sqlalchemy__url="sqlite:///%(here)s/p.db")
    config = load_config(tmp_path, environ={})
    assert config.flavour == "alembic"
    assert config.script_location == tmp_path / "alembic"
    assert config.version_locations == (tmp_path / "alembic" / "versions", tmp_path / "extra")
    assert config.extra["prepend_sys_path"] == (tmp_path / "src", tmp_path)
    assert config.file_template == "%(rev)s_x_%(slug)s"
    assert config.url == f"sqlite:///{tmp_path}/p.db"
    assert config.version_table == "alembic_version"
    # without alembic.ini the url comes from DISTILL_URL / --url only
    (tmp_path / "alembic.ini").unlink()
    config = load_config(tmp_path, environ={})
    assert config.source == tmp_path / "pyproject.toml" and config.url is None
    with pytest.raises(ConfigError, match=r"set sqlalchemy.url in .*pyproject.toml"):
        config.require_url()
    assert load_config(tmp_path, environ={"DISTILL_URL": "sqlite://"}).url == "sqlite://"


def test_explicit_ini_from_another_cwd(tmp_path: Path) -> None:
    alembic_init(tmp_path / "proj")
    (tmp_path / "proj" / "alembic.ini").rename(tmp_path / "proj" / "other.ini")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = load_config(elsewhere, config_file=Path("../proj/other.ini"), environ={})
    assert config.flavour == "alembic"
    assert config.source == tmp_path / "proj" / "other.ini"
    assert config.script_location == tmp_path / "proj" / "alembic"
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(elsewhere, config_file=Path("nope.ini"), environ={})


def test_distill_settings_win_in_the_same_folder(tmp_path: Path) -> None:
    alembic_init(tmp_path)
    (tmp_path / "distill.toml").write_text('script_location = "mine"\n')
    config = load_config(tmp_path, environ={})
    assert config.flavour == "distill"
    assert config.script_location == tmp_path / "mine"
    assert config.version_table == "distill_version"
    # ...but the nearer folder wins during the walk up
    alembic_init(tmp_path / "inner")
    assert load_config(tmp_path / "inner", environ={}).flavour == "alembic"


@pytest.mark.parametrize(
    ("separator_lines", "value", "expected"),
    [
        ("path_separator = os", f"a{os.pathsep}b", ["a", "b"]),
        ("path_separator = space", "a b", ["a", "b"]),
        ("path_separator = newline", "\n    a\n    b", ["a", "b"]),
        ("path_separator = :", "a:b", ["a", "b"]),
        ("path_separator = ;", "a;b c", ["a", "b c"]),
        ("version_path_separator = ;", "a;b", ["a", "b"]),
        ("version_path_separator = os", f"a{os.pathsep}b", ["a", "b"]),
        # path_separator wins over the legacy key ("a:b" alone would name package a)
        ("path_separator = ;\nversion_path_separator = :", "./a:b;c", ["a:b", "c"]),
        ("", "a, b c", ["a", "b", "c"]),  # legacy: spaces and/or commas
    ],
)
def test_version_locations_separators(
    tmp_path: Path, separator_lines: str, value: str, expected: list[str]
) -> None:
    (tmp_path / "alembic.ini").write_text(
        f"[alembic]\nscript_location = mig\n{separator_lines}\nversion_locations = {value}\n"
    )
    config = load_config(tmp_path, environ={})
    assert config.version_locations == tuple(tmp_path / name for name in expected)


def test_legacy_prepend_sys_path_splits_on_colons_too(tmp_path: Path) -> None:
    (tmp_path / "alembic.ini").write_text(
        "[alembic]\nscript_location = mig\nprepend_sys_path = a:b, c\n"
    )
    config = load_config(tmp_path, environ={})
    assert config.extra["prepend_sys_path"] == (tmp_path / "a", tmp_path / "b", tmp_path / "c")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[other]\nx = 1\n", r"has no \[alembic\] section; add one"),
        ("[alembic]\nsqlalchemy.url = sqlite://\n", r"no script_location in \[alembic\]"),
        (
            "[alembic]\nscript_location = m\npath_separator = pipe\nversion_locations = a\n",
            r"path_separator = 'pipe' is not a known separator; use one of os, space",
        ),
        (
            "[alembic]\nscript_location = no_such_app_pkg:migrations\n",
            r"names a folder in package 'no_such_app_pkg', which is not installed",
        ),
        ("[alembic]\nscript_location = %(nope)s/m\n", r"write a literal % as %%"),
        ("no section header\n", r"not a valid ini file"),
    ],
)
def test_errors_name_the_ini_file(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "alembic.ini").write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(tmp_path, environ={})
    assert str(tmp_path / "alembic.ini") in str(info.value)
    assert "\n" not in str(info.value)


def test_cli_upgrades_an_alembic_project_and_alembic_agrees(tmp_path: Path) -> None:
    config = alembic_init(tmp_path)
    edit_ini(tmp_path / "alembic.ini", sqlalchemy__url="sqlite:///%(here)s/app.db")
    config = AlembicConfig(file_=str(tmp_path / "alembic.ini"), stdout=io.StringIO())
    first = command.revision(config, message="x")
    second = command.revision(config, message="y")
    assert first is not None and second is not None and not isinstance(second, list)
    script = Path(second.path)
    script.write_text(
        script.read_text().replace(
            "def upgrade() -> None:\n",
            "def upgrade() -> None:\n    op.create_table('t', sa.Column('id', sa.Integer))\n",
        )
    )
    env = {k: v for k, v in os.environ.items() if k != "DISTILL_URL"}

    def distill(*args: str) -> str:
        done = subprocess.run(
            [*DISTILL, *args], cwd=tmp_path, capture_output=True, text=True, env=env
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert second.revision in distill("heads")
    distill("upgrade", "head")

    import sqlite3

    with sqlite3.connect(tmp_path / "app.db") as db:
        rows = db.execute("select version_num from alembic_version").fetchall()
        tables = {r[0] for r in db.execute("select name from sqlite_master where type='table'")}
    assert rows == [(second.revision,)]
    assert "t" in tables

    out = io.StringIO()
    command.current(AlembicConfig(file_=str(tmp_path / "alembic.ini"), stdout=out))
    assert out.getvalue().split()[:2] == [second.revision, "(head)"]
