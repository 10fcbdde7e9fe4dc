"""web indexes: newest-first zone lists and per-symbol chart reads

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The patterns page lists newest first, unfiltered or by symbol and timeframe; the chart
    # reads one series' zones and one symbol's latest signals.
    op.create_index("ix_patterns_formed_at", "patterns", ["formed_at"])
    op.create_index(
        "ix_patterns_symbol_tf_formed_at", "patterns", ["symbol_id", "timeframe", "formed_at"]
    )
    op.create_index("ix_signals_symbol_created_at", "signals", ["symbol_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_signals_symbol_created_at", table_name="signals")
    op.drop_index("ix_patterns_symbol_tf_formed_at", table_name="patterns")
    op.drop_index("ix_patterns_formed_at", table_name="patterns")
