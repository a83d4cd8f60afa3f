"""``op`` is typed for editors: completion, signature help and hover (issue 13, item 10).

Type checkers and language servers (Pyright, Pylance, Jedi, mypy) read the same
annotations; mypy, a dev dependency, stands for them here.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

from distill.ops.api import Operations


def test_op_is_an_operations_to_a_type_checker(tmp_path: Path) -> None:
    script = tmp_path / "rev.py"
    script.write_text(
        "import sqlalchemy as sa\nfrom distill import op\n\n"
        "reveal_type(op)\n"
        'op.add_column("t", sa.Column("x", sa.Integer), schema=1)\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", str(tmp_path / "c"),
         str(script)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert 'Revealed type is "distill.ops.api.Operations"' in done.stdout, done.stdout
    assert 'Argument "schema" to "add_column" of "Operations"' in done.stdout


def test_every_operation_says_what_it_does() -> None:
    public = [
        (name, member)
        for name, member in inspect.getmembers(Operations)
        if not name.startswith("_") and callable(member)
    ]
    assert len(public) > 20
    undocumented = [name for name, member in public if not (member.__doc__ or "").strip()]
    assert undocumented == []
