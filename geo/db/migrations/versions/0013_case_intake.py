"""staff intake (受理登记): the employer and the address text staff wrote down with a call

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

A hotline operator registers a call as a case; what the case table has no place for — the
employer the caller names and the address as said (kept for placing it later) — is kept here,
with who took the call.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_intake",
        sa.Column(
            "case_id",
            sa.BigInteger,
            sa.ForeignKey("cases.id", ondelete="CASCADE", name="fk_case_intake_case_id_cases"),
            primary_key=True,
        ),
        sa.Column("employer", sa.String(200)),
        sa.Column("address", sa.Text),
        sa.Column("taken_by", sa.String(80), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )


def downgrade() -> None:
    op.drop_table("case_intake")
