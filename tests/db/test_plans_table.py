from __future__ import annotations

from sqlalchemy import Engine, select

from cryptolens.db import migrate
from cryptolens.db.accounts import PlanRow
from cryptolens.domain.plans import PLANS, Plan


def _joined(values: frozenset[str] | None) -> str | None:
    return ",".join(sorted(values)) if values is not None else None


def test_the_seeded_plans_table_mirrors_the_domain_definition(migrated_engine: Engine) -> None:
    # Re-run 0004 so the seed rows are there whatever earlier tests deleted.
    migrate.downgrade(migrated_engine, "0002")
    migrate.upgrade(migrated_engine)
    with migrated_engine.connect() as connection:
        rows = {row.code: row for row in connection.execute(select(PlanRow.__table__))}
    assert set(rows) == {plan.value for plan in Plan}
    for plan, limits in PLANS.items():
        row = rows[plan.value]
        assert row.title == limits.title
        assert row.rank == limits.rank
        assert row.symbols == limits.symbols
        assert row.allowed_symbols == _joined(limits.allowed_symbols)
        assert row.pattern_types == _joined(limits.pattern_types)
        assert row.patterns_rows == limits.patterns_rows
        assert row.signals_rows == limits.signals_rows
        assert row.notifications_per_day == limits.notifications_per_day
        assert row.notification_delay_seconds == limits.notification_delay_seconds
        assert row.portfolios == limits.portfolios
        assert row.portfolio_trades_per_day == limits.portfolio_trades_per_day
        assert bool(row.backtest) is limits.backtest
        assert row.backtest_days == limits.backtest_days
        assert bool(row.api) is limits.api
