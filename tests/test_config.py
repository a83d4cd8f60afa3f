from __future__ import annotations

from pathlib import Path

import pytest

from distill.config import load_config
from distill.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_without_a_config_file(tmp_path: Path) -> None:
    config = load_config(tmp_path, environ={})
    assert config.source is None
    assert config.script_location == tmp_path / "migrations"
    assert config.version_locations == (tmp_path / "migrations" / "versions",)
    assert config.version_table == "distill_version"
    assert config.transaction_per_migration is True
    assert config.url is None


def test_pyproject_section_found_from_a_subfolder(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[project]\nname="x"\n[tool.distill]\n'
        'script_location = "db/migrations"\nurl = "sqlite:///app.db"\n'
        'version_locations = ["db/a", "db/b"]\nversion_table = "vt"\n',
    )
    sub = tmp_path / "src" / "pkg"
    sub.mkdir(parents=True)
    config = load_config(sub, environ={})
    assert config.source == tmp_path / "pyproject.toml"
    assert config.script_location == tmp_path / "db" / "migrations"
    assert config.version_locations == (tmp_path / "db" / "a", tmp_path / "db" / "b")
    assert config.version_table == "vt"
    # a relative SQLite path means: next to the config file, wherever distill runs
    assert config.url == f"sqlite:///{tmp_path / 'app.db'}"


def test_pyproject_without_section_keeps_walking_up(tmp_path: Path) -> None:
    write(tmp_path / "distill.toml", 'script_location = "m"\n')
    write(tmp_path / "inner" / "pyproject.toml", '[project]\nname="x"\n')
    config = load_config(tmp_path / "inner", environ={})
    assert config.source == tmp_path / "distill.toml"
    assert config.script_location == tmp_path / "m"


def test_url_precedence_flag_then_env_then_file(tmp_path: Path) -> None:
    write(tmp_path / "distill.toml", 'url = "postgresql://a@h/file"\n')
    assert load_config(tmp_path, environ={}).url == "postgresql://a@h/file"
    env = {"DISTILL_URL": "postgresql://a@h/env"}
    assert load_config(tmp_path, environ=env).url == "postgresql://a@h/env"
    assert load_config(tmp_path, url="postgresql://a@h/flag", environ=env).url == (
        "postgresql://a@h/flag"
    )


def test_url_expands_environment_variables(tmp_path: Path) -> None:
    write(tmp_path / "distill.toml", 'url = "postgresql://app:${DB_PASSWORD}@h/db"\n')
    config = load_config(tmp_path, environ={"DB_PASSWORD": "s3cret"})
    assert config.url == "postgresql://app:s3cret@h/db"
    with pytest.raises(ConfigError, match=r"DB_PASSWORD is not set"):
        load_config(tmp_path, environ={})


def test_explicit_config_file(tmp_path: Path) -> None:
    write(tmp_path / "conf" / "other.toml", 'script_location = "mig"\n')
    config = load_config(tmp_path, config_file=Path("conf/other.toml"), environ={})
    assert config.script_location == tmp_path / "conf" / "mig"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'script_locaton = "m"\n',
            r"unknown setting 'script_locaton'; did you mean 'script_location'",
        ),
        ('version_locations = "m"\n', r"'version_locations' must be a list of folder paths"),
        ("transaction_per_migration = 1\n", r"must be true or false"),
        ("lock_timeout = true\n", r"'lock_timeout' must be a number of seconds"),
        ("retries = -1\n", r"'retries' must be a number of retries, 0 or more, not -1"),
        ('url = "not a url"\n', r"is not a database URL"),
        ("url = \n", r"not valid TOML"),
        ("version_locations = [1]\n", r"must list folder paths as strings"),
    ],
)
def test_bad_settings_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path / "distill.toml", text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(tmp_path, environ={})
    assert "distill.toml" in str(info.value)
    assert "\n" not in str(info.value)


def test_two_config_files_in_one_folder_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "distill.toml", 'script_location = "a"\n')
    write(tmp_path / "pyproject.toml", '[tool.distill]\nscript_location = "b"\n')
    with pytest.raises(ConfigError, match="keep one"):
        load_config(tmp_path, environ={})


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path, config_file=Path("nope.toml"), environ={})


def test_require_url_explains_all_three_sources(tmp_path: Path) -> None:
    config = load_config(tmp_path, environ={})
    with pytest.raises(ConfigError, match=r"DISTILL_URL.*--url"):
        config.require_url()


def test_malformed_url_is_not_echoed(tmp_path: Path) -> None:
    write(tmp_path / "distill.toml", 'url = "postgresql//user:hunter2@host/db"\n')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, environ={})
    assert "hunter2" not in str(info.value)
