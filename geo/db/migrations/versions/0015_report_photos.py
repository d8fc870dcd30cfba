"""a rider's report may bring a photo: a one-time key lets the reporter add it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

The report's answer carries a random key (kept here only as its SHA-256); with it, and no
account, the rider adds one photo to the report, stored with the report's case.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("station_feedback", sa.Column("photo_key", sa.String(64)))


def downgrade() -> None:
    op.drop_column("station_feedback", "photo_key")
