"""Revision files in the editor: findings, hover, go to definition, code lenses.

Files are written on disk the way Distill writes them (``ProjectDir.add`` and
the real template); open buffers are simulated by replacing a file's text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from distill.lsp import migration_files as mf
from distill.lsp.migration_files import Finding, Span
from distill.scripts import script
from distill.scripts.plans import upgrade_steps
from distill.scripts.resolve import resolve
from distill.scripts.script import file_sha256
from distill.scripts.writing import render_revision
from tests.projects import ProjectDir, make_project

TEMPLATE = Path(script.__file__).parent.parent / "templates" / "script.py.tmpl"
ADD_EMAIL = 'op.add_column("users", sa.Column("email", sa.String(255)))'


@pytest.fixture
def project(tmp_path: Path) -> ProjectDir:
    return make_project(tmp_path, "sqlite://")


def texts(project: ProjectDir, **buffers: str) -> dict[str, str]:
    """Every file's text as on disk (bytes decoded: no newline translation); buffers win."""
    found = {str(p): p.read_bytes().decode() for p in sorted(project.versions.glob("*.py"))}
    for path, text in buffers.items():
        found[path] = text
    return found


def check(
    project: ProjectDir, applied: dict[str, str | None] | None = None
) -> dict[str, list[Finding]]:
    return mf.findings(mf.read_revision_files(texts(project)), applied)


def where(path: Path | str, needle: str, nth: int = 0) -> Span:
    """The span of the ``nth`` occurrence of ``needle`` (ASCII lines) in the file."""
    text = Path(path).read_text()
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index)
    character = index - (text.rfind("\n", 0, index) + 1)
    return Span(line, character, line, character + len(needle))


def codes(found: dict[str, list[Finding]]) -> list[str]:
    return sorted(f.code for items in found.values() for f in items)


# -- findings ----------------------------------------------------------------------------


def test_a_clean_chain_has_no_findings_and_every_file_an_entry(project: ProjectDir) -> None:
    a1 = project.add("a1", None, ADD_EMAIL, 'op.drop_column("users", "email")')
    b1 = project.add("b1", "a1")
    helper = project.versions / "helpers.py"
    helper.write_text("def downgrade():\n    pass\n\n\ndef upgrade():\n    print('x')\n")
    assert check(project) == {str(a1): [], str(b1): [], str(helper): []}


def test_several_heads_warn_on_each_head_revision_line(project: ProjectDir) -> None:
    project.add("a1", None)
    b1 = project.add("b1", "a1")
    c1 = project.add("c1", "a1")
    found = check(project)
    message = "2 heads: b1, c1; merge them with 'distill merge heads -m \"...\"'"
    for path in (b1, c1):
        (finding,) = found[str(path)]
        assert finding.span == where(path, f"'{path.name[:2]}'")
        assert (finding.severity, finding.code) == ("warning", "migration.multiple-heads")
        assert finding.message == message and finding.data == {"heads": ["b1", "c1"]}
    project.add("m1", ["b1", "c1"], message="merge")
    assert codes(check(project)) == []


def test_a_down_revision_naming_nothing_is_an_error_on_its_literal(project: ProjectDir) -> None:
    project.add("a1b2c3d4", None)
    typo = project.add("b1", "zz99")
    prefix = project.add("c1", "a1b2", message="short parent")
    found = check(project)
    (error,) = found[str(typo)]
    assert error.span == where(typo, "'zz99'")
    assert (error.severity, error.code) == ("error", "migration.missing-down-revision")
    assert "down_revision 'zz99' names no revision" in error.message
    assert error.data == {"field": "down_revision", "name": "zz99", "suggestion": None}
    (short,) = found[str(prefix)]
    assert "(did you mean a1b2c3d4?)" in short.message
    assert short.data["suggestion"] == "a1b2c3d4"
    # The three heads come from the broken links: no advice to merge them.
    assert codes(found) == ["migration.missing-down-revision"] * 2


def test_depends_on_naming_nothing_is_an_error_on_its_literal(project: ProjectDir) -> None:
    project.add("a1b2c3d4", None, branch_labels=["users"])
    project.add("b1", "a1b2c3d4")
    ok = project.add("c1", "b1", depends_on=["users", "a1b2"], message="labels and prefixes")
    bad = project.add("d1", "c1", depends_on=["c1", "nope"])
    found = check(project)
    assert found[str(ok)] == []
    (error,) = found[str(bad)]
    assert error.span == where(bad, "'nope'")
    assert error.data["field"] == "depends_on" and "depends_on 'nope'" in error.message


def test_one_id_in_two_files_is_an_error_on_both(project: ProjectDir) -> None:
    first = project.add("a1", None, message="first")
    second = project.add("a1", None, message="second")
    other = project.add("b1", None, ADD_EMAIL)
    found = check(project)
    for path, twin in ((first, second), (second, first)):
        duplicate, heads = found[str(path)]
        assert duplicate.span == where(path, "'a1'")
        assert (duplicate.code, duplicate.severity) == ("migration.duplicate-id", "error")
        assert f"also declared in {twin.name};" in duplicate.message
        assert duplicate.data == {"revision": "a1", "files": [str(twin)]}
        assert heads.data == {"heads": ["a1", "b1"]}  # counted without the graph
    # The graph refuses these files; the other file's findings are still there.
    assert [f.code for f in found[str(other)]] == [
        "migration.empty-downgrade",
        "migration.multiple-heads",
    ]


@pytest.mark.parametrize(
    ("downgrade", "warned"),
    [
        ("pass", True),
        ("...", True),
        ('"""Nothing to undo."""\npass', True),
        ('op.drop_column("users", "email")', False),
        ('raise NotImplementedError("cannot be undone")', False),
    ],
)
def test_a_downgrade_that_does_nothing(project: ProjectDir, downgrade: str, warned: bool) -> None:
    path = project.add("a1", None, ADD_EMAIL, downgrade)
    found = check(project)[str(path)]
    if not warned:
        assert found == []
        return
    (warning,) = found
    assert warning.span == where(path, "def downgrade")
    assert (warning.code, warning.severity) == ("migration.empty-downgrade", "warning")
    assert warning.data == {"revision": "a1"}


def test_nothing_to_undo_when_upgrade_does_nothing(project: ProjectDir) -> None:
    project.add("a1", None, "pass", "pass")
    assert codes(check(project)) == []


def test_an_applied_file_that_changed_since(project: ProjectDir) -> None:
    path = project.add("a1", None, ADD_EMAIL, 'op.drop_column("users", "email")')
    ran = file_sha256(path)
    assert check(project, {"a1": ran}) == {str(path): []}
    assert check(project, {"a1": None}) == {str(path): []}  # stamped: nothing to compare
    edited = path.read_text().replace("255", "320")
    files = mf.read_revision_files(texts(project, **{str(path): edited}))
    (warning,) = mf.findings(files, {"a1": ran})[str(path)]
    assert warning.span == where(path, "'a1'")
    assert (warning.code, warning.severity) == ("migration.changed-after-apply", "warning")
    assert warning.message == (
        f"a1 was applied from a different version of this file (sha256 {ran[:12]}); "
        "a database that ran the old one will not get your change — write a new revision instead"
    )
    assert warning.data["recorded"] == ran
    path.write_text(edited)  # what the history table will record once the buffer is saved
    assert warning.data["current"] == file_sha256(path) != ran


def test_line_endings_do_not_make_an_applied_file_different(project: ProjectDir) -> None:
    path = project.add("a1", None, ADD_EMAIL, 'op.drop_column("users", "email")')
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    ran = file_sha256(path)
    for text in (path.read_bytes().decode(), path.read_text()):  # as saved; newlines translated
        files = mf.read_revision_files({str(path): text})
        assert mf.findings(files, {"a1": ran}) == {str(path): []}


def test_a_header_that_cannot_be_read_is_an_error_on_its_line(project: ProjectDir) -> None:
    project.add("a1", None)
    bad = project.add("b1", "a1", header="make_id = str\n")
    bad.write_text(bad.read_text().replace("down_revision = 'a1'", "down_revision = make_id()"))
    child = project.add("c1", "b1")  # its parent is there, header or not
    found = check(project)
    (error,) = found[str(bad)]
    assert error.span == where(bad, "down_revision = make_id()")
    assert (error.code, error.severity) == ("migration.bad-header", "error")
    assert error.message.startswith("down_revision must be written as a literal")
    assert found[str(child)] == []


def test_a_syntax_error_the_header_reader_meets_is_placed_on_its_line(tmp_path: Path) -> None:
    path = tmp_path / "a1.py"
    text = 'revision = "a1"\nrevision = "a2"\n\ndef upgrade(:\n    pass\n'
    (error,) = mf.findings(mf.read_revision_files({str(path): text}), None)[str(path)]
    assert error.code == "migration.bad-header" and error.span == Span(3, 0, 3, 13)


def test_files_that_are_not_revisions_get_no_findings(project: ProjectDir) -> None:
    project.add("a1", None)
    helper = project.versions / "helpers.py"
    helper.write_text("VALUE = 'zz99'\ndef upgrade():\n    print(1)\ndef downgrade():\n    pass\n")
    private = project.versions / "_template.py"  # the engine's scan skips such names
    private.write_text("revision = 'x1'\ndown_revision = 'nowhere'\n")
    found = check(project)
    assert found[str(helper)] == [] and found[str(private)] == []
    assert codes(found) == []


def test_a_cycle_is_shown_on_the_files_in_it(project: ProjectDir) -> None:
    a1 = project.add("a1", "b1")
    b1 = project.add("b1", "a1")
    found = check(project)
    for path in (a1, b1):
        (error,) = found[str(path)]
        assert error.code == "migration.invalid-graph" and "cycle" in error.message
        assert error.span == where(path, f"'{path.name[:2]}'")


def test_a_buffer_mid_edit_keeps_its_positions(project: ProjectDir) -> None:
    project.add("a1", None)
    b1 = project.add("b1", "a1")
    c1 = project.add("c1", "a1")
    typing = b1.read_text().replace("def upgrade():\n    pass", "def upgrade():\n    op.add_col(")
    files = mf.read_revision_files(texts(project, **{str(b1): typing}))
    (heads,) = mf.findings(files, None)[str(b1)]
    assert heads.span == where(b1, "'b1'")
    assert mf.definition(files, str(b1), *_start(where(b1, "'a1'"))) is not None
    assert mf.findings(files, None)[str(c1)][0].code == "migration.multiple-heads"


def test_positions_count_utf16_code_units(tmp_path: Path) -> None:
    path = tmp_path / "b1.py"
    text = 'revision = "b1"\ndown_revision: "😀é" = "zz99"\n'
    files = mf.read_revision_files({str(path): text})
    (error,) = mf.findings(files, None)[str(path)]
    # 'down_revision: "' is 16 units, the emoji 2, é 1, '" = ' 4.
    assert error.span == Span(1, 23, 1, 29)


# -- hover and go to definition -----------------------------------------------------------


def _start(span: Span) -> tuple[int, int]:
    return span.line, span.character + 1


def template_project(project: ProjectDir) -> tuple[Path, Path]:
    """Two revisions written with the real template (double quotes, Create Date)."""
    fields = {"branch_labels": "None", "depends_on": "None", "imports": "", "downgrades": ""}
    paths = []
    for rev, down, message, upgrades in (
        ("3f2a9c1d7b10", "None", "create users", "    op.create_table('users')"),
        ("9b1e0c44aa21", '"3f2a9c1d7b10"', "add email", f"    {ADD_EMAIL}\n    op.execute('3f2a')"),
    ):
        text = render_revision(
            TEMPLATE.read_text(),
            {**fields, "message": message, "revision": rev, "down_revision": down,
             "create_date": "2026-11-23 10:00:00", "upgrades": upgrades},
        )  # fmt: skip
        path = project.versions / f"{rev}_{message.replace(' ', '_')}.py"
        path.write_text(text)
        paths.append(path)
    return paths[0], paths[1]


def test_hover_on_a_revision_id(project: ProjectDir) -> None:
    users, email = template_project(project)
    files = mf.read_revision_files(texts(project))
    on_parent = _start(where(email, '"3f2a9c1d7b10"'))
    shown = mf.hover(files, str(email), *on_parent, None)
    assert shown == (
        "**Revision `3f2a9c1d7b10`**: create users\n\n"
        "- file: `3f2a9c1d7b10_create_users.py`\n"
        "- created: 2026-11-23 10:00:00\n"
        "- revises: nothing (a base revision)\n"
        "- database: unknown (no database)"
    )
    assert "- database: not applied" in (mf.hover(files, str(email), *on_parent, {}) or "")
    applied = {"3f2a9c1d7b10": file_sha256(users)}
    assert (mf.hover(files, str(email), *on_parent, applied) or "").endswith("database: applied")
    # A unique prefix in any string, and the file's own id.
    prefix = mf.hover(files, str(email), *_start(where(email, "'3f2a'")), applied)
    assert prefix is not None and prefix.startswith("**Revision `3f2a9c1d7b10`**")
    own = mf.hover(files, str(email), *_start(where(email, '"9b1e0c44aa21"')), applied)
    assert own is not None and "- revises: `3f2a9c1d7b10`" in own
    assert mf.hover(files, str(email), *_start(where(email, '"users"')), applied) is None
    assert mf.hover(files, str(email), 0, 0, applied) is None  # the docstring


def test_hover_warns_when_the_applied_file_changed(project: ProjectDir) -> None:
    users, email = template_project(project)
    applied = {"3f2a9c1d7b10": file_sha256(users)}
    edited = users.read_text().replace("'users'", "'members'")
    files = mf.read_revision_files(texts(project, **{str(users): edited}))
    shown = mf.hover(files, str(email), *_start(where(email, '"3f2a9c1d7b10"')), applied)
    assert shown is not None and shown.endswith(
        "- database: applied\n\n"
        "**Warning:** the file changed since it was applied; write a new revision."
    )


def test_definition_goes_to_the_revision_value(project: ProjectDir) -> None:
    project.add("a1b2c3d4", None, branch_labels=["users"])
    b1 = project.add("b1", "a1b2c3d4", depends_on=["users"])
    files = mf.read_revision_files(texts(project))
    target = str(project.versions / "a1b2c3d4_a1b2c3d4.py")
    a1_value = where(target, "'a1b2c3d4'")
    for needle in ("'a1b2c3d4'", "'users'"):
        span = where(b1, needle)
        for line, character in ((span.line, span.character), (span.end_line, span.end_character)):
            assert mf.definition(files, str(b1), line, character) == (target, a1_value)
    assert mf.definition(files, str(b1), *_start(where(b1, "'b1'"))) is None  # already there
    assert mf.definition(files, str(b1), *_start(where(b1, "sqlalchemy"))) is None


# -- code lenses --------------------------------------------------------------------------


def test_lenses_on_the_revision_line(project: ProjectDir) -> None:
    project.add("a1", None)
    b1 = project.add("b1", "a1")
    files = mf.read_revision_files(texts(project))
    upgrade = mf.Lens(where(b1, "'b1'"), "Upgrade to here", "distill.upgrade", ["b1"])
    downgrade = mf.Lens(where(b1, "'b1'"), "Downgrade to here", "distill.downgrade", ["b1"])
    show = mf.Lens(where(b1, "'b1'"), "Show SQL", "distill.showSql", ["a1:b1"])
    assert mf.lenses(files, str(b1)) == [upgrade, show]  # the database was not read
    assert mf.lenses(files, str(b1), applied=set(), current=()) == [upgrade, show]  # at base
    assert mf.lenses(files, str(b1), {"a1"}, ["a1"]) == [upgrade, show]  # not applied
    assert mf.lenses(files, str(b1), {"a1", "b1"}, ["b1"]) == [show]  # where it is
    assert mf.lenses(files, str(b1), {"a1", "b1", "c1"}, ["c1"]) == [downgrade, show]
    helper = project.versions / "helpers.py"
    helper.write_text("X = 1\n")
    assert mf.lenses(mf.read_revision_files(texts(project)), str(helper)) == []


def test_show_sql_ranges_upgrade_through_exactly_their_revision(project: ProjectDir) -> None:
    project.add("a1", None)
    project.add("b1", "a1")
    project.add("b2", "b1")
    project.add("c1", "a1")
    project.add("m1", ["b2", "c1"], message="merge")
    project.add("x1", None, branch_labels=["other"])
    project.add("d1", "m1", depends_on=["x1"])
    files = mf.read_revision_files(texts(project))
    graph = files.graph
    assert graph is not None
    ranges = {}
    for file in files.files.values():
        assert file.header is not None
        (show,) = [lens for lens in mf.lenses(files, file.path) if lens.title == "Show SQL"]
        ranges[file.header.revision] = show.arguments[0]
    assert ranges == {
        "a1": "base:a1",
        "b1": "a1:b1",
        "b2": "b1:b2",
        "c1": "a1:c1",
        "m1": "m1-1:m1",
        "x1": "base:x1",
        "d1": "m1:d1",
    }
    for rev, range_ in ranges.items():
        start, _, end = range_.rpartition(":")  # as commands.upgrade reads it offline
        steps = upgrade_steps(graph, resolve(graph, start) if start else (), end)
        # A dependency outside the lineage comes along: without it d1 cannot run.
        assert steps == (["x1", "d1"] if rev == "d1" else [rev])


def test_an_emptied_buffer_is_read_as_empty_not_from_disk(project: ProjectDir) -> None:
    from distill.lsp.session import Session, Settings

    path = project.add("a1", None, ADD_EMAIL)
    session = Session(project.root, Settings())
    assert session.revision_texts({})[str(path)] == path.read_text()
    assert session.revision_texts({str(path): ""})[str(path)] == ""
