"""add customer email

Revision ID: 3c4d5e6f7081
Revises: 2b3c4d5e6f70
Create Date: 2026-11-23 09:20:00.000000
"""

from distill import op
import sqlalchemy as sa

revision = "3c4d5e6f7081"
down_revision = "2b3c4d5e6f70"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("email", sa.String(length=255), nullable=True))
    # SQLite cannot add a UNIQUE constraint in place: Distill rebuilds the table.
    op.create_unique_constraint("uq_customers_email", "customers", ["email"])


def downgrade() -> None:
    op.drop_constraint("uq_customers_email", "customers", type_="unique")
    op.drop_column("customers", "email")
