"""env.py that chooses the versions folders: ``context.script.version_locations``.

Real projects pick a versions folder per database, tenant or ``-x`` argument in
env.py (Prefect, multi-tenant FastAPI layouts), some popping Alembic's memo of
the folders (``context.script.__dict__.pop("_version_locations")``) first.
Alembic reads the revisions once env.py has begun, so what env.py chose is what
``upgrade``, ``downgrade``, ``stamp``, ``current``, ``check`` and ``revision
--autogenerate`` use, while ``heads`` and ``history`` (which run no env.py)
keep the settings' folders.  Each case runs both tools on twin projects.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.alembic_projects import (
    app_project,
    prepend_to_env,
    revision_script,
    run_cli,
    snapshot,
    write,
)

MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

class Base(DeclarativeBase):
    pass

sa.Table("tenant_t", Base.metadata, sa.Column("id", sa.Integer, primary_key=True),
         sa.Column("note", sa.String(20)))
"""
CHOOSE = {
    "plain": """
        if context.get_x_argument(as_dictionary=True).get("tenant"):
            context.script.version_locations = [str(Path(__file__).parent / "tenant")]
    """,
    # the popular form: Alembic's memo of the folders popped before choosing
    "popped": """
        context.script.__dict__.pop("_version_locations", None)
        if context.get_x_argument(as_dictionary=True).get("tenant"):
            context.script.version_locations = [str(Path(__file__).parent / "tenant")]
    """,
}


def _project(root: Path, style: str) -> Path:
    app_project(root, f"sqlite:///{root / 'app.db'}", MODELS)
    choose = textwrap.dedent(CHOOSE[style])
    prepend_to_env(root, f"from pathlib import Path\n{choose}\n"
                   'print("head:", context.script.get_current_head())\n')  # fmt: skip
    folders = {"m1": "versions", "t1": "tenant", "t2": "tenant"}
    downs = {"m1": None, "t1": None, "t2": "t1"}
    bodies = {
        "m1": ('op.create_table("main_t", sa.Column("id", sa.Integer, primary_key=True))',
               'op.drop_table("main_t")'),
        "t1": ('op.create_table("tenant_t", sa.Column("id", sa.Integer, primary_key=True))',
               'op.drop_table("tenant_t")'),
        "t2": ('op.add_column("tenant_t", sa.Column("note", sa.String(20)))',
               'op.drop_column("tenant_t", "note")'),
    }  # fmt: skip
    for rev, (up, down) in bodies.items():
        path = root / "alembic" / folders[rev] / f"{rev}.py"
        write(path, revision_script(rev, downs[rev], rev, up, down))
    return root


def _both(tmp_path: Path, style: str, *argv: str) -> dict[str, object]:
    done = {}
    for tool in ("alembic", "distill"):
        root = tmp_path / tool
        if not root.exists():
            _project(root, style)
        done[tool] = run_cli(tool, root, *argv)
    return done


def _ok(done: dict[str, object]) -> dict[str, str]:
    out = {}
    for tool, result in done.items():
        assert result.returncode == 0, f"{tool}: {result.stderr}"  # type: ignore[attr-defined]
        out[tool] = result.stdout  # type: ignore[attr-defined]
    return out


@pytest.mark.parametrize("style", sorted(CHOOSE))
def test_the_folders_env_py_chooses_are_the_ones_migrated(tmp_path: Path, style: str) -> None:
    tenant = ("-x", "tenant=t")
    out = _ok(_both(tmp_path, style, *tenant, "upgrade", "head"))
    assert "head: t2" in out["alembic"] and "head: t2" in out["distill"]
    shots = {tool: snapshot(f"sqlite:///{tmp_path / tool / 'app.db'}") for tool in out}
    assert shots["alembic"].versions == shots["distill"].versions == ["t2"]
    assert shots["alembic"].tables == shots["distill"].tables
    out = _ok(_both(tmp_path, style, *tenant, "current"))
    assert all(text.split() == ["head:", "t2", "t2", "(head)"] for text in out.values()), out
    done = _both(tmp_path, style, *tenant, "check")
    _ok(done)  # both: no difference between the tenant's models and its history
    assert "No new upgrade operations detected." in done["alembic"].stdout  # type: ignore[attr-defined]
    assert "No differences" in done["distill"].stderr  # type: ignore[attr-defined]
    _ok(_both(tmp_path, style, *tenant, "downgrade", "-1"))
    _ok(_both(tmp_path, style, *tenant, "stamp", "t2"))
    shots = {tool: snapshot(f"sqlite:///{tmp_path / tool / 'app.db'}") for tool in out}
    assert shots["alembic"].versions == shots["distill"].versions == ["t2"]
    assert shots["alembic"].tables == shots["distill"].tables
    # heads runs no env.py, in Alembic as in Distill: the settings' folder
    out = _ok(_both(tmp_path, style, *tenant, "heads"))
    assert all(text.split() == ["m1", "(head)"] for text in out.values()), out


def test_without_the_choice_the_settings_folders_are_migrated(tmp_path: Path) -> None:
    out = _ok(_both(tmp_path, "plain", "upgrade", "head"))
    assert "head: m1" in out["alembic"] and "head: m1" in out["distill"]
    shots = {tool: snapshot(f"sqlite:///{tmp_path / tool / 'app.db'}") for tool in out}
    assert shots["alembic"].versions == shots["distill"].versions == ["m1"]


def test_autogenerate_writes_into_the_folder_env_py_chose(tmp_path: Path) -> None:
    tenant = ("-x", "tenant=t")
    _ok(_both(tmp_path, "plain", *tenant, "upgrade", "head"))
    for tool in ("alembic", "distill"):  # the models gain a table neither history has
        models = tmp_path / tool / "app" / "models.py"
        models.write_text(models.read_text() + '\nsa.Table("extra", Base.metadata, '
                          'sa.Column("id", sa.Integer, primary_key=True))\n')  # fmt: skip
    _ok(_both(tmp_path, "plain", *tenant, "revision", "--autogenerate", "-m", "extra"))
    for tool in ("alembic", "distill"):
        written = sorted(p.name for p in (tmp_path / tool / "alembic" / "tenant").glob("*.py"))
        assert len(written) == 3 and any("extra" in name for name in written), (tool, written)
        new = next(p for p in (tmp_path / tool / "alembic" / "tenant").glob("*extra*.py"))
        assert "Revises: t2\n" in new.read_text()
        assert "extra" in new.read_text() and "note" not in new.read_text()


def test_doctor_names_the_folders_env_py_chose(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", "popped")
    chosen = run_cli("distill", root, "-x", "tenant=t", "doctor")
    plain = run_cli("distill", root, "doctor")
    line = f"versions folders chosen by env.py (context.script.version_locations): {root}"
    assert line in chosen.stdout and chosen.returncode == 0, chosen.stdout + chosen.stderr
    assert "versions folders chosen" not in plain.stdout


def test_env_py_reads_the_revisions_as_from_alembic(tmp_path: Path) -> None:
    reads = """
        script = context.script
        print("walk:", [s.revision for s in script.walk_revisions()])
        print("heads:", script.get_heads(), "bases:", script.get_bases(), script.get_base())
        t2 = script.get_revision("t2")
        print("t2:", t2.revision, t2.down_revision, t2.doc, Path(t2.path).name)
        print("revs:", [s.revision for s in script.get_revisions("heads")])
        print("dir:", Path(script.dir).name, Path(script.versions).name)
    """
    outputs = {}
    for tool in ("alembic", "distill"):
        root = _project(tmp_path / tool, "popped")
        prepend_to_env(root, reads)
        done = run_cli(tool, root, "-x", "tenant=t", "current")
        assert done.returncode == 0, done.stderr
        outputs[tool] = [line for line in done.stdout.splitlines() if ":" in line]
    assert outputs["alembic"] == outputs["distill"]
    assert "t2: t2 t1 t2 t2.py" in outputs["distill"]
