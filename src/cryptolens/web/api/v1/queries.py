"""What API v1 accepts: query strings and bodies as models, so unknown fields, control
characters, ids beyond 64 bits and oversized limits are refused (400 naming the field) before
a route runs, and the same rules appear in the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from cryptolens.domain.enums import Direction, PatternType, SignalOutcome
from cryptolens.domain.enums import SignalStatus as SignalState
from cryptolens.domain.symbols import parse_symbol
from cryptolens.domain.timeframes import TIMEFRAME_MS
from cryptolens.services.views.chart import MAX_CANDLES
from cryptolens.web.principal import API_KEY_QUERY

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_ID = 2**63 - 1
#: Epoch milliseconds up to the year 2500: enough for any candle, small for every database.
MAX_MS = 16_725_225_600_000

Symbol = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9]{1,16}/[A-Za-z0-9]{1,16}$",
        max_length=33,
        description="BASE/QUOTE, e.g. BTC/USDT",
        examples=["BTC/USDT"],
    ),
    AfterValidator(parse_symbol),
]
Timeframe = Annotated[str, Field(pattern="^(" + "|".join(TIMEFRAME_MS) + ")$")]
Cursor = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9_-]{1,80}$", description="meta.next_cursor of the previous page"),
]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"rows per page, 1 to {MAX_LIMIT}")]
#: A zone status, or ``open`` for active and touched together.
ZoneStatus = Literal["open", "active", "touched", "filled", "invalidated", "expired"]
EpochMs = Annotated[int, Field(ge=0, le=MAX_MS, description="epoch milliseconds")]


class In(BaseModel):
    """Unknown fields are refused; ``api_key`` (the documented alternative to the header) is
    authentication, not a parameter, and is dropped here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _without_api_key(cls, values: Any) -> Any:
        if isinstance(values, dict) and API_KEY_QUERY in values:
            return {k: v for k, v in values.items() if k != API_KEY_QUERY}
        return values


class NoQuery(In):
    """No parameters."""


class PatternQuery(In):
    symbol: Symbol | None = None
    timeframe: Timeframe | None = None
    type: PatternType | None = None
    direction: Direction | None = None
    status: ZoneStatus | None = None
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor | None = None


class SignalQuery(In):
    symbol: Symbol | None = None
    direction: Direction | None = None
    status: SignalState | None = None
    outcome: SignalOutcome | None = None
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor | None = None


class CandleQuery(In):
    symbol: Symbol
    timeframe: Timeframe | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_CANDLES)] = 500
    #: Only candles opening in [start, end).
    start: EpochMs | None = None
    end: EpochMs | None = None


class MatrixQuery(In):
    timeframe: list[Timeframe] | None = Field(
        default=None, max_length=len(TIMEFRAME_MS), description="repeat for several"
    )


class TrackRecordQuery(In):
    symbol: Symbol | None = None
    direction: Direction | None = None
    group_by: list[Annotated[str, Field(pattern="^(symbol|timeframes|direction)$")]] | None = Field(
        default=None, max_length=3, description="symbol, timeframes and/or direction"
    )


class SymbolBody(In):
    symbol: Symbol


class SymbolsBody(In):
    """Symbols to act on; none: every watched symbol."""

    symbols: list[Symbol] = Field(default_factory=list, max_length=50)
