"""patterns: the zone-quality model's probability of holding and the model version behind it

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patterns") as batch:
        batch.add_column(sa.Column("quality_probability", sa.Double(), nullable=True))
        batch.add_column(sa.Column("quality_model_version", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("patterns") as batch:
        batch.drop_column("quality_model_version")
        batch.drop_column("quality_probability")
