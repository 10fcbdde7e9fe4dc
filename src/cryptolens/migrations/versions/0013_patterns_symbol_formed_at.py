"""patterns (symbol_id, formed_at): one symbol's zones newest first without a sort

The API's and the patterns page's ``symbol`` filter without a timeframe walked
(symbol_id, timeframe, formed_at) and sorted all of the symbol's zones.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_patterns_symbol_formed_at", "patterns", ["symbol_id", "formed_at"])


def downgrade() -> None:
    op.drop_index("ix_patterns_symbol_formed_at", table_name="patterns")
