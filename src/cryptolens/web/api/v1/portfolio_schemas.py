"""What the portfolio endpoints of API v1 accept and answer. Money, prices and quantities are
decimals: sent as JSON numbers or strings, answered as strings (exact, never floats).

The document describes a decimal the way it should be sent, as exact text of at most 18 digits
before the point and 10 after (what the database keeps), so that requests built from it, the
fuzzer's included, are valid ones; the server still takes a JSON number, and its own checks
(fills in order, stop below a long's entry…) stay the authority."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, ConfigDict, Field, PlainSerializer, WithJsonSchema

from cryptolens.domain.portfolio_rules import MAX_TAGS, QUOTE_CURRENCIES, TEXT_LENGTH
from cryptolens.web.api.v1.models import Out, envelope
from cryptolens.web.api.v1.queries import MAX_ID, In, Limit

#: At least 0: up to 18 digits before the point, 10 after.
_AT_LEAST_0 = r"^(0|[1-9][0-9]{0,17})(\.[0-9]{1,10})?$"
#: Above 0: a whole part from 1, or 0 with a fraction ending in a digit from 1 (no lookahead:
#: generators handle plain patterns only).
_ABOVE_0 = r"^([1-9][0-9]{0,17}(\.[0-9]{1,10})?|0\.[0-9]{0,9}[1-9])$"


def _decimal_text(*, positive: bool) -> WithJsonSchema:
    """The documented form of a decimal: text, above 0 (``positive``) or at least 0."""
    pattern = _ABOVE_0 if positive else _AT_LEAST_0
    above = "above 0" if positive else "0 or more"
    return WithJsonSchema(
        {
            "type": "string",
            "pattern": pattern,
            "description": f"A decimal {above} as text, at most 10 places (a JSON number is "
            "accepted too).",
            "examples": ["64250.5" if positive else "0.75"],
        }
    )


#: Decimals as the database keeps them: at most 28 digits, 10 after the point.
Amount = Annotated[
    Decimal,
    Field(max_digits=28, decimal_places=10, allow_inf_nan=False),
    _decimal_text(positive=False),
]
Positive = Annotated[
    Decimal,
    Field(gt=0, max_digits=28, decimal_places=10, allow_inf_nan=False),
    _decimal_text(positive=True),
]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def plain_decimal(value: Decimal) -> str:
    """``value`` as plain decimal text without trailing zeros (``0.2``, ``100``, never an
    exponent), whatever places the database kept."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


#: An answered decimal: a string, exact.
Exact = Annotated[Decimal, PlainSerializer(plain_decimal, return_type=str)]
Text = Annotated[str, Field(max_length=TEXT_LENGTH)]
Currency = Annotated[str, Field(pattern="^(" + "|".join(QUOTE_CURRENCIES) + ")$")]


class PortfolioBody(In):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    quote_currency: Currency = "USDT"
    #: Above 0 and below 1,000,000,000.
    initial_balance: Annotated[
        Decimal, Field(gt=0, lt=1_000_000_000, max_digits=28, decimal_places=10)
    ]
    description: Text = ""


class FillBody(In):
    side: Literal["entry", "exit"]
    #: When it happened (with a time zone offset); never in the future.
    at: AwareDatetime
    price: Positive
    quantity: Positive
    fee: Amount = Decimal(0)


class TradeBody(In):
    """A new trade. With ``signal_id`` ("take this trade"), symbol, direction, stop and
    targets left out are taken from the signal's levels, and the trade is linked to it."""

    # Without a signal, symbol, direction and planned stop are needed (the server says so).
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["signal_id"]},
                {"required": ["symbol", "direction", "planned_stop"]},
            ]
        }
    )

    fills: list[FillBody] = Field(min_length=1, max_length=100)
    symbol: (
        Annotated[
            str,
            Field(
                min_length=3,
                max_length=20,
                pattern=r"^[A-Za-z0-9]{1,16}/[A-Za-z0-9]{1,16}$",
                examples=["BTC/USDT"],
            ),
        ]
        | None
    ) = None
    direction: Literal["long", "short"] | None = None
    planned_stop: Positive | None = None
    targets: list[Positive | None] | None = Field(default=None, max_length=3)
    setup: Annotated[str, Field(max_length=60)] = ""
    notes: Text = ""
    mistakes: Text = ""
    emotions: Text = ""
    tags: list[Annotated[str, Field(max_length=40)]] = Field(
        default_factory=list, max_length=MAX_TAGS
    )
    signal_id: Id | None = None


class TradeQuery(In):
    status: Literal["open", "closed"] | None = None
    limit: Limit = 50


class PortfolioOut(Out):
    id: int
    name: str
    description: str
    quote_currency: str
    initial_balance: Exact
    created_at: datetime
    trades: int
    open_trades: int


class SummaryOut(Out):
    """Closed trades' figures (``services.portfolio.analytics``)."""

    closed_trades: int
    open_trades: int
    wins: int
    losses: int
    win_rate: float | None
    profit_factor: float | None
    expectancy_r: float | None
    net_pnl: Exact
    largest_win: Exact | None
    largest_loss: Exact | None
    max_drawdown: Exact
    max_drawdown_percent: float
    linked_to_signals: int
    average_r_on_signals: float | None
    signals_average_r: float | None


class PortfolioDetailOut(Out):
    portfolio: PortfolioOut
    summary: SummaryOut


class FillOut(Out):
    id: int
    side: str
    at: datetime
    price: Exact
    quantity: Exact
    fee: Exact


class TradeOut(Out):
    id: int
    portfolio_id: int
    symbol: str
    direction: str
    status: str
    planned_stop: Exact
    targets: list[Exact | None]
    setup: str | None
    notes: str
    mistakes: str
    emotions: str
    signal_id: int | None
    opened_at: datetime
    closed_at: datetime | None
    quantity: Exact
    open_quantity: Exact
    avg_entry: Exact
    avg_exit: Exact | None
    fees: Exact
    realized_pnl: Exact
    risk_amount: Exact
    r_multiple: Exact | None
    holding_seconds: int | None
    tags: list[str]
    fills: list[FillOut]


class ExportOut(Out):
    """The CSV download of the pages, as text: one row per fill, formula cells neutralised."""

    portfolio_id: int
    filename: str
    content_type: Literal["text/csv"]
    csv: str


PortfoliosEnvelope = envelope("PortfoliosEnvelope", list[PortfolioOut])
PortfolioEnvelope = envelope("PortfolioEnvelope", PortfolioOut)
PortfolioDetailEnvelope = envelope("PortfolioDetailEnvelope", PortfolioDetailOut)
TradesEnvelope = envelope("TradesEnvelope", list[TradeOut])
TradeEnvelope = envelope("TradeEnvelope", TradeOut)
ExportEnvelope = envelope("ExportEnvelope", ExportOut)
