"""updates for the reporter: notifications may be for the reporter (受理 and 办结 messages)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

The outbox carries, besides members' and managers' notices, the updates a reporter receives by
SMS or WeChat through the union's gateway: the case number, who handles it and by when at
受理, the result at 办结 (webhook event ``reporter.update``).
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint(op.f("ck_notifications_audience"), "notifications", type_="check")
    op.create_check_constraint(
        op.f("ck_notifications_audience"),
        "notifications",
        "audience IN ('member', 'managers', 'reporter')",
    )


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE audience = 'reporter'")
    op.drop_constraint(op.f("ck_notifications_audience"), "notifications", type_="check")
    op.create_check_constraint(
        op.f("ck_notifications_audience"), "notifications", "audience IN ('member', 'managers')"
    )
