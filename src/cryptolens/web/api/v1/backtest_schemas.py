"""What the backtest endpoints of API v1 accept and answer.

The ``params`` object is built from ``backtest.params.PARAMS``: one optional field per named
parameter with its type, inclusive range and help, so the document lists exactly what a run
takes and an unknown name or a value out of range is a 400 naming it. ``check_request``
stays the authority (it parses the same table again); the model only makes the document
and the first refusal precise.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, get_type_hints

from pydantic import AfterValidator, ConfigDict, Field, create_model

from cryptolens.backtest.metrics import Metrics
from cryptolens.backtest.params import PARAMS, Param
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


class BacktestBody(In):
    """A backtest of one watched symbol's stored candles over ``[since, until)``."""

    symbol: Symbol
    since: Moment
    until: Moment
    params: BacktestParams = Field(default_factory=BacktestParams)


class BacktestQuery(In):
    limit: Limit = 50


class BacktestLinksOut(Out):
    #: The run's absolute address (from PUBLIC_URL).
    self: str


class BacktestRequestOut(Out):
    symbol: str
    since: datetime
    until: datetime
    params: dict[str, bool | int | float]


class BacktestSummaryOut(Out):
    """A run as the list and the 202 show it: poll ``links.self`` until ``status`` is done
    or failed."""

    id: int
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


class BacktestRunOut(BacktestSummaryOut):
    """A run with its results once done: metrics, every trade, the equity curve."""

    code_version: str
    metrics: BacktestMetricsOut | None
    trades: list[BacktestTradeOut] | None
    equity: BacktestEquityOut | None


BacktestQueuedEnvelope = envelope("BacktestQueuedEnvelope", BacktestSummaryOut)
BacktestsEnvelope = envelope("BacktestsEnvelope", list[BacktestSummaryOut])
BacktestEnvelope = envelope("BacktestEnvelope", BacktestRunOut)
