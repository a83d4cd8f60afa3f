"""No module of the workspace stands in for Distill's or SQLAlchemy's, in any process of the server.

The workspace holds a ``distill/`` and a ``sqlalchemy/`` package, a ``sitecustomize.py``,
a ``runpy.py`` and a ``.pth`` file; each, if Python ever imports it, leaves a mark.
The server is started in the workspace with a command the docs give for editors,
and runs trusted (the model worker imports the models, a command runs the CLI in
the project) or untrusted.  The models still import the project's own modules.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_lsp import LanguageClient, make_test_lsp_client

from distill.sandbox.launch import python_module
from tests.lsp.lsp_client import ENV, codes, command, open_file, start, until
from tests.projects import copy_shop

PLANTED = ("distill/__init__.py", "sqlalchemy/__init__.py", "sitecustomize.py", "runpy.py")


def plant(root: Path, marks: Path) -> None:
    """Modules that leave a file in ``marks`` when imported; a .pth that would too."""
    marks.mkdir()
    for name in PLANTED:
        path = root / name
        path.parent.mkdir(exist_ok=True)
        mark = marks / name.replace("/", "_")
        path.write_text(f"open({str(mark)!r}, 'w').close()\n")
    pth_mark = marks / "pth"
    (root / "planted.pth").write_text(f"import os; open({str(pth_mark)!r}, 'w').close()\n")


def _commands() -> list[pytest.ParameterSet]:
    distill = shutil.which("distill", path=str(Path(sys.executable).parent))
    assert distill is not None
    found = [pytest.param([distill, "lsp"], id="distill-lsp")]
    if sys.version_info >= (3, 11):  # -P is new in 3.11
        found.append(pytest.param([sys.executable, "-P", "-m", "distill", "lsp"], id="python-P"))
    return found


@pytest.mark.parametrize("trusted", [True, False], ids=["trusted", "untrusted"])
@pytest.mark.parametrize("server", _commands())
async def test_planted_modules_are_never_imported(
    tmp_path: Path, server: list[str], trusted: bool
) -> None:
    root = copy_shop(tmp_path / "shop")
    marks = tmp_path / "marks"
    plant(root, marks)
    client: LanguageClient = make_test_lsp_client()
    await client.start_io(*server, env=ENV, cwd=root)  # started in the workspace
    try:
        await asyncio.wait_for(start(client, root, trusted=trusted), 60)
        uri = open_file(client, root / "shop" / "models.py")
        if trusted:
            # The models imported (the project's own package ``shop`` among them) ...
            await until(client, uri, lambda ds: "drift.database-behind" in codes(client, uri), 60)
            assert not [c for c in codes(client, uri) if c.startswith("models.")]
            # ... and the CLI ran in the project, with the real Distill.
            result = await command(client, "distill.upgrade", "head")
            assert result["after"], result
            await until(client, uri, lambda ds: codes(client, uri) == [], 60)
        else:
            settings = (root / "pyproject.toml").as_uri()
            (note,) = await until(client, settings, lambda ds: len(ds) == 1)
            assert note.code == "workspace.untrusted"
        await asyncio.wait_for(client.shutdown_session(), 30)
    finally:
        process = client._server
        if process is not None and process.returncode is None:
            await asyncio.sleep(1)
            if process.returncode is None:
                process.kill()
        await asyncio.wait_for(client.stop(), 30)
    assert sorted(p.name for p in marks.iterdir()) == []


@pytest.mark.parametrize("project_last", [False, True])
def test_the_bootstrap_keeps_the_start_folder_off_the_front_of_sys_path(
    tmp_path: Path, project_last: bool
) -> None:
    """A module on PYTHONPATH prints sys.path, run through the bootstrap in a planted folder."""
    tools, project = tmp_path / "tools", tmp_path / "project"
    tools.mkdir()
    project.mkdir()
    (tools / "print_path.py").write_text("import json, sys\nprint(json.dumps(sys.path))\n")
    (project / "print_path.py").write_text("raise SystemExit('the planted module ran')\n")
    plant(project, tmp_path / "marks")
    done = subprocess.run(
        python_module(sys.executable, "print_path", project_last=project_last),
        cwd=project, capture_output=True, text=True, timeout=60,
        env={**ENV, "PYTHONPATH": str(tools)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    entries = json.loads(done.stdout)
    assert entries[0] == str(tools) and "" not in entries  # PYTHONPATH kept, the folder not first
    assert (entries[-1] == str(project)) if project_last else (str(project) not in entries)
    assert list((tmp_path / "marks").iterdir()) == []
