"""station photos

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

One photo per station, uploaded by staff (JPEG, PNG or WebP, checked and size-limited before
it is stored); riders see it on the station's details. Stored in the database so that every
API process and every host serves the same picture.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "station_photos",
        sa.Column(
            "station_id",
            sa.Integer(),
            sa.ForeignKey(
                "stations.id", ondelete="CASCADE", name=op.f("fk_station_photos_station")
            ),
            primary_key=True,
        ),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("data", postgresql.BYTEA(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "content_type IN ('image/jpeg', 'image/png', 'image/webp')",
            name=op.f("ck_station_photos_content_type"),
        ),
    )


def downgrade() -> None:
    op.drop_table("station_photos")
