"""the grid managers' workbench: returns, attachments, notifications

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26

``cases.status`` gains ``returned`` (退单): a member hands a case back to the managers'
queue, with a reason. ``case_attachments`` keeps photos and PDFs of a case in the database
(never served publicly). ``notifications`` is the outbox: one row per message for a member or
for the managers of an area, read in the workbench and delivered to the union's webhooks with
retries (``delivered_at``, ``attempts``, ``next_attempt_at``, ``last_error``) — nothing is
lost while a webhook is down.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OLD = (
    "'submitted', 'assigned', 'accepted', 'in_progress', 'resolved', 'closed', "
    "'escalated', 'reopened', 'cancelled', 'rejected'"
)
NEW = OLD + ", 'returned'"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_cases_status"), "cases", type_="check")
    op.create_check_constraint(op.f("ck_cases_status"), "cases", f"status IN ({NEW})")
    op.create_table(
        "case_attachments",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=60), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_attachments_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_attachments")),
    )
    op.create_index(
        op.f("ix_case_attachments_case_id"), "case_attachments", ["case_id"], unique=False
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column("audience", sa.String(length=10), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("town_id", sa.Integer(), nullable=True),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "audience IN ('member', 'managers')", name=op.f("ck_notifications_audience")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_notifications_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["grid_members.id"], name=op.f("fk_notifications_member_id_grid_members")
        ),
        sa.ForeignKeyConstraint(
            ["town_id"], ["towns.id"], name=op.f("fk_notifications_town_id_towns")
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_notifications_district_id_districts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(op.f("ix_notifications_case_id"), "notifications", ["case_id"], unique=False)
    op.create_index(
        op.f("ix_notifications_member_id"), "notifications", ["member_id"], unique=False
    )
    op.create_index(
        "ix_notifications_undelivered",
        "notifications",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("delivered_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_undelivered", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("case_attachments")
    op.execute("UPDATE cases SET status = 'submitted', member_id = NULL WHERE status = 'returned'")
    op.drop_constraint(op.f("ck_cases_status"), "cases", type_="check")
    op.create_check_constraint(op.f("ck_cases_status"), "cases", f"status IN ({OLD})")
