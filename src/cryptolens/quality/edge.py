"""The edge report computed from one symbol's base candles: the replay's zones against their
placebos, the model's out-of-sample scores, and the backtest's trades after fees.

Everything is a pure function of the candles, the parameters and the seed: the same inputs
give the same report, figure for figure (only ``computed_at``, given by the caller, differs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cryptolens.backtest.engine import trade_replays
from cryptolens.backtest.execution import DEFAULT_EXECUTION, ExecutionModel
from cryptolens.backtest.replay import prepare, replay_signals
from cryptolens.detect import Candles
from cryptolens.quality.edge_model import ModelSection, model_section
from cryptolens.quality.edge_report import HoldRow, SignalRow, hold_rows, replay_zones, signal_rows
from cryptolens.quality.features import build_dataset
from cryptolens.quality.outcomes import zone_outcomes
from cryptolens.quality.placebo_zones import placebo_zones, timeframe_atr
from cryptolens.quality.stats import BOOTSTRAP_RESAMPLES, SMALL_SAMPLE
from cryptolens.quality.walkforward import DEFAULT_MODEL, ModelParams, out_of_sample

MODEL_NOTE = (
    "Walk-forward: each zone is scored by a model trained only on zones whose outcome was "
    "known before it formed; zones formed before the first model could be trained are not "
    "scored."
)


@dataclass(frozen=True, slots=True)
class EdgeParams:
    base_timeframe: str
    timeframes: tuple[str, ...]
    seed: int
    placebo_draws: int
    atr_mult: float
    maker_fee_bps: float
    taker_fee_bps: float
    #: Whether the model section was computed.
    model: bool
    small_sample: int = SMALL_SAMPLE
    bootstrap_resamples: int = BOOTSTRAP_RESAMPLES


@dataclass(frozen=True, slots=True)
class EdgeReport:
    params: EdgeParams
    candles: int
    first_open: int
    last_open: int
    zones: int
    holds: tuple[HoldRow, ...]
    #: None when no out-of-sample scores were given (``model_note`` says why).
    model: ModelSection | None
    model_note: str
    signals: tuple[SignalRow, ...]
    #: Signals found by the replay, and those the account did not trade (position limits).
    signals_found: int
    signals_skipped: int


def compute_edge(
    base: Candles,
    *,
    base_timeframe: str,
    timeframes: Sequence[str],
    seed: int,
    placebo_draws: int = 1,
    atr_mult: float = 1.0,
    execution: ExecutionModel = DEFAULT_EXECUTION,
    model: ModelParams | None = DEFAULT_MODEL,
) -> EdgeReport:
    """The report on ``base`` (closed base candles, oldest first); ``model`` None leaves the
    model section out (it is the slow part).

    Raises ValidationError for bad candles, timeframes or parameters."""
    prepared = prepare(base, base_timeframe=base_timeframe, timeframes=timeframes)
    keys, zones = replay_zones(prepared)
    atr = {
        tf: timeframe_atr(prepared.candles[tf], tf, prepared.detection)
        for tf in prepared.timeframes
    }
    placebos = placebo_zones(
        zones,
        prepared.candles,
        atr,
        seed=seed,
        draws=placebo_draws,
        warmup=prepared.detection.atr_period,
    )
    real = zone_outcomes(zones, prepared.candles, atr_mult=atr_mult)
    fake = zone_outcomes(placebos, prepared.candles, atr_mult=atr_mult)
    scored, note = None, "left out on request: this report was computed without the model"
    if model is not None:
        dataset = build_dataset(prepared.columns.detections(), prepared.candles, atr_mult)
        scored, note = out_of_sample(dataset, model), MODEL_NOTE
    replayed = replay_signals(prepared)
    traded = trade_replays({"": replayed}, execution)
    return EdgeReport(
        params=EdgeParams(
            base_timeframe=base_timeframe,
            timeframes=prepared.timeframes,
            seed=seed,
            placebo_draws=placebo_draws,
            atr_mult=atr_mult,
            maker_fee_bps=execution.maker_fee_bps,
            taker_fee_bps=execution.taker_fee_bps,
            model=model is not None,
        ),
        candles=len(prepared.base),
        first_open=int(prepared.base.open_time[0]),
        last_open=int(prepared.base.open_time[-1]),
        zones=len(zones),
        holds=tuple(hold_rows(keys, real, fake, draws=placebo_draws)),
        model=None if scored is None else model_section(scored),
        model_note=note,
        signals=tuple(signal_rows(traded.trades, seed=seed)),
        signals_found=len(replayed.signals),
        signals_skipped=traded.skipped,
    )
