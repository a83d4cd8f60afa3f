"""revision --autogenerate and check through the real CLI, on the example's shape."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.projects import ProjectDir

EXAMPLE = Path(__file__).parents[2] / "examples" / "shop"


@pytest.fixture
def shop(tmp_path: Path) -> ProjectDir:
    root = tmp_path / "shop"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("*.db", "__pycache__"))
    # a package name of its own, so tests in one process never share a models module
    (root / "shop").rename(root / f"shop_{tmp_path.name[-8:].replace('-', '_')}")
    package = next(p.name for p in root.iterdir() if p.name.startswith("shop_"))
    settings = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(settings.replace("shop.models", f"{package}.models"))
    return ProjectDir(root, "sqlite:///shop.db")


def models(p: ProjectDir) -> Path:
    return next(p.root.glob("shop_*/models.py"))


def test_check_then_autogenerate_then_clean(shop: ProjectDir) -> None:
    behind = shop.cli("check")
    assert behind.returncode == 1
    assert behind.stdout.strip() == (
        "migrations vs database: database is at base, 3 revision(s) behind head; "
        "run 'distill upgrade head'"
    )
    assert shop.cli("-q", "upgrade", "head").returncode == 0
    clean = shop.cli("check")
    assert clean.returncode == 0 and clean.stdout == "", clean.stdout

    path = models(shop)
    path.write_text(path.read_text().replace(
        'status: Mapped[str] = mapped_column(sa.String(20), server_default="new")',
        'status: Mapped[str] = mapped_column(sa.String(40), server_default="new")',
    ))  # fmt: skip
    report = json.loads(shop.cli("check", "--format", "json").stdout)
    assert report["ok"] is False and report["database"] == "compared"
    assert [d["message"] for d in report["differences"]] == [
        "orders.status: column type VARCHAR(20) -> VARCHAR(40)"
    ]
    made = shop.cli("revision", "--autogenerate", "-m", "longer status")
    assert made.returncode == 0, made.stderr
    text = next(shop.versions.glob("*_longer_status.py")).read_text()
    assert "type_=sa.String(length=40)" in text and "existing_nullable=False" in text
    assert shop.cli("-q", "upgrade", "head").returncode == 0
    assert shop.cli("check").returncode == 0


def test_check_creates_no_database_file(shop: ProjectDir) -> None:
    behind = shop.cli("check")
    assert behind.returncode == 1 and "3 revision(s) behind head" in behind.stdout
    assert not (shop.root / "shop.db").exists()


def test_check_without_a_database_compares_models_and_migrations(shop: ProjectDir) -> None:
    unreachable = "postgresql+psycopg://nobody:secret@127.0.0.1:1/nothing"
    done = shop.cli("--url", unreachable, "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "note: the database was not compared: cannot connect to" in done.stderr
    assert "secret" not in done.stderr
    assert "No differences between models and migrations" in done.stderr


def test_possible_rename_is_reported_and_rename_flag_renders_it(shop: ProjectDir) -> None:
    path = models(shop)
    path.write_text(path.read_text().replace("    name: Mapped[str]", "    full_name: Mapped[str]"))
    report = shop.cli("check")
    assert (
        "models vs migrations: customers.name -> customers.full_name: possible rename; "
        "to keep the data, generate it with 'distill revision --autogenerate --rename "
        "customers.name:full_name'"
    ) in report.stdout
    plain = shop.cli("revision", "--autogenerate", "-m", "swap")
    assert plain.returncode == 0
    swapped = next(shop.versions.glob("*_swap.py")).read_text()
    assert '#     op.alter_column("customers", "name", new_column_name="full_name")' in swapped
    next(shop.versions.glob("*_swap.py")).unlink()
    renamed = shop.cli("revision", "--autogenerate", "-m", "rename",
                       "--rename", "customers.name:full_name")  # fmt: skip
    assert renamed.returncode == 0, renamed.stderr
    text = next(shop.versions.glob("*_rename.py")).read_text()
    assert 'op.alter_column("customers", "name", new_column_name="full_name")' in text
    assert "drop_column" not in text


def test_exclude_tables_must_be_a_list(shop: ProjectDir) -> None:
    settings = shop.root / "pyproject.toml"
    settings.write_text(settings.read_text() + 'exclude_tables = "orders*"\n')
    done = shop.cli("check")
    assert done.returncode == 1 and "exclude_tables must be a list of globs" in done.stderr


def test_hooks_import_from_the_project_and_may_not_crash(shop: ProjectDir) -> None:
    package = models(shop).parent
    (package / "hooks.py").write_text(
        "def skip_orders(obj, name, type_, reflected, compare_to):\n"
        "    return not (type_ == 'table' and name == 'orders')\n"
        "def broken(obj, name, type_, reflected, compare_to):\n"
        "    return obj.info.get('skip') or obj.columns\n"
    )
    settings = shop.root / "pyproject.toml"
    base = settings.read_text()
    path = models(shop)
    path.write_text(path.read_text().replace("sa.String(20)", "sa.String(40)"))
    settings.write_text(base + f'include_object = "{package.name}.hooks:skip_orders"\n')
    shop.cli("-q", "upgrade", "head")
    assert shop.cli("check").returncode == 0  # the only difference is in orders, skipped
    settings.write_text(base + f'include_object = "{package.name}.hooks:broken"\n')
    done = shop.cli("check")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1
    assert "the include_object hook" in lines[0] and "raised AttributeError" in lines[0]


def test_the_formatter_leaves_no_cache_in_the_project(shop: ProjectDir) -> None:
    """The revision is formatted by ruff (installed here), which keeps no .ruff_cache/."""
    assert shop.cli("-q", "upgrade", "head").returncode == 0
    path = models(shop)
    path.write_text(path.read_text() + "\n# edited\n")
    made = shop.cli("revision", "--autogenerate", "-m", "nothing new")
    assert made.returncode == 0, made.stderr
    assert not (shop.root / ".ruff_cache").exists()


def test_without_a_message_the_revision_is_named_after_its_changes(shop: ProjectDir) -> None:
    assert shop.cli("-q", "upgrade", "head").returncode == 0
    path = models(shop)
    path.write_text(path.read_text().replace(
        'status: Mapped[str] = mapped_column(sa.String(20), server_default="new")',
        'status: Mapped[str] = mapped_column(sa.String(40), server_default="new")\n'
        "    note: Mapped[str | None] = mapped_column(sa.String(80))",
    ))  # fmt: skip
    made = shop.cli("revision", "--autogenerate")
    assert made.returncode == 0, made.stderr
    [written] = shop.versions.glob("*_add_orders_note_alter_orders_status.py")
    assert '"""add orders.note; alter orders.status' in written.read_text()
    refused = shop.cli("revision")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "distill: error: revision needs -m MESSAGE "
        "(only --autogenerate names a revision after its changes)"
    )


@pytest.mark.parametrize("dialect_name", ["postgresql"], indirect=True)
def test_autogenerate_writes_the_safe_forms_when_asked(
    shop: ProjectDir, db_url: str, dialect_name: str
) -> None:
    """``autogenerate_safe_forms``: an index on an existing table is built CONCURRENTLY in
    an autocommit block; one on a table the same revision creates stays as it is."""
    settings = shop.root / "pyproject.toml"
    settings.write_text(
        settings.read_text().replace('url = "sqlite:///shop.db"', f'url = "{db_url}"')
    )
    assert shop.cli("-q", "upgrade", "head").returncode == 0
    path = models(shop)
    path.write_text(
        path.read_text().replace(
            "name: Mapped[str] = mapped_column(sa.String(100))",
            "name: Mapped[str] = mapped_column(sa.String(100), index=True)",
        )
        + "\n\nclass Note(Base):\n    __tablename__ = 'notes'\n\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "    body: Mapped[str] = mapped_column(sa.Text, index=True)\n"
    )
    plain = shop.cli("revision", "--autogenerate", "-m", "plain")
    assert plain.returncode == 0, plain.stderr
    revision = next(shop.versions.glob("*_plain.py"))
    assert "autocommit_block" not in revision.read_text()
    revision.unlink()
    settings.write_text(
        settings.read_text() + "\n[tool.distill.lint]\nautogenerate_safe_forms = true\n"
    )
    made = shop.cli("revision", "--autogenerate", "-m", "safe")
    assert made.returncode == 0, made.stderr
    assert (
        "Wrote the safe forms (index-not-concurrent), as autogenerate_safe_forms asks"
        in made.stderr
    )
    text = next(shop.versions.glob("*_safe.py")).read_text()
    upgrade = text.split("def upgrade", 1)[1].split("def downgrade", 1)[0]
    assert (
        "    with op.get_context().autocommit_block():\n"
        "        op.create_index(\n"
        '            "ix_customers_name", "customers", ["name"], postgresql_concurrently=True\n'
        "        )\n"
    ) in upgrade, upgrade
    assert '    op.create_index("ix_notes_body", "notes", ["body"])\n' in upgrade  # a new table
    linted = shop.cli("lint")  # the database is at the revision before
    assert "index-not-concurrent" not in linted.stdout and linted.returncode == 0, linted.stdout
    done = shop.cli("-q", "upgrade", "head")
    assert done.returncode == 0, done.stderr
    assert shop.cli("check").returncode == 0
