"""riders' word on stations: problem reports (each also a station_problem case) and confirmations

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

From a station's card a rider reports a problem (closed when it should be open, an amenity not
working, moved, other) or taps "open and fine". Each is a row here; a report is also a case of
the category ``station_problem`` for the station's area (reports of the same problem at the
same station within a day share one case). ``client`` is a keyed hash of the sender's
address, never the address itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "station_feedback",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "station_id",
            sa.Integer,
            sa.ForeignKey(
                "stations.id",
                ondelete="CASCADE",
                name="fk_station_feedback_station_id_stations",
            ),
            nullable=False,
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("problem", sa.String(40)),
        sa.Column("amenity", sa.String(40)),
        sa.Column("text", sa.Text),
        sa.Column(
            "case_id",
            sa.BigInteger,
            sa.ForeignKey(
                "cases.id", ondelete="SET NULL", name="fk_station_feedback_case_id_cases"
            ),
        ),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("kind IN ('report', 'confirmation')", name="ck_station_feedback_kind"),
    )
    op.create_index("ix_station_feedback_case_id", "station_feedback", ["case_id"])
    op.create_index(
        "ix_station_feedback_station_at", "station_feedback", ["station_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("station_feedback")
