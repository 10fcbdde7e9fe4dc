"""The analytics snapshot: every write moves the revision, a snapshot is served only for the
revision it was computed at, what it serves equals a recomputation, and "you vs the
signals" stays live."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from cryptolens.db.models import Signal
from cryptolens.db.portfolio import Portfolio, PortfolioAnalyticsSnapshot
from cryptolens.domain.trades import Fill, Side
from cryptolens.services.portfolio import analytics_snapshot as snapshot
from cryptolens.services.portfolio.analytics import (
    Analytics,
    compute_trade_analytics,
    portfolio_analytics,
    refresh_analytics,
)
from cryptolens.services.portfolio.csv_io import export_trades, import_trades
from cryptolens.services.portfolio.portfolios import PortfolioInput, update_portfolio
from cryptolens.services.portfolio.trades import (
    add_fill,
    close_trade,
    create_trade,
    delete_trade,
    get_trade,
    remove_fill,
    update_trade,
)
from tests.builders.portfolio import T0, PortfolioOwner, TradeSpec, add_owner, add_portfolio
from tests.builders.trade_rows import Closed, Owner, add_trades
from tests.web.seeding import add_signal, add_symbol

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ZONE = "America/New_York"
D = Decimal


def _page(session: Session, owner: PortfolioOwner, portfolio_id: int) -> Analytics:
    """The page as a request sees it: computed (or read), then committed."""
    assert owner.user_id is not None
    found = portfolio_analytics(
        session, owner=Owner(owner.user_id), portfolio_id=portfolio_id, tz=ZONE
    )
    session.commit()
    return found


def _fresh(session: Session, owner: PortfolioOwner, portfolio_id: int) -> Analytics:
    """The page computed from scratch (the snapshot thrown away first)."""
    session.execute(
        delete(PortfolioAnalyticsSnapshot).where(
            PortfolioAnalyticsSnapshot.portfolio_id == portfolio_id
        )
    )
    return _page(session, owner, portfolio_id)


def _revision(session: Session, portfolio_id: int) -> int:
    found = session.scalar(select(Portfolio.analytics_revision).where(Portfolio.id == portfolio_id))
    assert found is not None
    return found


def _stored_revision(session: Session, portfolio_id: int) -> int | None:
    return session.scalar(
        select(PortfolioAnalyticsSnapshot.revision).where(
            PortfolioAnalyticsSnapshot.portfolio_id == portfolio_id
        )
    )


def _closed(pnl_exit: str, hours: int, **changes: Any) -> TradeSpec:
    return TradeSpec(exits=((pnl_exit, "1"),), opened_at=T0 + timedelta(hours=hours), **changes)


@pytest.fixture
def book(session: Session) -> tuple[PortfolioOwner, int, dict[str, int]]:
    """A portfolio with two closed trades and an open one, its snapshot stored."""
    owner = add_owner(session)
    portfolio_id = add_portfolio(session, owner)
    ids = {
        "win": create_trade(
            session,
            owner=owner,
            portfolio_id=portfolio_id,
            data=_closed("120", 0, tags=("breakout",)).input(),
            now=NOW,
        ).id,
        "loss": create_trade(
            session,
            owner=owner,
            portfolio_id=portfolio_id,
            data=_closed("90", 5, symbol="ETH/USDT").input(),
            now=NOW,
        ).id,
        "open": create_trade(
            session,
            owner=owner,
            portfolio_id=portfolio_id,
            data=TradeSpec(exits=(), opened_at=T0 + timedelta(hours=10)).input(),
            now=NOW,
        ).id,
    }
    session.commit()
    _page(session, owner, portfolio_id)
    assert _stored_revision(session, portfolio_id) == _revision(session, portfolio_id)
    return owner, portfolio_id, ids


Write = Callable[[Session, PortfolioOwner, int, dict[str, int]], object]


def _create(session: Session, owner: PortfolioOwner, pid: int, ids: dict[str, int]) -> object:
    data = _closed("150", 20).input()
    return create_trade(session, owner=owner, portfolio_id=pid, data=data, now=NOW)


def _retag(session: Session, owner: PortfolioOwner, pid: int, ids: dict[str, int]) -> object:
    view = get_trade(session, owner=owner, trade_id=ids["loss"])
    data = replace(_closed("90", 5, symbol="ETH/USDT").input(), tags=("fomo",))
    return update_trade(session, owner=owner, trade_id=view.id, data=data, now=NOW)


def _edit_fills(session: Session, owner: PortfolioOwner, pid: int, ids: dict[str, int]) -> object:
    data = _closed("80", 5, symbol="ETH/USDT").input()
    return update_trade(session, owner=owner, trade_id=ids["loss"], data=data, now=NOW)


def _exit_half(session: Session, owner: PortfolioOwner, pid: int, ids: dict[str, int]) -> object:
    fill = Fill(Side.EXIT, T0 + timedelta(hours=11), D(130), D("0.5"), D(0))
    return add_fill(session, owner=owner, trade_id=ids["open"], fill=fill, now=NOW)


def _close(session: Session, owner: PortfolioOwner, pid: int, ids: dict[str, int]) -> object:
    at = T0 + timedelta(hours=12)
    return close_trade(session, owner=owner, trade_id=ids["open"], price=D(105), at=at, now=NOW)


def _reopen(session: Session, owner: PortfolioOwner, pid: int, ids: dict[str, int]) -> object:
    view = get_trade(session, owner=owner, trade_id=ids["win"])
    exit_id = next(f.id for f in view.fills if f.side is Side.EXIT)
    return remove_fill(session, owner=owner, trade_id=view.id, fill_id=exit_id, now=NOW)


def _delete(session: Session, owner: PortfolioOwner, pid: int, ids: dict[str, int]) -> object:
    delete_trade(session, owner=owner, trade_id=ids["win"])
    return None


def _import(session: Session, owner: PortfolioOwner, pid: int, ids: dict[str, int]) -> object:
    exported = export_trades(session, owner=owner, portfolio_id=pid)
    return import_trades(session, owner=owner, portfolio_id=pid, data=exported.encode(), now=NOW)


def _rebalance(session: Session, owner: PortfolioOwner, pid: int, ids: dict[str, int]) -> object:
    data = PortfolioInput(name="Renamed", quote_currency="USDC", initial_balance=D(25000))
    return update_portfolio(session, owner=owner, portfolio_id=pid, data=data, now=NOW)


@pytest.mark.parametrize(
    ("write", "changed"),
    [
        (_create, lambda a: a.summary.figures.trades == 3),
        (_retag, lambda a: [r.key for r in a.breakdowns["tag"]] == ["breakout", "fomo"]),
        (_edit_fills, lambda a: a.summary.largest_loss == D(-20)),
        (_exit_half, lambda a: a.summary.figures.trades == 2 and a.summary.open_trades == 1),
        (_close, lambda a: a.summary.figures.trades == 3 and a.summary.open_trades == 0),
        (_reopen, lambda a: a.summary.figures.trades == 1 and a.summary.open_trades == 2),
        (_delete, lambda a: a.summary.figures.trades == 1),
        (_import, lambda a: a.summary.figures.trades == 4 and a.summary.open_trades == 2),
        (_rebalance, lambda a: a.equity_curve[0].equity == D(25000)),
    ],
    ids=[
        "create",
        "retag",
        "edit-fills",
        "exit-half",
        "close",
        "reopen",
        "delete",
        "import",
        "rebalance",
    ],
)
def test_every_write_moves_the_revision_and_the_page_shows_its_effect(
    session: Session,
    book: tuple[PortfolioOwner, int, dict[str, int]],
    write: Write,
    changed: Callable[[Analytics], bool],
) -> None:
    owner, portfolio_id, ids = book
    before = _revision(session, portfolio_id)
    write(session, owner, portfolio_id, ids)
    session.commit()
    assert _revision(session, portfolio_id) == before + 1
    page = _page(session, owner, portfolio_id)
    assert changed(page)
    assert _stored_revision(session, portfolio_id) == before + 1
    assert _page(session, owner, portfolio_id) == page == _fresh(session, owner, portfolio_id)


def test_a_write_that_is_rolled_back_leaves_the_revision_and_the_snapshot(
    session: Session, book: tuple[PortfolioOwner, int, dict[str, int]], statements: list[str]
) -> None:
    owner, portfolio_id, ids = book
    before = _revision(session, portfolio_id)
    _create(session, owner, portfolio_id, ids)
    session.rollback()
    statements.clear()
    page = _page(session, owner, portfolio_id)
    assert len(statements) == 3  # a hit
    assert page.summary.figures.trades == 2
    assert _revision(session, portfolio_id) == before


def test_a_current_snapshot_takes_fewer_statements_than_a_recomputation(
    session: Session, book: tuple[PortfolioOwner, int, dict[str, int]], statements: list[str]
) -> None:
    owner, portfolio_id, ids = book
    _create(session, owner, portfolio_id, ids)
    session.commit()
    statements.clear()
    miss = _page(session, owner, portfolio_id)
    miss_count = len(statements)
    statements.clear()
    hit = _page(session, owner, portfolio_id)
    assert (miss_count, len(statements)) == (9, 3)
    assert not any("trades" in s.lower() and "group by" in s.lower() for s in statements)
    assert hit == miss


def test_a_snapshot_computed_before_a_concurrent_write_is_never_served(
    session: Session, book: tuple[PortfolioOwner, int, dict[str, int]], statements: list[str]
) -> None:
    owner, portfolio_id, ids = book
    # A recomputation reads revision R, and its figures, before a write commits (R + 1)...
    read_at = _revision(session, portfolio_id)
    old = compute_trade_analytics(session, portfolio_id=portfolio_id, initial=D(10000))
    _create(session, owner, portfolio_id, ids)
    session.commit()
    # ... and stores them late, labelled R.
    assert snapshot.store(
        session, portfolio_id=portfolio_id, revision=read_at, found=old, compute_ms=1.0, now=NOW
    )
    session.commit()
    statements.clear()
    page = _page(session, owner, portfolio_id)
    assert len(statements) == 9  # a miss: the stored snapshot is not of the current revision
    assert page.summary.figures.trades == 3


def test_the_signal_comparison_is_live_while_the_snapshot_is_current(
    session: Session, statements: list[str]
) -> None:
    owner = add_owner(session)
    assert owner.user_id is not None
    portfolio_id = add_portfolio(session, owner)
    signal = add_signal(session, symbol_id=add_symbol(session))
    add_trades(
        session, portfolio_id, Owner(owner.user_id), [Closed("250", 10, signal_id=signal.id)]
    )
    session.commit()
    before = _page(session, owner, portfolio_id).versus_signals
    assert (before.compared, before.latest[0].signal_r) == (0, None)
    # The tracker closes the signal: no write to the portfolio, so the snapshot stays current.
    tracked = session.get(Signal, signal.id)
    assert tracked is not None
    tracked.status, tracked.outcome, tracked.r_multiple = "closed", "tp2", 2.0
    session.commit()
    statements.clear()
    after = _page(session, owner, portfolio_id).versus_signals
    assert len(statements) == 3  # a hit
    assert (after.compared, after.signal_average_r, after.average_r) == (1, 2.0, 0.5)
    assert (after.latest[0].signal_r, after.latest[0].signal_outcome) == (2.0, "tp2")


def test_a_snapshot_that_cannot_be_stored_does_not_fail_the_page(
    session: Session, book: tuple[PortfolioOwner, int, dict[str, int]]
) -> None:
    owner, portfolio_id, _ = book
    found = compute_trade_analytics(session, portfolio_id=portfolio_id, initial=D(10000))
    # No such portfolio: the foreign key refuses the row.
    stored = snapshot.store(
        session,
        portfolio_id=portfolio_id + 10_000,
        revision=1,
        found=found,
        compute_ms=1.0,
        now=NOW,
    )
    assert stored is False
    # The caller's transaction goes on.
    assert session.execute(text("SELECT 1")).scalar_one() == 1
    assert _page(session, owner, portfolio_id).summary.figures.trades == 2


def test_an_unreadable_snapshot_is_recomputed(
    session: Session, book: tuple[PortfolioOwner, int, dict[str, int]]
) -> None:
    owner, portfolio_id, _ = book
    expected = _page(session, owner, portfolio_id)
    session.get(PortfolioAnalyticsSnapshot, portfolio_id).payload = '{"format": -1}'  # type: ignore[union-attr]
    session.commit()
    assert _page(session, owner, portfolio_id) == expected


def test_the_refresh_job_computes_only_a_missing_or_stale_snapshot(
    session: Session, book: tuple[PortfolioOwner, int, dict[str, int]], statements: list[str]
) -> None:
    owner, portfolio_id, ids = book
    assert refresh_analytics(session, portfolio_id=portfolio_id) is False
    _create(session, owner, portfolio_id, ids)
    session.commit()
    assert refresh_analytics(session, portfolio_id=portfolio_id) is True
    session.commit()
    assert refresh_analytics(session, portfolio_id=portfolio_id) is False
    assert refresh_analytics(session, portfolio_id=portfolio_id + 10_000) is False
    statements.clear()
    assert _page(session, owner, portfolio_id).summary.figures.trades == 3
    assert len(statements) == 3


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_after_any_sequence_of_writes_the_page_equals_a_recomputation(
    session: Session, seed: int
) -> None:
    rng = random.Random(seed)
    owner = add_owner(session)
    portfolio_id = add_portfolio(session, owner)
    open_ids: list[int] = []
    closed_ids: list[int] = []
    for step in range(14):
        opened_at = T0 + timedelta(hours=4 * step)
        action = rng.choice(("new", "new", "open", "close", "retag", "delete", "view", "refresh"))
        if action == "new" or (action in ("close", "retag", "delete") and not closed_ids):
            spec = _closed(
                str(rng.randint(85, 125)),
                4 * step,
                symbol=rng.choice(("BTC/USDT", "ETH/USDT")),
                tags=tuple(rng.sample(("a", "b", "c"), rng.randint(0, 2))),
            )
            view = create_trade(
                session, owner=owner, portfolio_id=portfolio_id, data=spec.input(), now=NOW
            )
            closed_ids.append(view.id)
        elif action == "open" or (not open_ids and action == "close"):
            spec = TradeSpec(exits=(), opened_at=opened_at)
            view = create_trade(
                session, owner=owner, portfolio_id=portfolio_id, data=spec.input(), now=NOW
            )
            open_ids.append(view.id)
        elif action == "close":
            trade_id = open_ids.pop(0)
            price = D(rng.randint(90, 120))
            at = opened_at + timedelta(hours=1)
            close_trade(session, owner=owner, trade_id=trade_id, price=price, at=at, now=NOW)
            closed_ids.append(trade_id)
        elif action == "retag":
            trade_id = rng.choice(closed_ids)
            current = get_trade(session, owner=owner, trade_id=trade_id)
            data = TradeSpec(
                symbol=current.symbol,
                entries=(),
                exits=(),
                tags=(rng.choice(("x", "y")),),
            ).input()
            data = replace(
                data,
                fills=tuple(Fill(f.side, f.at, f.price, f.quantity, f.fee) for f in current.fills),
            )
            update_trade(session, owner=owner, trade_id=trade_id, data=data, now=NOW)
        elif action == "delete":
            trade_id = closed_ids.pop(rng.randrange(len(closed_ids)))
            delete_trade(session, owner=owner, trade_id=trade_id)
        elif action == "refresh":
            refresh_analytics(session, portfolio_id=portfolio_id)
        session.commit()
        if rng.random() < 0.7:
            page = _page(session, owner, portfolio_id)
            assert page.summary.figures.trades == len(closed_ids)
            assert page.summary.open_trades == len(open_ids)
            computed = compute_trade_analytics(session, portfolio_id=portfolio_id, initial=D(10000))
            assert (page.summary, page.drawdown, page.breakdowns) == (
                computed.summary,
                computed.drawdown,
                computed.breakdowns,
            )
            assert page.equity_curve == computed.equity_curve  # the same instants
    page = _page(session, owner, portfolio_id)
    assert page == _page(session, owner, portfolio_id) == _fresh(session, owner, portfolio_id)
