"""The backtest: replay the live pipeline per symbol, then trade its signals in time order with
the execution model (position limits, sizing from realised equity, fees and slippage)."""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from cryptolens.backtest.execution import DEFAULT_EXECUTION, ExecutionModel
from cryptolens.backtest.fills import Exit, ExitReason, Path, Plan, Series, walk
from cryptolens.backtest.replay import Replay, finer_lookup, replay
from cryptolens.detect import DEFAULT_PARAMS, Candles, DetectionParams, as_candles
from cryptolens.domain.enums import Direction
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import timeframe_ms
from cryptolens.signals import DEFAULT_SIGNAL_PARAMS, FinerCandles, SignalParams


@dataclass(frozen=True, slots=True)
class BacktestTrade:
    """One position taken: fill, exits (after slippage), size, costs and result."""

    symbol: str
    direction: Direction
    signal_at: int
    entry_time: int
    entry_price: float
    stop: float
    exit_time: int
    #: Size-weighted average of the exit fills, slippage included.
    exit_price: float
    size: float
    fees: float
    #: Profit or loss in quote currency, net of fees.
    pnl: float
    #: ``pnl`` in units of the initial risk (size x entry-to-stop distance).
    r_multiple: float
    exit_reason: ExitReason
    exits: tuple[Exit, ...]
    ambiguous: bool
    resolved_by_finer: bool

    @property
    def duration_ms(self) -> int:
        return self.exit_time - self.entry_time

    @property
    def quantity(self) -> float:
        """``size``, under the name the metrics read."""
        return self.size


@dataclass(frozen=True, slots=True)
class EquityCurve:
    """Realised equity after every fill, oldest first (the first point is the start)."""

    time: npt.NDArray[np.int64]
    equity: npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class BacktestResult:
    replays: Mapping[str, Replay]
    execution: ExecutionModel
    trades: tuple[BacktestTrade, ...]
    equity: EquityCurve
    #: Filled signals not traded: a position limit was reached or no equity was left.
    skipped: int

    @property
    def final_equity(self) -> float:
        return float(self.equity.equity[-1])

    @property
    def fees(self) -> float:
        return sum(t.fees for t in self.trades)

    @property
    def ambiguous(self) -> int:
        """Trades with a candle through stop and target and no finer candles (stop counted)."""
        return sum(t.ambiguous for t in self.trades)


def run_backtest(
    base: Candles,
    *,
    base_timeframe: str,
    timeframes: Sequence[str],
    symbol: str = "",
    detection: DetectionParams = DEFAULT_PARAMS,
    signals: SignalParams = DEFAULT_SIGNAL_PARAMS,
    execution: ExecutionModel = DEFAULT_EXECUTION,
    finer: Candles | None = None,
    finer_timeframe: str | None = None,
    now_ms: int | None = None,
) -> BacktestResult:
    """Backtest one symbol from its closed base candles (and optional finer candles, which
    settle candles through both a stop and a target). Raises ValidationError on bad input."""
    return run_backtests(
        {symbol: base},
        base_timeframe=base_timeframe,
        timeframes=timeframes,
        detection=detection,
        signals=signals,
        execution=execution,
        finer=None if finer is None else {symbol: finer},
        finer_timeframe=finer_timeframe,
        now_ms=now_ms,
    )


def run_backtests(
    bases: Mapping[str, Candles],
    *,
    base_timeframe: str,
    timeframes: Sequence[str],
    detection: DetectionParams = DEFAULT_PARAMS,
    signals: SignalParams = DEFAULT_SIGNAL_PARAMS,
    execution: ExecutionModel = DEFAULT_EXECUTION,
    finer: Mapping[str, Candles] | None = None,
    finer_timeframe: str | None = None,
    now_ms: int | None = None,
) -> BacktestResult:
    """Backtest several symbols as one account: each replayed on its own, their signals
    traded together (the overall position limit and the equity are shared)."""
    if not bases:
        raise ValidationError("no symbols to backtest")
    if (finer is None) != (finer_timeframe is None):
        raise ValidationError("finer candles need their timeframe, and a timeframe its candles")
    lookups: dict[str, FinerCandles | None] = {}
    if finer is not None and finer_timeframe is not None:
        finer_ms, base_ms = timeframe_ms(finer_timeframe), timeframe_ms(base_timeframe)
        if finer_ms >= base_ms or base_ms % finer_ms:
            raise ValidationError(
                f"finer_timeframe {finer_timeframe} must divide the base timeframe {base_timeframe}"
            )
        lookups = {sym: finer_lookup(as_candles(c), finer_ms) for sym, c in finer.items()}
    replays = {
        symbol: replay(
            base,
            base_timeframe=base_timeframe,
            timeframes=timeframes,
            detection=detection,
            signals=signals,
            finer=lookups.get(symbol),
            now_ms=now_ms,
        )
        for symbol, base in bases.items()
    }
    return trade_replays(replays, execution, finer=lookups)


def signal_paths(
    result: Replay, execution: ExecutionModel, finer: FinerCandles | None = None
) -> list[Path]:
    """Every signal's fill and exits under the execution model's exit rules."""
    step = timeframe_ms(result.base_timeframe)
    series = {d: Series.of(result.base, step, d) for d in Direction}
    paths = []
    for s in result.signals:
        t = s.outcome
        plan = Plan(
            t.direction, t.entry, t.stop, t.targets, t.created_at, t.expires_at, t.max_hold_ms
        )
        paths.append(
            walk(
                plan,
                series[t.direction],
                fractions=execution.fractions,
                break_even=execution.break_even,
                finer=finer,
            )
        )
    return paths


@dataclass(order=True)
class _Event:
    time: int
    #: Exits (0) before entries (1) at the same moment: a closed position frees its slot.
    kind: int
    seq: int
    symbol: str = field(compare=False)
    path: Path = field(compare=False)
    atr: float = field(compare=False)
    exit: Exit | None = field(compare=False, default=None)
    position: _Position | None = field(compare=False, default=None)


@dataclass
class _Position:
    symbol: str
    path: Path
    atr: float
    size: float
    fees: float
    pnl: float = 0.0
    exits: list[Exit] = field(default_factory=list)
    left: int = 0


def trade_replays(
    replays: Mapping[str, Replay],
    execution: ExecutionModel = DEFAULT_EXECUTION,
    *,
    finer: Mapping[str, FinerCandles | None] | None = None,
) -> BacktestResult:
    """Trade the replayed signals of one or more symbols together, in time order."""
    finer = finer or {}
    # Heap entries carry their order key as a tuple: (time, kind, seq) compares as _Event does,
    # and seq is unique, so the event itself is never compared.
    queue: list[tuple[int, int, int, _Event]] = []
    seq = 0
    start = min((int(r.base.open_time[0]) for r in replays.values()), default=0)
    for symbol in sorted(replays):
        result = replays[symbol]
        paths = signal_paths(result, execution, finer.get(symbol))
        for s, path in zip(result.signals, paths, strict=True):
            if path.filled_at is not None:
                event = _Event(path.filled_at, 1, seq, symbol, path, s.draft.atr)
                queue.append((event.time, event.kind, event.seq, event))
                seq += 1
    heapq.heapify(queue)
    book = _Book(execution, start)
    while queue:
        event = heapq.heappop(queue)[3]
        if event.kind == 1:
            position = book.open(event)
            if position is None:
                continue
            for leg in event.path.exits:
                leg_event = _Event(
                    leg.time, 0, seq, event.symbol, event.path, event.atr, leg, position
                )
                heapq.heappush(queue, (leg.time, 0, seq, leg_event))
                seq += 1
        else:
            assert event.exit is not None
            assert event.position is not None
            book.close(event.position, event.exit)
    return BacktestResult(
        replays=dict(replays),
        execution=execution,
        trades=tuple(sorted(book.trades, key=lambda t: (t.entry_time, t.symbol, t.signal_at))),
        equity=EquityCurve(
            np.array(book.times, dtype=np.int64), np.array(book.values, dtype=np.float64)
        ),
        skipped=book.skipped,
    )


class _Book:
    """Open positions and realised equity while events are applied in time order."""

    def __init__(self, execution: ExecutionModel, start: int) -> None:
        self.x = execution
        self.equity = execution.initial_equity
        self.times = [start]
        self.values = [self.equity]
        self.open_by_symbol: dict[str, int] = {}
        self.open_total = 0
        self.skipped = 0
        self.trades: list[BacktestTrade] = []

    def _record(self, time: int) -> None:
        self.times.append(time)
        self.values.append(self.equity)

    def open(self, event: _Event) -> _Position | None:
        x, plan = self.x, event.path.plan
        held = self.open_by_symbol.get(event.symbol, 0)
        size = x.size(equity=self.equity, entry=plan.entry, stop=plan.stop)
        if held >= x.max_positions_per_symbol or self.open_total >= x.max_positions or size <= 0:
            self.skipped += 1
            return None
        fee = x.fee(plan.entry * size, maker=True)
        self.open_by_symbol[event.symbol] = held + 1
        self.open_total += 1
        self.equity -= fee
        self._record(event.time)
        position = _Position(event.symbol, event.path, event.atr, size, fee, pnl=-fee)
        position.left = len(event.path.exits)
        return position

    def close(self, position: _Position, leg: Exit) -> None:
        x, plan = self.x, position.path.plan
        sign = 1.0 if plan.direction is Direction.BULLISH else -1.0
        price = leg.price
        if not leg.is_limit:
            price -= sign * x.slip(atr=position.atr, price=leg.price)
        qty = position.size * leg.fraction
        fee = x.fee(price * qty, maker=leg.is_limit)
        gain = sign * (price - plan.entry) * qty - fee
        position.fees += fee
        position.pnl += gain
        position.exits.append(Exit(leg.time, price, leg.fraction, leg.reason))
        position.left -= 1
        self.equity += gain
        self._record(leg.time)
        if position.left == 0:
            self._finish(position)

    def _finish(self, p: _Position) -> None:
        self.open_by_symbol[p.symbol] -= 1
        self.open_total -= 1
        plan, path = p.path.plan, p.path
        assert path.filled_at is not None
        done = sum(e.fraction for e in p.exits)
        self.trades.append(
            BacktestTrade(
                symbol=p.symbol,
                direction=plan.direction,
                signal_at=plan.created_at,
                entry_time=path.filled_at,
                entry_price=plan.entry,
                stop=plan.stop,
                exit_time=p.exits[-1].time,
                exit_price=sum(e.price * e.fraction for e in p.exits) / done,
                size=p.size,
                fees=p.fees,
                pnl=p.pnl,
                r_multiple=p.pnl / (p.size * abs(plan.entry - plan.stop)),
                exit_reason=p.exits[-1].reason,
                exits=tuple(p.exits),
                ambiguous=path.ambiguous,
                resolved_by_finer=path.resolved_by_finer,
            )
        )
