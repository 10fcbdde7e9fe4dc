from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cryptolens.db.portfolio import Trade
from cryptolens.domain.errors import NotFoundError, TierRequiredError
from cryptolens.domain.trades import Direction, FieldError, Fill, Side
from cryptolens.services.portfolio.signal_link import prefill_from_signal
from cryptolens.services.portfolio.trades import (
    add_fill,
    close_trade,
    create_trade,
    delete_trade,
    get_trade,
    list_trades,
    remove_fill,
    update_trade,
)
from tests.builders.alerts import add_signal
from tests.builders.portfolio import T0, TradeSpec, add_owner, add_portfolio, add_trade

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
D = Decimal


def _open_spec(**changes: object) -> TradeSpec:
    return replace(TradeSpec(exits=(), opened_at=NOW - timedelta(hours=5)), **changes)


def test_a_trade_is_stored_with_figures_from_its_fills(session: Session) -> None:
    owner = add_owner(session)
    portfolio_id = add_portfolio(session, owner)
    spec = TradeSpec(
        entries=(("100", "1", "0.5"), ("110", "1", "0.5")),
        exits=(("120", "2", "1"),),
        targets=("120", None, "140"),
        tags=("Breakout", "breakout ", "trend"),
        setup="fvg retest",
    )
    view = create_trade(session, owner=owner, portfolio_id=portfolio_id, data=spec.input(), now=NOW)
    done = view.figures
    assert done.status == "closed"
    assert (done.avg_entry, done.avg_exit, done.quantity) == (D("105"), D("120"), D("2"))
    assert done.realized_pnl == D("28")
    assert done.r_multiple == D("1.4")
    assert view.targets == (D("120"), None, D("140"))
    assert view.tags == ("breakout", "trend")
    assert [f.side for f in view.fills] == [Side.ENTRY, Side.ENTRY, Side.EXIT]
    assert done.holding_seconds == 2 * 3600
    # Closed on Monday 11:00 UTC.
    row = session.get(Trade, view.id)
    assert row is not None
    assert (row.local_weekday, row.local_hour) == (0, 11)


def test_the_close_is_placed_in_the_owners_time_zone(session: Session) -> None:
    owner = add_owner(session, timezone="Asia/Tokyo")
    portfolio_id = add_portfolio(session, owner)
    spec = TradeSpec(opened_at=datetime(2025, 3, 2, 14, 30, tzinfo=UTC))  # Sunday 23:30 Tokyo
    view = create_trade(session, owner=owner, portfolio_id=portfolio_id, data=spec.input(), now=NOW)
    row = session.get(Trade, view.id)
    assert row is not None
    assert (row.local_weekday, row.local_hour) == (0, 0)  # Monday 00:30 Tokyo


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"symbol": "BT"}, "symbol", "3 to 20 characters"),
        ({"symbol": "BTCUSDTBTCUSDTBTCUSDT1"}, "symbol", "3 to 20 characters"),
        ({"symbol": "BTC-USDT"}, "symbol", "BASE/QUOTE"),
        ({"direction": "sideways"}, "direction", "long or short"),
        ({"stop": "0"}, "planned_stop", "greater than 0"),
        ({"stop": "101"}, "planned_stop", "below the entry"),
        ({"direction": "short", "stop": "99"}, "planned_stop", "above the entry"),
        ({"targets": ("-1",)}, "target_1", "greater than 0"),
        ({"entries": (("0", "1"),)}, "fills[0].price", "greater than 0"),
        ({"entries": (("100", "-1"),)}, "fills[0].quantity", "greater than 0"),
        ({"entries": (("100", "1", "-0.1"),)}, "fills[0].fee", "not be negative"),
        ({"exits": (("110", "1.5"),)}, "fills[1].quantity", "more than the open position"),
        ({"opened_at": NOW + timedelta(minutes=1)}, "fills[0].at", "in the future"),
        ({"tags": ("a,b",)}, "tags", "without commas"),
        ({"setup": "s" * 61}, "setup", "longer than 60"),
    ],
)
def test_bad_trades_are_refused_naming_the_field_and_nothing_is_stored(
    session: Session, changes: dict[str, object], field: str, message: str
) -> None:
    owner = add_owner(session)
    portfolio_id = add_portfolio(session, owner)
    data = replace(TradeSpec(), **changes).input()
    with pytest.raises(FieldError, match=message) as caught:
        create_trade(session, owner=owner, portfolio_id=portfolio_id, data=data, now=NOW)
    assert caught.value.field == field
    assert session.scalar(select(func.count()).select_from(Trade)) == 0


@pytest.mark.parametrize(
    ("spec", "figure"),
    [
        # Each price and quantity fits the database; their product does not.
        (TradeSpec(entries=(("9e17", "9e17"),), exits=(("9e17", "9e17"),), stop="1"), "risk"),
        (TradeSpec(entries=(("1", "9e17"), ("1", "9e17")), exits=(), stop="0.5"), "quantity"),
        # A tiny risk: the R multiple is the P&L divided by it.
        (TradeSpec(entries=(("1", "1"),), exits=(("1e17", "1"),), stop="0.9999999999"), "r"),
    ],
)
def test_a_trade_whose_figures_the_database_cannot_keep_is_refused(
    session: Session, spec: TradeSpec, figure: str
) -> None:
    owner = add_owner(session)
    portfolio_id = add_portfolio(session, owner)
    with pytest.raises(FieldError, match=f"trade's {figure}.* too large to keep") as refused:
        create_trade(session, owner=owner, portfolio_id=portfolio_id, data=spec.input(), now=NOW)
    assert refused.value.field == "fills"
    assert list_trades(session, owner=owner, portfolio_id=portfolio_id) == []


def test_an_exit_dated_before_the_first_entry_is_refused(session: Session) -> None:
    owner = add_owner(session)
    portfolio_id = add_portfolio(session, owner)
    trade = create_trade(
        session, owner=owner, portfolio_id=portfolio_id, data=_open_spec().input(), now=NOW
    )
    early = Fill(Side.EXIT, NOW - timedelta(days=1), D("105"), D("1"))
    with pytest.raises(FieldError, match="before the first entry"):
        add_fill(session, owner=owner, trade_id=trade.id, fill=early, now=NOW)
    assert get_trade(session, owner=owner, trade_id=trade.id).figures.status == "open"


def test_a_scale_in_that_averages_down_to_the_stop_is_refused(session: Session) -> None:
    owner = add_owner(session)
    portfolio_id = add_portfolio(session, owner)
    trade = create_trade(
        session, owner=owner, portfolio_id=portfolio_id, data=_open_spec().input(), now=NOW
    )
    lower = Fill(Side.ENTRY, NOW - timedelta(hours=4), D("90"), D("1"))
    with pytest.raises(FieldError, match="below the entry"):
        add_fill(session, owner=owner, trade_id=trade.id, fill=lower, now=NOW)
    higher = replace(lower, price=D("110"))
    added = add_fill(session, owner=owner, trade_id=trade.id, fill=higher, now=NOW)
    scaled = added.figures
    assert (scaled.quantity, scaled.avg_entry, scaled.risk_amount) == (D("2"), D("105"), D("20"))


def test_closing_exits_the_whole_open_position(session: Session) -> None:
    owner = add_owner(session)
    portfolio_id = add_portfolio(session, owner)
    trade = create_trade(
        session,
        owner=owner,
        portfolio_id=portfolio_id,
        data=_open_spec(entries=(("100", "3"),), stop="90").input(),
        now=NOW,
    )
    at = NOW - timedelta(hours=2)
    partial = add_fill(
        session, owner=owner, trade_id=trade.id, fill=Fill(Side.EXIT, at, D("110"), D("1")), now=NOW
    )
    half = partial.figures
    assert (half.open_quantity, half.realized_pnl, half.r_multiple) == (D("2"), D("10"), None)
    closed = close_trade(
        session, owner=owner, trade_id=trade.id, price=D("120"), at=NOW, fee=D("2"), now=NOW
    )
    assert closed.figures.status == "closed"
    assert closed.figures.realized_pnl == D("48")
    assert closed.figures.r_multiple == D("1.6")
    assert closed.figures.closed_at == NOW
    reopened = remove_fill(
        session, owner=owner, trade_id=trade.id, fill_id=closed.fills[-1].id, now=NOW
    )
    again = reopened.figures
    assert (again.status, again.open_quantity, again.closed_at) == ("open", D("2"), None)


def test_free_has_no_trades_pro_five_a_day_premium_any(session: Session) -> None:
    free = add_owner(session, plan="free")
    with pytest.raises(TierRequiredError, match="Pro plan"):
        create_trade(
            session,
            owner=free,
            portfolio_id=add_portfolio(session, free),
            data=TradeSpec().input(),
            now=NOW,
        )
    pro = add_owner(session, plan="pro")
    portfolio_id = add_portfolio(session, pro)
    for _ in range(5):
        create_trade(
            session, owner=pro, portfolio_id=portfolio_id, data=TradeSpec().input(), now=NOW
        )
    with pytest.raises(TierRequiredError, match="5 new trades a day"):
        create_trade(
            session, owner=pro, portfolio_id=portfolio_id, data=TradeSpec().input(), now=NOW
        )
    tomorrow = NOW + timedelta(days=1)
    create_trade(
        session, owner=pro, portfolio_id=portfolio_id, data=TradeSpec().input(), now=tomorrow
    )
    premium = add_owner(session, plan="premium")
    portfolio_id = add_portfolio(session, premium)
    for _ in range(8):
        create_trade(
            session, owner=premium, portfolio_id=portfolio_id, data=TradeSpec().input(), now=NOW
        )


def test_the_daily_allowance_counts_the_owners_local_day(session: Session) -> None:
    pro = add_owner(session, plan="pro", timezone="America/New_York")
    portfolio_id = add_portfolio(session, pro)
    # 02:00 UTC on 1 June is still 31 May in New York; 05:00 UTC is 1 June there.
    late_may = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    for _ in range(5):
        add_trade(session, pro, portfolio_id, created_at=late_may)
    create_trade(
        session,
        owner=pro,
        portfolio_id=portfolio_id,
        data=TradeSpec().input(),
        now=datetime(2026, 6, 1, 5, 0, tzinfo=UTC),
    )
    with pytest.raises(TierRequiredError, match="0 left today"):
        create_trade(
            session,
            owner=pro,
            portfolio_id=portfolio_id,
            data=TradeSpec().input(),
            now=datetime(2026, 6, 1, 3, 59, tzinfo=UTC),
        )


@pytest.mark.usefixtures("plans_off")
def test_without_plans_a_free_account_trades_without_limit(session: Session) -> None:
    owner = add_owner(session, plan="free")
    portfolio_id = add_portfolio(session, owner)
    for _ in range(7):
        create_trade(
            session, owner=owner, portfolio_id=portfolio_id, data=TradeSpec().input(), now=NOW
        )
    assert len(list_trades(session, owner=owner, portfolio_id=portfolio_id)) == 7


def test_another_owner_reaches_none_of_a_trade(session: Session) -> None:
    owner, intruder = add_owner(session), add_owner(session)
    admin = add_owner(session, admin=True)
    portfolio_id = add_portfolio(session, owner)
    trade_id = add_trade(session, owner, portfolio_id, _open_spec())
    theirs = add_portfolio(session, intruder)
    fill = Fill(Side.EXIT, NOW, D("101"), D("1"))
    for other in (intruder, admin):
        calls = [
            lambda o=other: get_trade(session, owner=o, trade_id=trade_id),
            lambda o=other: update_trade(
                session, owner=o, trade_id=trade_id, data=TradeSpec().input(), now=NOW
            ),
            lambda o=other: add_fill(session, owner=o, trade_id=trade_id, fill=fill, now=NOW),
            lambda o=other: remove_fill(session, owner=o, trade_id=trade_id, fill_id=1, now=NOW),
            lambda o=other: close_trade(
                session, owner=o, trade_id=trade_id, price=D("1"), at=NOW, now=NOW
            ),
            lambda o=other: delete_trade(session, owner=o, trade_id=trade_id),
            lambda o=other: list_trades(session, owner=o, portfolio_id=portfolio_id),
            lambda o=other: create_trade(
                session, owner=o, portfolio_id=portfolio_id, data=TradeSpec().input(), now=NOW
            ),
        ]
        for call in calls:
            with pytest.raises(NotFoundError):
                call()
    assert list_trades(session, owner=intruder, portfolio_id=theirs) == []
    assert get_trade(session, owner=owner, trade_id=trade_id).figures.status == "open"


def test_taking_a_signal_prefills_its_levels_and_links_the_trade(
    session: Session, migrated_engine: Engine
) -> None:
    # Signals first: the builder writes through its own connection.
    signal_id = add_signal(migrated_engine, symbol="ETH/USDT", direction="bearish")
    bullish_id = add_signal(migrated_engine, direction="bullish")
    owner = add_owner(session, plan="pro")
    portfolio_id = add_portfolio(session, owner, name="Main")
    draft = prefill_from_signal(session, owner=owner, signal_id=signal_id)
    assert (draft.symbol, draft.direction) == ("ETH/USDT", Direction.SHORT)
    assert (draft.entry, draft.planned_stop) == (D("105"), D("99"))
    assert draft.targets == (D("111"), D("117"), D("123"))
    assert draft.portfolios == ((portfolio_id, "Main"),)
    bullish = prefill_from_signal(session, owner=owner, signal_id=bullish_id)
    assert bullish.direction is Direction.LONG
    spec = TradeSpec(
        symbol=draft.symbol,
        direction="long",
        stop=str(draft.planned_stop),
        entries=((str(draft.entry), "1"),),
        signal_id=signal_id,
    )
    view = create_trade(session, owner=owner, portfolio_id=portfolio_id, data=spec.input(), now=NOW)
    assert view.signal_id == signal_id


def test_a_signal_the_plan_does_not_show_cannot_be_taken_or_linked(
    session: Session, migrated_engine: Engine
) -> None:
    old = add_signal(migrated_engine)
    for _ in range(50):
        add_signal(migrated_engine)
    pro = add_owner(session, plan="pro")
    with pytest.raises(TierRequiredError):
        prefill_from_signal(session, owner=pro, signal_id=old)
    with pytest.raises(TierRequiredError):
        create_trade(
            session,
            owner=pro,
            portfolio_id=add_portfolio(session, pro),
            data=TradeSpec(signal_id=old).input(),
            now=NOW,
        )
    with pytest.raises(NotFoundError):
        prefill_from_signal(session, owner=pro, signal_id=old + 10_000)
    premium = add_owner(session, plan="premium")
    assert prefill_from_signal(session, owner=premium, signal_id=old).signal_id == old


def test_trades_list_newest_first_with_their_tags(session: Session) -> None:
    owner = add_owner(session)
    portfolio_id = add_portfolio(session, owner)
    first = add_trade(session, owner, portfolio_id, TradeSpec(tags=("a",)))
    second = add_trade(session, owner, portfolio_id, _open_spec(opened_at=T0 + timedelta(days=1)))
    listed = list_trades(session, owner=owner, portfolio_id=portfolio_id)
    assert [(t.id, t.tags, t.fills) for t in listed] == [(second, (), ()), (first, ("a",), ())]
    assert [
        t.id for t in list_trades(session, owner=owner, portfolio_id=portfolio_id, status="open")
    ] == [second]
