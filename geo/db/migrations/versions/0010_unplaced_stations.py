"""stations that need a position: imported with an address but no coordinates

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

A union's spreadsheet often lists a station by its address only. Such a row is kept here,
with everything else it said, until staff place it on the map; placing it makes it a station
(with the same ``external_id``, so a later import of the same sheet updates that station).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unplaced_stations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("external_id", sa.String(100), unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("amenities", ARRAY(sa.String(40)), nullable=False, server_default="{}"),
        sa.Column("opening_hours", sa.String(255), nullable=False, server_default="24/7"),
        sa.Column("status", sa.String(10), nullable=False, server_default="active"),
        sa.Column("phone", sa.String(40)),
        sa.Column("source", sa.String(100), nullable=False, server_default="import"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )


def downgrade() -> None:
    op.drop_table("unplaced_stations")
