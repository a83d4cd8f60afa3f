"""Schema blame: which revision created a table or column and which last changed it."""

from __future__ import annotations

from distill.lsp.schema_blame import Blame, SchemaBlame

R1 = """
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer), sa.Column("mail", sa.String(50)))
    op.create_table("logs", sa.Column("id", sa.Integer))
"""
R2 = """
def upgrade():
    op.add_column("users", sa.Column("name", sa.String(20)))
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("mail", new_column_name="email", type_=sa.String(200))
    op.drop_table("logs")
"""
R3 = """
def upgrade():
    op.create_index("ix_users_name", "users", ["name"])
    op.execute("ALTER TABLE users ADD COLUMN hidden INTEGER")

def downgrade():
    op.drop_column("users", "name")
"""


def test_created_and_last_changed_along_the_upgrade_path() -> None:
    texts = {"r1.py": R1, "r2.py": R2, "r3.py": R3}
    blame = SchemaBlame().of([("r1", "r1.py"), ("r2", "r2.py"), ("r3", "r3.py")], texts)
    assert blame[("users", None)] == Blame("r1", "r3")  # the index changed the table
    assert blame[("users", "id")] == Blame("r1", "r1")
    assert blame[("users", "email")] == Blame("r1", "r2")  # renamed and retyped in a batch
    assert ("users", "mail") not in blame
    assert blame[("users", "name")] == Blame("r2", "r2")  # downgrade() is not read
    assert not [key for key in blame if key[0] == "logs"]  # dropped
    assert ("users", "hidden") not in blame  # raw SQL is not read


def test_a_file_is_parsed_again_only_when_its_text_changes() -> None:
    blame = SchemaBlame()
    path = [("r1", "r1.py")]
    assert blame.of(path, {"r1.py": R1})[("users", "mail")] == Blame("r1", "r1")
    edited = R1.replace('"mail"', '"email"')
    assert ("users", "mail") not in blame.of(path, {"r1.py": edited})
    assert blame.of(path, {"r1.py": "def upgrade(:\n"}) == {}  # does not parse: nothing read
