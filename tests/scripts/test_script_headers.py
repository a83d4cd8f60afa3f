"""Revision files: headers read without importing, the header cache, loading, writing."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from distill.caches import cache_for
from distill.errors import ConfigError, ScriptError
from distill.file_template import revision_filename, slugify
from distill.scripts import script
from distill.scripts.script import (
    CACHE_NAME,
    file_sha256,
    load_module,
    read_revision,
    scan_revisions,
)
from distill.scripts.writing import new_revision_id, render_revision

TEMPLATE = Path(script.__file__).parent.parent / "templates" / "script.py.tmpl"

ALEMBIC_STYLE = '''"""add email to users

Revision ID: 3f2a9c1d7b10
Revises: 9b1e0c44aa21
Create Date: 2024-11-23 10:00:00.123456

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '3f2a9c1d7b10'
down_revision: Union[str, Sequence[str], None] = '9b1e0c44aa21'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    revision = "not this one"
    op.add_column("users", sa.Column("email", sa.String(255)))


def downgrade() -> None:
    op.drop_column("users", "email")
'''


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, "utf-8")
    return path


def header(rev_id: str, down: object = None, **extra: object) -> str:
    lines = [f'"""message of {rev_id}"""', f"revision = {rev_id!r}", f"down_revision = {down!r}"]
    lines += [f"{k} = {v!r}" for k, v in extra.items()]
    return "\n".join(lines) + "\n\ndef upgrade():\n    pass\n\ndef downgrade():\n    pass\n"


# -- reading headers -------------------------------------------------------------------------


def test_alembic_style_header(tmp_path: Path) -> None:
    rev = read_revision(write(tmp_path, "3f2a_add.py", ALEMBIC_STYLE))
    assert rev is not None
    assert rev.id == "3f2a9c1d7b10"
    assert rev.down_revisions == ("9b1e0c44aa21",)
    assert rev.branch_labels == () and rev.depends_on == ()
    assert rev.message == "add email to users"
    assert rev.create_date == "2024-11-23 10:00:00.123456"
    assert not rev.is_base and not rev.is_merge


def test_tuples_spanning_lines_and_comments(tmp_path: Path) -> None:
    text = (
        "'''merge'''\n"
        'revision = "m1"  # the merge\n'
        "down_revision = (\n    'a1',  # first\n    'b1',\n)\n"
        "branch_labels = ['lbl']\n"
        "depends_on = 'c1'\n"
    )
    rev = read_revision(write(tmp_path, "m1.py", text))
    assert rev is not None
    assert rev.down_revisions == ("a1", "b1") and rev.is_merge
    assert rev.branch_labels == ("lbl",)
    assert rev.depends_on == ("c1",)
    assert rev.message == "merge" and rev.create_date is None


def test_base_revision_and_no_docstring(tmp_path: Path) -> None:
    rev = read_revision(write(tmp_path, "a.py", "revision = 'a1'\ndown_revision = None\n"))
    assert rev is not None and rev.is_base and rev.message == ""


def test_docstring_showing_a_header_does_not_confuse_the_scan(tmp_path: Path) -> None:
    text = '"""example\n\nrevision = "fake"\n"""\nrevision = "real"\ndown_revision = None\n'
    rev = read_revision(write(tmp_path, "r.py", text))
    assert rev is not None and rev.id == "real"


def test_helper_module_is_not_a_revision(tmp_path: Path) -> None:
    assert read_revision(write(tmp_path, "helpers.py", "def util():\n    revision = 1\n")) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("revision = make_id()\n", r"r\.py:1: revision must be written as a literal .*make_id\(\)"),
        ("x = 1\nrevision = 'a'\ndown_revision = parent\n", r"r\.py:3: down_revision must be"),
        ("revision = 'a'\ndown_revision = (\n", r"r\.py:\d+: syntax error"),
        ("revision = 5\n", r"r\.py:1: revision must be a non-empty string, not 5"),
        ("revision = ''\n", r"r\.py:1: revision must be a non-empty string"),
        ("revision = 'a'\nbranch_labels = 3\n", r"r\.py:2: branch_labels must be None, a string"),
        ("revision = 'a'\ndepends_on = ('x', 1)\n", r"r\.py:2: depends_on must be None"),
    ],
)
def test_bad_headers_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ScriptError, match=message):
        read_revision(write(tmp_path, "r.py", text))


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "r.py"
    path.write_bytes(b"revision = '\xff'\n")
    with pytest.raises(ScriptError, match=r"r\.py: is not UTF-8"):
        read_revision(path)


@given(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=60),
    st.lists(st.from_regex(r"[0-9a-f]{12}", fullmatch=True), max_size=3, unique=True),
)
def test_rendered_revision_reads_back(message: str, parents: list[str]) -> None:
    import tempfile

    down = (
        "None" if not parents else repr(parents[0]) if len(parents) == 1 else repr(tuple(parents))
    )
    text = render_revision(
        TEMPLATE.read_text(),
        {
            "message": message,
            "revision": "abcdef012345",
            "down_revision": down,
            "branch_labels": "None",
            "depends_on": "None",
            "create_date": "2026-01-01 00:00:00",
            "imports": "",
            "upgrades": "",
            "downgrades": "",
        },
    )
    with tempfile.TemporaryDirectory() as tmp:
        rev = read_revision(write(Path(tmp), "x.py", text))
    compile(text, "x.py", "exec")
    assert rev is not None
    assert rev.id == "abcdef012345"
    assert rev.down_revisions == tuple(parents)
    assert rev.create_date == "2026-01-01 00:00:00"
    first = message.strip().splitlines()[0].strip() if message.strip() else ""
    if first and "\\" not in first and '"' not in first:
        assert rev.message == first


# -- scanning and the header cache ------------------------------------------------------------


def test_scan_several_folders_skips_private_and_non_python(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    write(one, "b.py", header("b1", "a1"))
    write(one, "a.py", header("a1"))
    write(one, "_helpers.py", header("h1"))
    write(one, ".hidden.py", header("h2"))
    write(one, "notes.txt", header("h3"))
    write(one / "sub", "c.py", header("h4"))
    write(one, "util.py", "X = 1\n")
    write(two, "c.py", header("c1", "b1"))
    found = scan_revisions([one, two])
    assert [r.id for r in found] == ["a1", "b1", "c1"]
    assert found[2].path == two / "c.py"


def test_missing_folder_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match=r"nope does not exist .*version_locations.*distill init"):
        scan_revisions([tmp_path / "nope"])


def test_cache_is_used_and_refreshed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "a.py", header("a1"))
    b = write(tmp_path, "b.py", header("b1", "a1"))
    cache = cache_for(tmp_path, CACHE_NAME)
    assert [r.id for r in scan_revisions([tmp_path])] == ["a1", "b1"]
    assert set(cached_entries(cache)) == {"a.py", "b.py"}
    written_at = cache.stat().st_mtime_ns

    reads: list[str] = []
    real = script.read_revision

    def counting(path: Path) -> script.Revision | None:
        reads.append(path.name)
        return real(path)

    monkeypatch.setattr(script, "read_revision", counting)
    assert [r.id for r in scan_revisions([tmp_path])] == ["a1", "b1"]
    assert reads == []  # everything came from the cache
    assert cache.stat().st_mtime_ns == written_at  # nothing changed, nothing written

    b.write_text(header("b2", "a1") + "# longer now\n")
    os.utime(b, ns=(b.stat().st_atime_ns, b.stat().st_mtime_ns + 10_000_000))
    assert [r.id for r in scan_revisions([tmp_path])] == ["a1", "b2"]
    assert reads == ["b.py"]


def cached_entries(cache: Path) -> dict[str, object]:
    """The per-file entries of a header cache (first line: format and CRC)."""
    entries: dict[str, object] = json.loads(cache.read_text().partition("\n")[2])
    return entries


def test_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    write(tmp_path, "a.py", header("a1"))
    scan_revisions([tmp_path])
    cache = cache_for(tmp_path, CACHE_NAME)
    for junk in ["{not json", "[]", '{"format": 2, "crc": 0}\n{"a.py": [1, 2, [3]]}']:
        cache.write_text(junk)
        assert [r.id for r in scan_revisions([tmp_path])] == ["a1"]
    # An entry edited behind Distill's back fails the CRC and is not trusted.
    first = cache.read_text().partition("\n")[0]
    stat = (tmp_path / "a.py").stat()
    tampered = {"a.py": [stat.st_mtime_ns, stat.st_size, ["zz", None, [], [], "m", 5]]}
    cache.write_text(first + "\n" + json.dumps(tampered))
    assert [r.id for r in scan_revisions([tmp_path])] == ["a1"]


def test_cache_write_failure_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "a.py", header("a1"))

    def refuse(*_: object) -> None:
        raise PermissionError(13, "read-only file system")

    monkeypatch.setattr(os, "replace", refuse)
    assert [r.id for r in scan_revisions([tmp_path])] == ["a1"]
    assert not (cache_for(tmp_path, CACHE_NAME)).exists()
    assert not [p for p in cache_for(tmp_path, "").iterdir() if p.suffix == ".tmp"]


def test_removed_file_leaves_the_cache(tmp_path: Path) -> None:
    write(tmp_path, "a.py", header("a1"))
    b = write(tmp_path, "b.py", header("b1", "a1"))
    scan_revisions([tmp_path])
    b.unlink()
    assert [r.id for r in scan_revisions([tmp_path])] == ["a1"]
    cache = cached_entries(cache_for(tmp_path, CACHE_NAME))
    assert set(cache) == {"a.py"}


def test_graph_commands_do_not_import_sqlalchemy(tmp_path: Path) -> None:
    write(tmp_path, "a.py", header("a1"))
    code = (
        "import sys; from pathlib import Path\n"
        "from distill.scripts.graph import RevisionGraph\n"
        "from distill.scripts.script import scan_revisions\n"
        f"g = RevisionGraph(scan_revisions([Path({str(tmp_path)!r})]))\n"
        "assert g.heads == ('a1',)\n"
        "assert 'sqlalchemy' not in sys.modules, 'sqlalchemy was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- loading a revision to run it ----------------------------------------------------------------


def test_load_module_runs_the_file(tmp_path: Path) -> None:
    module = load_module(write(tmp_path, "a.py", header("a1") + "VALUE = 42\n"))
    assert module.VALUE == 42 and callable(module.upgrade)
    assert module.__name__ not in sys.modules


def test_from_alembic_import_op_gives_distills_op(tmp_path: Path) -> None:
    import distill

    module = load_module(write(tmp_path, "a.py", "from alembic import op\nrevision = 'a1'\n"))
    assert module.op is distill.op


def test_load_module_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "a.py", "revision = 'a1'\n\ndef upgrade(:\n    pass\n")
    with pytest.raises(ScriptError, match=rf"^{re.escape(str(path))}:3: SyntaxError: "):
        load_module(path)


def test_load_module_exception_names_the_line_in_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "a.py", "import json\nrevision = 'a1'\nx = 1 / 0\n")
    with pytest.raises(ScriptError) as info:
        load_module(path)
    assert str(info.value) == f"{path}:3: ZeroDivisionError: division by zero"
    path = write(tmp_path, "b.py", "import no_such_module_here\n")
    with pytest.raises(ScriptError, match=r"b\.py:1: ModuleNotFoundError: No module named"):
        load_module(path)


def test_file_sha256(tmp_path: Path) -> None:
    path = write(tmp_path, "a.py", "revision = 'a1'\n")
    assert file_sha256(path) == hashlib.sha256(b"revision = 'a1'\n").hexdigest()
    with pytest.raises(ScriptError, match="cannot be read"):
        file_sha256(tmp_path / "missing.py")


# -- writing ---------------------------------------------------------------------------

FIELDS = {
    "message": "add users",
    "revision": "abc123abc123",
    "down_revision": "None",
    "branch_labels": "None",
    "depends_on": "None",
    "create_date": "2026-01-01 10:00:00",
    "imports": "",
    "upgrades": "    pass",
    "downgrades": "    pass",
}


def test_rendered_empty_revision_is_already_formatted(tmp_path: Path) -> None:
    text = render_revision(TEMPLATE.read_text(), FIELDS)
    assert "Revises:\n" in text and "from distill import op\n" in text
    assert all(line == line.rstrip() for line in text.splitlines())
    assert "\n\n\n\n" not in text and text.endswith("pass\n")
    merge = render_revision(
        TEMPLATE.read_text(),
        {**FIELDS, "down_revision": '("a1", "b1")', "imports": "import json\n"},
    )
    assert "Revises: a1, b1\n" in merge and "import sqlalchemy as sa\nimport json\n\n" in merge
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is not installed next to this Python")
    for name, source in (("empty.py", text), ("merge.py", merge)):
        path = write(tmp_path, name, source)
        subprocess.run(
            [str(ruff), "format", "--check", "--no-cache", str(path)], check=True, cwd=tmp_path
        )


def test_render_escapes_the_message() -> None:
    text = render_revision(TEMPLATE.read_text(), {**FIELDS, "message": 'say """hi""" \\o/'})
    namespace: dict[str, object] = {}
    exec(compile(text.replace("from distill import op\n", ""), "x", "exec"), namespace)
    assert str(namespace["__doc__"]).startswith('say """hi""" \\o/')


def test_render_unknown_placeholder() -> None:
    with pytest.raises(ScriptError, match=r"uses \$\{nope\}.*script\.py\.tmpl"):
        render_revision("${nope}", FIELDS)
    with pytest.raises(ScriptError, match="malformed"):
        render_revision("$ {", FIELDS)


def test_revision_filename() -> None:
    when = datetime(2026, 3, 4, 5, 6, 7)
    assert revision_filename("%(rev)s_%(slug)s", "ab12", "Add users table!", when) == (
        "ab12_add_users_table.py"
    )
    name = revision_filename("%(year)d%(month).2d%(day).2d_%(rev)s", "ab12", "x", when)
    assert name == "20260304_ab12.py"
    assert revision_filename("%(epoch)s", "ab12", "", when) == f"{int(when.timestamp())}.py"
    with pytest.raises(ConfigError, match=r"%\(nope\)s.*file_template"):
        revision_filename("%(nope)s", "ab12", "x", when)


def test_slug_is_cut_at_a_word_boundary() -> None:
    slug = slugify("add a very long column name to the accounts table and more")
    assert slug == "add_a_very_long_column_name_to_the"
    assert len(slug) <= 40
    assert slugify("x" * 50) == "x" * 40
    assert slugify("  Ünïcode — ok? ") == "ünïcode_ok"
    assert slugify("") == ""


def test_new_revision_id() -> None:
    ids = {new_revision_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"[0-9a-f]{12}", i) for i in ids)
