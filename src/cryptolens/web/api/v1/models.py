"""Typed answers of API v1: every response is the envelope around one of these ``data`` types.

The same models validate what the routes return and feed the OpenAPI document, so the spec
cannot drift from the answers; rows are the read models' own dataclasses (``PatternRow``,
``SignalRow``, ``TrackRecordRow``, ``ChartCandles``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, create_model

from cryptolens.services.views.chart import ChartCandles
from cryptolens.services.views.signal_list import SignalRow
from cryptolens.services.views.track_record import TrackRecordRow
from cryptolens.services.views.zone_list import PatternRow


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Meta(Out):
    timestamp: str
    request_id: str | None = None
    count: int | None = None
    limit: int | None = None
    #: Pass as ``cursor`` for the next page; null on the last one.
    next_cursor: str | None = None


class ErrorEnvelope(Out):
    """A refused or failed request: ``error`` says why (naming the field or scope)."""

    success: Literal[False]
    data: Any = None
    error: str
    meta: Meta


def envelope(name: str, data: Any) -> type[Out]:
    """The envelope model ``name`` whose ``data`` is of type ``data``."""
    model: type[Out] = create_model(
        name,
        __base__=Out,
        success=(Literal[True], ...),
        data=(data, ...),
        error=(None, None),
        meta=(Meta, ...),
    )
    return model


class SymbolOut(Out):
    symbol: str
    exchange: str
    base: str
    quote: str
    active: bool


class SignalDetailOut(Out):
    """One signal with the zones that formed it; ``signal.outcome`` once it closed."""

    signal: SignalRow
    zones: list[PatternRow]
    market_now: int | None


class MatrixCount(Out):
    pattern_type: str
    direction: str
    count: int


class MatrixCellOut(Out):
    symbol: str
    timeframe: str
    counts: list[MatrixCount]


class MatrixOut(Out):
    """Open zones per symbol and timeframe (only what the caller's plan shows)."""

    symbols: list[str]
    timeframes: list[str]
    cells: list[MatrixCellOut]


class DayCount(Out):
    day: str
    requests: int


class KeyUsageOut(Out):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    state: str
    expires_at: str | None
    last_used_at: str | None
    last_used_ip: str | None
    #: Requests per day over the last days, oldest first (written about once a minute).
    requests: list[DayCount]


class AccountOut(Out):
    id: int
    email: str
    role: Literal["admin", "user"]
    plan: str
    plan_expires_at: str | None
    verified: bool
    #: How this request authenticated: ``api_key`` or ``session``.
    auth: str
    #: The key of this request (null for a session).
    api_key_id: int | None
    scopes: list[str]
    #: Requests per minute, hour and day allowed to this caller (null: no such limit).
    rate_limits: list[int | None]
    api_keys: list[KeyUsageOut]


class QueuedOut(Out):
    """Work accepted for the background: by a worker (``rq``) or a thread (``thread``)."""

    job: str
    symbols: list[str]
    runner: Literal["rq", "thread"]


class JobRunOut(Out):
    id: int
    status: str
    target: str | None
    error: str | None


class JobOut(Out):
    name: str
    queue: str
    timeout: int
    every: int | None
    summary: str
    last_run: JobRunOut | None


SymbolsEnvelope = envelope("SymbolsEnvelope", list[SymbolOut])
SymbolEnvelope = envelope("SymbolEnvelope", SymbolOut)
CandlesEnvelope = envelope("CandlesEnvelope", ChartCandles)
PatternsEnvelope = envelope("PatternsEnvelope", list[PatternRow])
SignalsEnvelope = envelope("SignalsEnvelope", list[SignalRow])
SignalEnvelope = envelope("SignalEnvelope", SignalDetailOut)
MatrixEnvelope = envelope("MatrixEnvelope", MatrixOut)
TrackRecordEnvelope = envelope("TrackRecordEnvelope", list[TrackRecordRow])
AccountEnvelope = envelope("AccountEnvelope", AccountOut)
QueuedEnvelope = envelope("QueuedEnvelope", QueuedOut)
JobsEnvelope = envelope("JobsEnvelope", list[JobOut])
