"""Settings of the real-time gateway (``cryptolens stream``) and of what operators watch:
Prometheus metrics and error reporting."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from cryptolens.config.checks import blank_to_none, public_address, split_csv

#: A bearer token shorter than this is refused (a scraper stores it; make it random).
MIN_METRICS_TOKEN_LENGTH = 16


class StreamSettings(BaseModel):
    """The streaming gateway and the pages' live stream (a group of ``Settings``)."""

    # The streaming gateway (`cryptolens stream`): where it listens. STREAM_PUBLIC_URL: the
    # origin pages open the live stream at; unset: the site's own origin, where nginx routes
    # /stream and /ws to the gateway. STREAM_PAGES=false keeps pages from opening it at all.
    stream_host: str = Field(default="127.0.0.1", alias="STREAM_HOST")
    stream_port: int = Field(default=5001, ge=1, le=65535, alias="STREAM_PORT")
    stream_public_url: str | None = Field(default=None, alias="STREAM_PUBLIC_URL")
    stream_pages: bool = Field(default=True, alias="STREAM_PAGES")
    # An SSE comment / WebSocket ping this often; a revoked key or ended session is noticed
    # at the next one.
    stream_heartbeat_seconds: float = Field(
        default=15.0, gt=0, le=300, alias="STREAM_HEARTBEAT_SECONDS"
    )
    # How far back a reconnecting client (Last-Event-ID) is replayed.
    stream_replay_seconds: int = Field(default=300, ge=0, le=86_400, alias="STREAM_REPLAY_SECONDS")
    # Open streams per user (SSE and WebSocket together); one more is answered 429.
    stream_max_connections_per_user: int = Field(
        default=10, ge=1, le=100_000, alias="STREAM_MAX_CONNECTIONS_PER_USER"
    )
    # Messages waiting for one client; a client that falls this far behind is dropped.
    stream_client_queue: int = Field(default=256, ge=1, le=100_000, alias="STREAM_CLIENT_QUEUE")
    # Largest WebSocket message a client may send, and subscribe/unsubscribe messages a
    # client may send per minute.
    stream_ws_max_message_bytes: int = Field(
        default=4096, ge=256, le=1_048_576, alias="STREAM_WS_MAX_MESSAGE_BYTES"
    )
    stream_subscribes_per_minute: int = Field(
        default=30, ge=1, le=10_000, alias="STREAM_SUBSCRIBES_PER_MINUTE"
    )
    # How often the gateway looks for new events in the database (without Redis, or as the
    # Redis publisher).
    stream_poll_seconds: float = Field(default=0.25, gt=0, le=10, alias="STREAM_POLL_SECONDS")
    # Forming-candle requests to the exchange per symbol per second, shared by all viewers.
    stream_price_polls_per_second: float = Field(
        default=2.0, gt=0, le=20, alias="STREAM_PRICE_POLLS_PER_SECOND"
    )

    @field_validator("stream_public_url", mode="before")
    @classmethod
    def _blank_stream_is_none(cls, value: Any) -> Any:
        return blank_to_none(value)

    @field_validator("stream_public_url")
    @classmethod
    def _check_stream_public_url(cls, value: str | None) -> str | None:
        return public_address(value)

    @property
    def page_stream_url(self) -> str | None:
        """Where pages open the live stream (None: they do not), as in the stream contract."""
        if not self.stream_pages:
            return None
        return (self.stream_public_url or "") + "/stream"

    @property
    def stream_origin(self) -> str | None:
        """The gateway's origin when it is not the site's own (the pages' CSP allows it)."""
        if self.stream_public_url is None:
            return None
        parts = urlsplit(self.stream_public_url)
        return f"{parts.scheme}://{parts.netloc}"


class ObservabilitySettings(BaseModel):
    """/metrics and error reporting (a group of ``Settings``)."""

    # /metrics (Prometheus): answered to a bearer token or to addresses in the allow list
    # (CIDR ranges); with neither set it answers 404. The multiprocess directory is where
    # gunicorn workers and RQ jobs write their counters for a scrape to sum.
    metrics_token: str | None = Field(default=None, alias="METRICS_TOKEN")
    metrics_allow: Annotated[
        tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...], NoDecode
    ] = Field(default=(), alias="METRICS_ALLOW")
    prometheus_multiproc_dir: Path | None = Field(default=None, alias="PROMETHEUS_MULTIPROC_DIR")
    # Error tracking also reports to Sentry (or a compatible server) when this is set.
    sentry_dsn: SecretStr | None = Field(default=None, alias="SENTRY_DSN")

    @field_validator("sentry_dsn", mode="before")
    @classmethod
    def _blank_dsn_is_none(cls, value: Any) -> Any:
        return blank_to_none(value)

    @field_validator("metrics_allow", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        ranges = split_csv(value)
        if not isinstance(ranges, tuple | list):
            return ranges
        try:
            return tuple(ipaddress.ip_network(str(r), strict=False) for r in ranges)
        except ValueError as exc:
            raise ValueError(f"must be CIDR ranges separated by commas ({exc})") from None

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _check_metrics_token(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str) and len(value.strip()) < MIN_METRICS_TOKEN_LENGTH:
            raise ValueError(f"must be at least {MIN_METRICS_TOKEN_LENGTH} characters")
        return value.strip() if isinstance(value, str) else value

    @field_validator("prometheus_multiproc_dir", mode="before")
    @classmethod
    def _blank_dir_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value
