"""Building small Distill projects on disk for tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from distill import commands
from distill.config import load_config

DISTILL = [sys.executable, "-m", "distill"]


@dataclass
class ProjectDir:
    root: Path
    url: str

    @property
    def versions(self) -> Path:
        return self.root / "migrations" / "versions"

    def add(
        self,
        rev: str,
        down: str | Sequence[str] | None,
        upgrade: str = "pass",
        downgrade: str = "pass",
        *,
        message: str | None = None,
        branch_labels: Sequence[str] | None = None,
        depends_on: Sequence[str] | None = None,
        header: str = "",
    ) -> Path:
        """Write a revision file whose bodies are the given Python statements."""
        path = self.versions / f"{rev}_{(message or rev).replace(' ', '_')}.py"
        down_literal = repr(tuple(down)) if isinstance(down, (list, tuple)) else repr(down)
        path.write_text(
            f'"""{message or "revision " + rev}\n\nRevision ID: {rev}\n"""\n'
            "from distill import op\nimport sqlalchemy as sa\n"
            f"{header}\n"
            f"revision = {rev!r}\ndown_revision = {down_literal}\n"
            f"branch_labels = {tuple(branch_labels) if branch_labels else None!r}\n"
            f"depends_on = {tuple(depends_on) if depends_on else None!r}\n\n\n"
            f"def upgrade():\n{textwrap.indent(textwrap.dedent(upgrade).strip(), '    ')}\n\n\n"
            f"def downgrade():\n{textwrap.indent(textwrap.dedent(downgrade).strip(), '    ')}\n"
        )
        return path

    def project(self) -> commands.Project:
        return commands.Project(load_config(self.root, environ={}))

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DISTILL_URL": ""}
        env.pop("DISTILL_URL")
        return subprocess.run(
            [*DISTILL, *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )


def make_project(root: Path, url: str, extra_settings: str = "") -> ProjectDir:
    root.mkdir(parents=True, exist_ok=True)
    (root / "migrations" / "versions").mkdir(parents=True, exist_ok=True)
    (root / "distill.toml").write_text(
        f'script_location = "migrations"\nurl = "{url}"\n{extra_settings}'
    )
    return ProjectDir(root, url)


EXAMPLE = Path(__file__).parent.parent / "examples" / "shop"


def copy_shop(destination: Path) -> Path:
    """A copy of examples/shop, without a database."""
    shutil.copytree(EXAMPLE, destination, ignore=shutil.ignore_patterns("*.db", "__pycache__"))
    return destination
