"""The "Ignore table X" quick fix's edit of the settings file."""

from __future__ import annotations

from pathlib import Path

import pytest

from distill.config import load_config
from distill.errors import ConfigError
from distill.lsp.settings_edit import add_excluded_table

PYPROJECT = """\
[project]
name = "app"

[tool.distill]
# where the revisions live
script_location = "migrations"
url = "sqlite:///app.db"

[tool.ruff]
line-length = 100
"""


def test_adds_the_key_to_the_distill_section_keeping_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(PYPROJECT)
    add_excluded_table(path, "spatial_ref_sys")
    text = path.read_text()
    assert 'exclude_tables = ["spatial_ref_sys"]\n\n[tool.ruff]' in text
    assert "# where the revisions live" in text and "line-length = 100" in text
    assert load_config(tmp_path, environ={}).extra["exclude_tables"] == ["spatial_ref_sys"]


def test_extends_an_existing_list_once(tmp_path: Path) -> None:
    path = tmp_path / "distill.toml"
    path.write_text('script_location = "migrations"\nexclude_tables = ["audit_*"]  # logs\n')
    add_excluded_table(path, "legacy")
    add_excluded_table(path, "legacy")  # already there: nothing changes
    assert path.read_text() == (
        'script_location = "migrations"\nexclude_tables = ["audit_*", "legacy"]\n'
    )


def test_a_list_over_several_lines_becomes_one(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.distill]\nexclude_tables = [\n  "a",\n  "b",\n]\n')
    add_excluded_table(path, "c")
    assert path.read_text() == '[tool.distill]\nexclude_tables = ["a", "b", "c"]\n'


def test_a_file_that_does_not_parse_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    text = '[tool.distill]\nurl = "sqlite:///x.db"\nexclude_tables = ["a"\n'
    path.write_text(text)
    with pytest.raises(ConfigError, match="fix the file first"):
        add_excluded_table(path, "c")
    assert path.read_text() == text


def test_no_distill_section_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\n')
    with pytest.raises(ConfigError, match=r"no \[tool.distill\] section"):
        add_excluded_table(path, "t")
