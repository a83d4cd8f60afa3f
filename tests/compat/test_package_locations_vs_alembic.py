"""``script_location = package:path`` and ``version_locations`` of the same kind.

Projects that ship their migrations inside their package name the folder by
package (``myapp:migrations``), which Alembic finds through the import path
(``prepend_sys_path`` included).  Distill finds the same folder without running
the package's code; both tools run the same history from it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.alembic_projects import (
    alembic_init,
    edit_ini,
    replace_once,
    revision_script,
    run_cli,
    snapshot,
    write,
)


def _project(root: Path, versions: str | None) -> Path:
    alembic_init(root / "scaffold")
    package = root / "shipped_app"
    shutil.move(root / "scaffold" / "alembic", package / "migrations")
    (package / "__init__.py").write_text("")
    shutil.move(root / "scaffold" / "alembic.ini", root / "alembic.ini")
    shutil.rmtree(root / "scaffold")
    settings = {
        "script_location": "shipped_app:migrations",
        "sqlalchemy__url": f"sqlite:///{root / 'app.db'}",
        "prepend_sys_path": ".",
    }
    if versions is not None:
        settings["version_locations"] = versions
    edit_ini(root / "alembic.ini", **settings)
    # the template's "os" separator would split the list on its colons
    replace_once(root / "alembic.ini", "\npath_separator = os\n", "\npath_separator = space\n")
    first = 'op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))'
    second = 'op.add_column("t", sa.Column("note", sa.String(20)))'
    write(package / "migrations" / "versions" / "r1.py",
          revision_script("r1", None, "r1", first, 'op.drop_table("t")'))  # fmt: skip
    extra = package / "migrations" / "more" if versions else package / "migrations" / "versions"
    write(extra / "r2.py", revision_script("r2", "r1", "r2", second, 'op.drop_column("t", "note")'))
    return root


@pytest.mark.parametrize(
    "versions",
    [None, "shipped_app:migrations/versions shipped_app:migrations/more"],
    ids=["script_location", "version_locations"],
)
def test_a_history_named_by_package_runs_as_under_alembic(
    tmp_path: Path, versions: str | None
) -> None:
    outputs = {}
    for tool in ("alembic", "distill"):
        root = _project(tmp_path / tool, versions)
        for argv in (("upgrade", "head"), ("heads",), ("current",)):
            done = run_cli(tool, root, *argv)
            assert done.returncode == 0, f"{tool} {argv}: {done.stderr}"
            outputs[tool, argv[0]] = done.stdout
    shots = {
        tool: snapshot(f"sqlite:///{tmp_path / tool / 'app.db'}") for tool in ("alembic", "distill")
    }
    assert shots["alembic"].versions == shots["distill"].versions == ["r2"]
    assert shots["alembic"].tables == shots["distill"].tables
    assert (
        outputs["alembic", "heads"].split()
        == outputs["distill", "heads"].split()
        == ["r2", "(head)"]
    )
    assert outputs["alembic", "current"].split() == outputs["distill", "current"].split()
