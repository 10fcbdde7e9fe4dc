"""What the backtest endpoints of API v1 accept and answer.

The ``params`` object is built from ``backtest.params.PARAMS``: one optional field per named
parameter with its type, inclusive range and help, so the document lists exactly what a run
takes and an unknown name or a value out of range is a 400 naming it. ``check_request``
stays the authority (it parses the same table again); the model only makes the document
and the first refusal precise.

The optional ``sweep`` object makes the run a sweep (every combination of the values given
per parameter, ranked by one metric) or, with ``walk_forward``, a walk-forward test; its
limits are stated in the fields' descriptions, ``sweeps.check_sweep`` checks the rest
(names, values, combinations, windows) before anything is stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_type_hints

from pydantic import AfterValidator, ConfigDict, Field, create_model

from cryptolens.backtest.metrics import Metrics
from cryptolens.backtest.params import PARAMS, Param
from cryptolens.backtest.sweep import MAX_WALK_FORWARD_RUNS, RANKING, SWEEP_PARAMS
from cryptolens.backtest.walkforward import MAX_COMBINATIONS
from cryptolens.services.backtests.sweeps import (
    MAIN_METRICS,
    MAX_SEED,
    MAX_VALUES_CHARS,
    MAX_WALK_DAYS,
)
from cryptolens.web.api.v1.models import Out, envelope
from cryptolens.web.api.v1.queries import In, Limit, Symbol

#: Years a run's range may name: wide enough for any stored history, narrow enough that a
#: far offset cannot overflow a date.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _in_years(moment: datetime) -> datetime:
    """``moment`` in UTC (none given: UTC), between ``FIRST_YEAR`` and ``LAST_YEAR``."""
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"must be between {FIRST_YEAR} and {LAST_YEAR}")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


Moment = Annotated[
    datetime,
    AfterValidator(_in_years),
    Field(
        description="An ISO 8601 date or date-time; without an offset it is UTC.",
        examples=["2024-01-01T00:00:00Z"],
    ),
]


def _param_field(param: Param) -> tuple[Any, Any]:
    description = f"{param.help} ({param.kind}"
    if param.kind == "bool":
        return (bool | None, Field(default=None, description=f"{description})"))
    kind: type = int if param.kind == "int" else float
    bounds = f", {param.low:g} to {param.high:g})"
    extra: dict[str, Any] = {} if param.kind == "int" else {"allow_inf_nan": False}
    return (
        kind | None,
        Field(default=None, ge=param.low, le=param.high, description=description + bounds, **extra),
    )


#: The named parameters of ``backtest.params``; a name left out keeps the live setting.
BacktestParams: type[In] = create_model(
    "BacktestParams",
    __base__=In,
    __doc__="Named parameters overriding the live signal rules and the execution model.",
    **{name: _param_field(param) for name, param in PARAMS.items()},  # type: ignore[call-overload]
)


SweepValues = Annotated[
    str | list[bool | int | float | str],
    Field(
        description=(
            "The values to try: a list, or text: 2,3,4 or a range start:stop:step such as "
            f"0.5:2:0.5 (at most {MAX_VALUES_CHARS:,} characters)."
        ),
        examples=["1,2,3", [0.5, 1.0, 1.5]],
    ),
]
SpaceLine = Annotated[str, Field(max_length=MAX_VALUES_CHARS, examples=["stop_atr=0.5:2:0.5"])]
Days = Annotated[float, Field(gt=0, le=MAX_WALK_DAYS, allow_inf_nan=False)]


class WalkForwardBody(In):
    """Rolling windows over the run's range: the best combination of ``in_days`` is scored
    on the next ``out_days``; the windows step by ``out_days``."""

    in_days: Days
    out_days: Days


class SweepBody(In):
    """Try combinations of parameter values and rank them, or walk forward with them."""

    space: dict[str, SweepValues] | list[SpaceLine] = Field(
        description=(
            "Values per parameter name, as an object or as name=values lines. Names: "
            f"{', '.join(SWEEP_PARAMS)}. At most {len(SWEEP_PARAMS)} parameters and "
            f"{MAX_COMBINATIONS:,} combinations; the fixed ``params`` apply to every one."
        ),
        examples=[{"min_confluence": [1, 2], "stop_atr": "0.5:1.5:0.5"}],
    )
    mode: Literal["grid", "random"] = Field(
        "grid", description="grid: every combination; random: ``count`` drawn from them."
    )
    count: int | None = Field(
        None, ge=1, le=MAX_COMBINATIONS, description="Combinations drawn in random mode."
    )
    seed: int = Field(0, ge=0, le=MAX_SEED, description="The random mode's seed.")
    metric: Literal[tuple(RANKING)] = Field(  # type: ignore[valid-type]
        "sharpe", description="The metric combinations are ranked by."
    )
    walk_forward: WalkForwardBody | None = Field(
        None,
        description=(
            "Walk forward instead of ranking once: splits x (combinations + 1) backtests, "
            f"at most {MAX_WALK_FORWARD_RUNS:,}."
        ),
    )


class BacktestBody(In):
    """A backtest of one watched symbol's stored candles over ``[since, until)``."""

    symbol: Symbol
    since: Moment
    until: Moment
    params: BacktestParams = Field(default_factory=BacktestParams)
    sweep: SweepBody | None = None


class BacktestQuery(In):
    limit: Limit = 50


class BacktestLinksOut(Out):
    #: The run's absolute address (from PUBLIC_URL).
    self: str


class WalkForwardOut(Out):
    in_days: float
    out_days: float


class SweepRequestOut(Out):
    """A sweep as stored: the space as name=values lines and the backtests it runs."""

    space: list[str]
    mode: str
    count: int | None
    seed: int
    metric: str
    walk_forward: WalkForwardOut | None
    backtests: int


class BacktestRequestOut(Out):
    symbol: str
    since: datetime
    until: datetime
    params: dict[str, bool | int | float]
    sweep: SweepRequestOut | None = None


class BacktestSummaryOut(Out):
    """A run as the list and the 202 show it: poll ``links.self`` until ``status`` is done
    or failed."""

    id: int
    #: single, sweep or walk_forward.
    kind: str
    status: str
    progress: float
    error: str | None
    request: BacktestRequestOut
    created_at: datetime
    finished_at: datetime | None
    links: BacktestLinksOut


class _Stored(Out):
    """Stored results keep what the engine wrote; only the documented fields are answered."""

    model_config = ConfigDict(extra="ignore")


class BacktestExitOut(_Stored):
    time: str
    price: float
    fraction: float
    reason: str


class BacktestTradeOut(_Stored):
    """One simulated trade; times ISO 8601 UTC, prices and money in the quote currency."""

    symbol: str
    direction: str
    signal_at: str
    entry_time: str
    entry_price: float
    stop: float
    exit_time: str
    exit_price: float
    size: float
    fees: float
    pnl: float
    r_multiple: float
    exit_reason: str
    ambiguous: bool
    exits: list[BacktestExitOut]


class BacktestEquityOut(_Stored):
    """The equity and drawdown curves, thinned for a chart; ``time`` in epoch seconds."""

    time: list[int]
    equity: list[float]
    drawdown: list[float]


#: ``backtest.metrics.Metrics`` (fractions, not percent) and the signals the engine skipped.
BacktestMetricsOut: type[Out] = create_model(
    "BacktestMetricsOut",
    __base__=_Stored,
    skipped=(int, 0),
    **{name: (kind, ...) for name, kind in get_type_hints(Metrics).items()},  # type: ignore[call-overload]
)


_METRIC_TYPES = get_type_hints(Metrics)
#: The main metrics of each ranking row and walk-forward window.
SweepMetricsOut: type[Out] = create_model(
    "SweepMetricsOut",
    __base__=_Stored,
    **{name: (_METRIC_TYPES[name], ...) for name in MAIN_METRICS},  # type: ignore[call-overload]
)
SweepParamsOut = dict[str, bool | int | float | str]


class SweepRowOut(_Stored):
    """One combination: its rank (1 is best), values, score (null when the metric is
    undefined, ranked last) and main metrics; ``single`` is the params of a single run
    trading as it does (null for a pattern filter, which only sweeps have)."""

    rank: int
    params: SweepParamsOut
    score: float | None
    metrics: SweepMetricsOut
    single: dict[str, bool | int | float] | None


class SweepSplitOut(_Stored):
    """One walk-forward split: the best in-sample combination and how it did after."""

    index: int
    in_start: datetime
    in_end: datetime
    out_start: datetime
    out_end: datetime
    params: SweepParamsOut
    in_score: float | None
    out_score: float | None
    warning: str | None
    in_sample: SweepMetricsOut
    out_of_sample: SweepMetricsOut


class BacktestRunOut(BacktestSummaryOut):
    """A run with its results once done: metrics, every trade, the equity curve. A sweep
    answers ``ranking`` (best first) with the best combination's ``metrics``; a walk-forward
    answers ``splits``, ``warnings`` and the stitched out-of-sample ``metrics`` (null when
    the out-of-sample windows overlap); neither has trades or a curve."""

    code_version: str
    metrics: BacktestMetricsOut | None
    trades: list[BacktestTradeOut] | None
    equity: BacktestEquityOut | None
    ranking: list[SweepRowOut] | None = None
    splits: list[SweepSplitOut] | None = None
    warnings: list[str] | None = None


BacktestQueuedEnvelope = envelope("BacktestQueuedEnvelope", BacktestSummaryOut)
BacktestsEnvelope = envelope("BacktestsEnvelope", list[BacktestSummaryOut])
BacktestEnvelope = envelope("BacktestEnvelope", BacktestRunOut)
