"""Mistakes in revision files: headers, the graph they form, and their bodies."""

from __future__ import annotations

import re

from tests.cli.bad_inputs.common import (
    LINEAR,
    Case,
    append_settings,
    chain,
    header,
    revision,
    version_file,
)

TOP = "aaaa11110002"  # head of LINEAR

# A header value that cannot be read, in a file on its own; `heads` reads every header.
BAD_HEADERS = [
    ("syntax error in header", 'revision = "x1"\ndown_revision = (\n', "syntax error"),
    ("non-literal down_revision", header("x2", "compute()"), "must be written as a literal"),
    ("concatenated revision", 'revision = "ab" + "cd"\ndown_revision = None\n', "literal"),
    ("f-string revision", 'revision = f"ab{1}"\ndown_revision = None\n', "literal"),
    ("numeric revision", "revision = 123\ndown_revision = None\n", "non-empty string, not 123"),
    ("None revision", "revision = None\ndown_revision = None\n", "non-empty string, not None"),
    ("empty revision", 'revision = ""\ndown_revision = None\n', "non-empty string, not ''"),
    ("blank revision", 'revision = "  "\ndown_revision = None\n', "non-empty string"),
    ("tuple revision", 'revision = ("a1", "a2")\ndown_revision = None\n', "non-empty string"),
    (
        "revision id of 33 characters",
        header("r" * 33, "None"),
        "is 33 characters",
    ),
    (
        "revision id a git sha",
        header("0123456789abcdef0123456789abcdef01234567", "None"),
        "is 40 characters",
    ),
    ("numeric down_revision", header("x3", "5"), "down_revision must be None, a string"),
    ("mixed down_revision", header("x4", '("aaaa11110001", 1)'), "down_revision must be None"),
    ("empty down_revision", header("x5", '""'), "down_revision must be None"),
    ("numeric branch_labels", header("x6", "None", "branch_labels = 5\n"), "branch_labels must"),
    ("empty branch label", header("x7", "None", 'branch_labels = ("",)\n'), "branch_labels must"),
    ("numeric depends_on", header("x8", "None", "depends_on = 5\n"), "depends_on must"),
    (
        "annotated bad down_revision",
        '"""m"""\nrevision: str = "x9"\ndown_revision: Union[str, None] = 5\n',
        "down_revision must be None",
    ),
    ("dict down_revision", header("xa", '{"a": 1}'), "down_revision must be None"),
]

# A graph that cannot be built.
BAD_GRAPHS = [
    (
        "down_revision pointing nowhere",
        version_file("x4_orphan.py", header("x4x4", '"ffff0000"')),
        "x4_orphan.py",
    ),
    (
        "merge parent missing",
        chain(LINEAR, version_file("m1_merge.py", header("mmmm0001", f'("{TOP}", "gone0000")'))),
        "gone0000",
    ),
    ("self parent", version_file("s1_self.py", header("self0001", '"self0001"')), "self0001"),
    (
        "two-revision cycle",
        chain(
            version_file("c1.py", header("cyc00001", '"cyc00002"')),
            version_file("c2.py", header("cyc00002", '"cyc00001"')),
        ),
        "cyc0000",
    ),
    (
        "three-revision cycle beside a base",
        chain(
            LINEAR,
            version_file("t1.py", header("tri00001", '"tri00003"')),
            version_file("t2.py", header("tri00002", '"tri00001"')),
            version_file("t3.py", header("tri00003", '"tri00002"')),
        ),
        "tri0000",
    ),
    (
        "depends_on pointing nowhere",
        version_file("x5_dep.py", header("x5x5", "None", 'depends_on = "zzzz9999"\n')),
        "zzzz9999",
    ),
    (
        "depends_on itself",
        version_file("x6_dep.py", header("x6x6", "None", 'depends_on = "x6x6"\n')),
        "x6x6",
    ),
    (
        "depends_on cycle",
        chain(
            version_file("d1.py", header("dep00001", "None", 'depends_on = "dep00002"\n')),
            version_file("d2.py", header("dep00002", '"dep00001"')),
        ),
        "dep0000",
    ),
    (
        "duplicate id",
        chain(
            version_file("d1_a.py", header("dup1dup1", "None")),
            version_file("d1_b.py", header("dup1dup1", "None")),
        ),
        "d1_a.py",
    ),
    (
        "duplicate id across version locations",
        chain(
            append_settings('version_locations = ["migrations/versions", "more"]\n'),
            version_file("d2_a.py", header("dup2dup2", "None")),
            lambda p: (p.root / "more").mkdir(),
            lambda p: (p.root / "more" / "d2_b.py").write_text(header("dup2dup2", "None")),
        ),
        "dup2dup2",
    ),
    (
        "duplicate branch label",
        chain(
            version_file("l1.py", header("lab00001", "None", 'branch_labels = ("x",)\n')),
            version_file("l2.py", header("lab00002", "None", 'branch_labels = ("x",)\n')),
        ),
        "l1.py",
    ),
    (
        "branch label equal to a revision id",
        chain(
            LINEAR, version_file("l3.py", header("lab00003", "None", f'branch_labels = "{TOP}"\n'))
        ),
        TOP,
    ),
    (
        "revision file not UTF-8",
        version_file("u1_latin.py", b'"""caf\xe9"""\nrevision = "u1u1"\ndown_revision = None\n'),
        "u1_latin.py",
    ),
]


def _body(rev: str, body: str, down: str = TOP, extra: str = "") -> str:
    return (
        f'"""m"""\nfrom distill import op\nimport sqlalchemy as sa\n{extra}'
        f'revision = "{rev}"\ndown_revision = "{down}"\n\n\n'
        f"def upgrade():\n    {body}\n\n\ndef downgrade():\n    pass\n"
    )


def _rev_of(text: str) -> str:
    found = re.search(r'^revision = "(\w+)"', text, re.MULTILINE)
    assert found is not None
    return found.group(1)


# A revision whose code fails when `upgrade head` runs it; nothing of it may stay.
BAD_BODIES = [
    ("syntax error in upgrade", _body("e101", 'op.execute("x"'), "e101_bad.py"),
    ("indentation error", _body("e102", "pass\n  x = 1"), "e102_bad.py"),
    ("upgrade raises", _body("e103", 'raise RuntimeError("boom")'), "RuntimeError: boom"),
    (
        "misspelt sa name",
        _body("e104", 'op.add_column("keep_me", sa.Colum("x", sa.Integer()))'),
        "Colum",
    ),
    ("misspelt op name", _body("e105", 'op.create_tabel("t")'), "create_tabel"),
    ("invalid SQL", _body("e106", 'op.execute("THIS IS NOT SQL")'), 'near "THIS": syntax error'),
    (
        "create existing table",
        _body("e107", 'op.create_table("keep_me", sa.Column("id", sa.Integer()))'),
        "keep_me",
    ),
    ("drop missing table", _body("e108", 'op.drop_table("no_such_table")'), "no_such_table"),
    (
        "add column to missing table",
        _body("e109", 'op.add_column("no_such_t", sa.Column("x", sa.Integer()))'),
        "no_such_t",
    ),
    (
        "add existing column",
        _body("e110", 'op.add_column("keep_me", sa.Column("note", sa.Integer()))'),
        "note",
    ),
    (
        "insert into missing table",
        _body("e111", 'op.bulk_insert(sa.table("nope_t", sa.column("x")), [{"x": 1}])'),
        "nope_t",
    ),
    ("rename onto existing", _body("e112", 'op.rename_table("keep_me", "keep_me")'), "keep_me"),
    (
        "index on missing column",
        _body("e113", 'op.create_index("ix_k", "keep_me", ["nope_col"])'),
        "nope_col",
    ),
    (
        "upgrade takes an argument",
        _body("e114", "pass").replace("upgrade()", "upgrade(x)"),
        "upgrade",
    ),
    (
        "upgrade is not a function",
        _body("e115", "pass").replace("def upgrade():\n    pass", "upgrade = 5"),
        "upgrade",
    ),
    (
        "module-level raise",
        _body("e116", "pass", extra='raise ValueError("at import")\n'),
        "ValueError: at import",
    ),
    (
        "duplicate row",
        _body("e117", "op.execute(\"INSERT INTO keep_me VALUES (1, 'again')\")"),
        "UNIQUE constraint failed: keep_me.id",
    ),
    (
        "bind in offline-only code",
        _body("e118", 'op.get_bind().execute(sa.text("SELECT * FROM nowhere_t"))'),
        "nowhere_t",
    ),
]

CASES = [
    *(
        Case(f"header {name}", version_file("x0_bad.py", text), ("heads",), expect)
        for name, text, expect in BAD_HEADERS
    ),
    *(Case(f"graph {name}", setup, ("history",), expect) for name, setup, expect in BAD_GRAPHS),
    *(
        Case(
            f"body {name}",
            chain(LINEAR, version_file(f"{_rev_of(text)}_bad.py", text)),
            ("upgrade", "head"),
            expect,
            db_at=TOP,
        )
        for name, text, expect in BAD_BODIES
    ),
    Case(
        "revision file with a NUL byte",
        chain(
            LINEAR,
            version_file("n1_nul.py", b'revision = "n1n1"\ndown_revision = "aaaa11110002"\n\x00\n'),
        ),
        ("upgrade", "head"),
        "n1_nul.py",
        db_at=TOP,
    ),
    Case(
        "header error shown by show",
        chain(LINEAR, version_file("x0_bad.py", "revision = 7\n")),
        ("show", TOP),
        "x0_bad.py",
    ),
    Case(
        "header error stops upgrade",
        chain(
            LINEAR,
            version_file("x0_bad.py", header("zz01", "(")),
        ),
        ("upgrade", "head"),
        "x0_bad.py",
    ),
    Case(
        "import error in upgrade",
        chain(
            LINEAR,
            version_file(
                "e1_bad.py",
                '"""m"""\nimport no_such_module_xyz\nrevision = "e1e1e1e1"\n'
                f'down_revision = "{TOP}"\n\ndef upgrade():\n    pass\n',
            ),
        ),
        ("upgrade", "head"),
        "no_such_module_xyz",
        db_at=TOP,
    ),
    Case(
        "no upgrade function",
        chain(LINEAR, version_file("e2_nofn.py", header("e2e2e2e2", f'"{TOP}"'))),
        ("upgrade", "head"),
        "has no upgrade() function",
        db_at=TOP,
    ),
    Case(
        "op outside migration",
        chain(
            LINEAR,
            version_file(
                "e3_op.py",
                '"""m"""\nfrom distill import op\nop.execute("x")\nrevision = "e3e3e3e3"\n'
                f'down_revision = "{TOP}"\n',
            ),
        ),
        ("upgrade", "head"),
        "outside a migration",
        db_at=TOP,
    ),
    Case(
        "no downgrade function",
        chain(
            LINEAR,
            version_file(
                "e4_nodown.py", _body("e4e4", "pass").split("\n\n\ndef downgrade")[0] + "\n"
            ),
        ),
        ("downgrade", "-1"),
        "downgrade",
        db_at="e4e4",
    ),
    Case(
        "downgrade raises",
        chain(
            LINEAR,
            version_file(
                "e5_down.py",
                _body("e5e5", "pass").replace(
                    "def downgrade():\n    pass",
                    'def downgrade():\n    raise KeyError("no way back")',
                ),
            ),
        ),
        ("downgrade", TOP),
        "no way back",
        db_at="e5e5",
    ),
    Case(
        "failed upgrade of a fresh database",
        revision("f0000004", None, 'op.drop_table("absent_t")'),
        ("upgrade", "head"),
        "absent_t",
        db_at=None,
    ),
    Case(
        "unknown target on a fresh database",
        LINEAR,
        ("upgrade", "ffffeeee"),
        "ffffeeee",
        db_at=None,
    ),
    Case(
        "second revision fails in one transaction",
        chain(
            append_settings("transaction_per_migration = false\n"),
            revision("f0000001", None, 'op.create_table("made_t", sa.Column("id", sa.Integer()))'),
            revision("f0000002", "f0000001", 'op.execute("NOT SQL AT ALL")'),
        ),
        ("upgrade", "head"),
        "f0000002",
    ),
    Case(
        "failing revision after an applied one",
        chain(LINEAR, revision("f0000003", TOP, 'op.drop_table("absent_t")')),
        ("upgrade", "head"),
        "absent_t",
        db_at=TOP,
    ),
    Case(
        "sqlite rebuild under a view using the dropped column",
        version_file(
            "v1_view.py",
            header("v1v1v1v1", "None")
            + "from distill import op\nimport sqlalchemy as sa\n\ndef upgrade():\n"
            '    op.create_table("t", sa.Column("id", sa.Integer, primary_key=True),'
            ' sa.Column("note", sa.Text))\n'
            '    op.execute("CREATE VIEW v AS SELECT id, note FROM t")\n'
            '    op.drop_column("t", "note")\n',
        ),
        ("upgrade", "head"),
        "view 'v' uses column 'note' of table 't', which this change removes",
    ),
    Case(
        "sqlite rebuild under a trigger using a renamed column",
        version_file(
            "v2_trigger.py",
            header("v2v2v2v2", "None")
            + "from distill import op\nimport sqlalchemy as sa\n\ndef upgrade():\n"
            '    op.create_table("t", sa.Column("id", sa.Integer, primary_key=True),'
            ' sa.Column("note", sa.Text))\n'
            '    op.execute("CREATE TRIGGER trg AFTER UPDATE ON t BEGIN SELECT new.note; END")\n'
            '    with op.batch_alter_table("t") as b:\n'
            '        b.alter_column("note", new_column_name="remark", type_=sa.String(9))\n',
        ),
        ("upgrade", "head"),
        "trigger 'trg' uses column 'note' of table 't', which this change renames to 'remark'",
    ),
    Case(
        "sys.exit in upgrade",
        chain(LINEAR, version_file("e6_exit.py", _body("e6e6", "import sys; sys.exit(0)"))),
        ("upgrade", "head"),
        "sys.exit",
        db_at=TOP,
    ),
    Case(
        "offline upgrade of a failing revision",
        chain(
            LINEAR, version_file("e7_off.py", _body("e7e7", 'raise RuntimeError("offline boom")'))
        ),
        ("upgrade", "--sql", f"{TOP}:head"),
        "offline boom",
    ),
]
