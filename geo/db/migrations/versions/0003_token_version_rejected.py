"""token version, rejected cases

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

``users.token_version``: bumped when a user is deactivated, their role or scope changes or
their password is reset, so every token issued before stops working at once.
``users.default_password``: the account's password may still be a development default
(set for the ``admin`` account a development set-up creates); production refuses to start
while such an account is active with such a password.
``cases.status`` gains ``rejected``: a manager's verdict that a report is spam or a
duplicate; it is final and frees the member's capacity.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD = (
    "'submitted', 'assigned', 'accepted', 'in_progress', 'resolved', 'closed', "
    "'escalated', 'reopened', 'cancelled'"
)
NEW = OLD + ", 'rejected'"


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("token_version", sa.Integer(), nullable=False, server_default=sa.text("1")),
    )
    op.add_column(
        "users",
        sa.Column(
            "default_password", sa.Boolean(), nullable=False, server_default=sa.text("false")
        ),
    )
    op.execute("UPDATE users SET default_password = true WHERE username = 'admin'")
    op.drop_constraint(op.f("ck_cases_status"), "cases", type_="check")
    op.create_check_constraint(op.f("ck_cases_status"), "cases", f"status IN ({NEW})")


def downgrade() -> None:
    op.execute("UPDATE cases SET status = 'cancelled' WHERE status = 'rejected'")
    op.drop_constraint(op.f("ck_cases_status"), "cases", type_="check")
    op.create_check_constraint(op.f("ck_cases_status"), "cases", f"status IN ({OLD})")
    op.drop_column("users", "default_password")
    op.drop_column("users", "token_version")
