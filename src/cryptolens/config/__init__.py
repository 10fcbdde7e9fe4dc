"""Typed settings: the only place CryptoLens reads the environment (and a ``.env`` file).

``Settings`` is one flat, frozen object (``settings.stream_port``, ``settings.price_pro_monthly``)
assembled from groups: billing (``config.billing``), the stream gateway and observability
(``config.live``), and the core settings here; the rules several groups share are in
``config.checks``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from cryptolens.config.billing import BillingSettings
from cryptolens.config.checks import (
    DEFAULT_SECRET_KEY,
    blank_to_none,
    check_production_secret,
    check_webhook_secret,
    public_address,
    service_url,
    split_csv,
)
from cryptolens.config.live import ObservabilitySettings, StreamSettings
from cryptolens.domain.errors import ValidationError as DomainValidationError
from cryptolens.domain.symbols import parse_symbol
from cryptolens.domain.timeframes import TIMEFRAME_MS, parse_timeframes
from cryptolens.signals.params import SignalParams

#: Hosts a development or test app answers to when TRUSTED_HOSTS is not set (the test
#: client uses "localhost").
DEVELOPMENT_HOSTS = ("127.0.0.1", "localhost")
SUPPORTED_DIALECTS = ("sqlite", "postgresql", "mysql", "mariadb")


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the setting in one line."""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TESTING = "testing"
    PRODUCTION = "production"


class SmtpSecurity(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    SSL = "ssl"


class LogFormat(StrEnum):
    TEXT = "text"
    COLORED = "colored"
    JSON = "json"


class Settings(BillingSettings, StreamSettings, ObservabilitySettings, BaseSettings):
    """Every setting CryptoLens understands, validated once at start-up."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        case_sensitive=False,
        populate_by_name=True,
    )

    environment: Environment = Field(default=Environment.DEVELOPMENT, alias="CRYPTOLENS_ENV")
    instance_dir: Path = Field(default=Path("instance"), alias="INSTANCE_DIR")
    database_url: str = Field(default="", alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    secret_key: str = Field(default=DEFAULT_SECRET_KEY, alias="SECRET_KEY")

    exchange_id: str = Field(default="binance", alias="EXCHANGE_ID")
    exchange_api_url: str | None = Field(default=None, alias="EXCHANGE_API_URL")
    exchange_timeout_ms: int = Field(default=10_000, ge=100, alias="EXCHANGE_TIMEOUT_MS")
    exchange_concurrency: int = Field(default=8, ge=1, le=256, alias="EXCHANGE_CONCURRENCY")
    symbols: Annotated[tuple[str, ...], NoDecode] = Field(default=("BTC/USDT",), alias="SYMBOLS")
    base_timeframe: str = Field(default="1m", alias="BASE_TIMEFRAME")
    timeframes: Annotated[tuple[str, ...], NoDecode] = Field(
        default=tuple(TIMEFRAME_MS), alias="TIMEFRAMES"
    )

    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    log_format: LogFormat = Field(default=LogFormat.TEXT, alias="LOG_FORMAT")
    trusted_proxies: int = Field(default=0, ge=0, le=10, alias="TRUSTED_PROXIES")
    # Host names (Host header) the app answers to; others get 400. Empty: the development
    # hosts outside production, any host in production (set it there).
    trusted_hosts: Annotated[tuple[str, ...], NoDecode] = Field(default=(), alias="TRUSTED_HOSTS")
    # Server-side sessions: an absolute lifetime (also the remember cookie's) and an idle
    # timeout (0: none).
    session_lifetime_days: int = Field(default=7, ge=1, le=365, alias="SESSION_LIFETIME_DAYS")
    session_idle_timeout_minutes: int = Field(default=0, ge=0, alias="SESSION_IDLE_TIMEOUT_MINUTES")
    # Every absolute link (emails) is built from this, never from the request's Host.
    public_url: str | None = Field(default=None, alias="PUBLIC_URL")
    # The ntfy server a topic given alone is published to (self-hosted ntfy: its address).
    ntfy_default_url: str = Field(default="https://ntfy.sh", alias="NTFY_DEFAULT_URL")
    # Notification sends in flight at once, and the seconds one send may take.
    notify_concurrency: int = Field(default=64, ge=1, le=1024, alias="NOTIFY_CONCURRENCY")
    notify_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, alias="NOTIFY_TIMEOUT_SECONDS"
    )
    # Whether ntfy servers, webhooks and Apprise hosts may be loopback, LAN or link-local
    # addresses (a self-hosted ntfy on the LAN); off, a user cannot make the server POST to
    # its own network (server-side request forgery).
    notify_allow_private_targets: bool = Field(default=False, alias="NOTIFY_ALLOW_PRIVATE_TARGETS")

    host: str = Field(default="127.0.0.1", alias="HOST")
    port: int = Field(default=5000, ge=1, le=65535, alias="PORT")
    web_workers: int | None = Field(default=None, ge=1, le=64, alias="WEB_WORKERS")
    web_timeout: int = Field(default=120, ge=5, alias="WEB_TIMEOUT")
    # Largest request body accepted (bytes); larger ones, chunked too, get 413.
    max_request_bytes: int = Field(
        default=1024 * 1024, ge=16 * 1024, le=1024 * 1024 * 1024, alias="MAX_REQUEST_BYTES"
    )

    sqlite_timeout: float = Field(default=30.0, gt=0, alias="SQLITE_TIMEOUT")
    db_pool_size: int = Field(default=10, ge=1, alias="DB_POOL_SIZE")
    db_max_overflow: int = Field(default=20, ge=0, alias="DB_MAX_OVERFLOW")
    db_pool_recycle: int = Field(default=300, ge=1, alias="DB_POOL_RECYCLE")
    db_connect_timeout: int = Field(default=5, ge=1, alias="DB_CONNECT_TIMEOUT")

    # Signals: confluence rule, levels and how outcomes are followed (see README "Signals").
    signal_min_confluence: int = Field(default=2, ge=1, le=8, alias="SIGNAL_MIN_CONFLUENCE")
    signal_require_htf: bool = Field(default=False, alias="SIGNAL_REQUIRE_HTF")
    signal_cooldown_minutes: int = Field(default=240, ge=0, alias="SIGNAL_COOLDOWN_MINUTES")
    signal_proximity_pct: float = Field(default=1.0, ge=0, lt=100, alias="SIGNAL_PROXIMITY_PCT")
    signal_stop_atr: float = Field(default=1.0, ge=0, alias="SIGNAL_STOP_ATR")
    signal_stop_min_pct: float = Field(default=0.1, gt=0, lt=100, alias="SIGNAL_STOP_MIN_PCT")
    signal_targets_r: Annotated[tuple[float, ...], NoDecode] = Field(
        default=(1.0, 2.0, 3.0), alias="SIGNAL_TARGETS_R"
    )
    signal_entry_ttl_minutes: int = Field(default=1440, ge=1, alias="SIGNAL_ENTRY_TTL_MINUTES")
    signal_max_hold_minutes: int = Field(default=10080, ge=1, alias="SIGNAL_MAX_HOLD_MINUTES")

    # Background work: the scan interval and how long job-run records are kept.
    scan_interval_seconds: int = Field(default=60, ge=1, alias="SCAN_INTERVAL_SECONDS")
    job_retention_days: int = Field(default=30, ge=1, alias="JOB_RETENTION_DAYS")
    outbox_retention_days: int = Field(default=7, ge=1, alias="OUTBOX_RETENTION_DAYS")

    smtp_host: str | None = Field(default=None, alias="SMTP_HOST")
    smtp_port: int = Field(default=587, ge=1, le=65535, alias="SMTP_PORT")
    smtp_security: SmtpSecurity = Field(default=SmtpSecurity.STARTTLS, alias="SMTP_SECURITY")
    smtp_user: str | None = Field(default=None, alias="SMTP_USER")
    smtp_password: str | None = Field(default=None, alias="SMTP_PASSWORD")
    smtp_timeout: float = Field(default=15.0, gt=0, alias="SMTP_TIMEOUT")
    mail_sender: str = Field(default="CryptoLens <no-reply@localhost>", alias="MAIL_SENDER")
    # argon2id cost (OWASP's recommended minimum: 19 MiB, 2 passes, 1 lane); the README,
    # "Accounts and security", has measured times. Tests lower it.
    password_hash_time_cost: int = Field(default=2, ge=1, le=20, alias="PASSWORD_HASH_TIME_COST")
    password_hash_memory_kib: int = Field(
        default=19456, ge=1024, le=1048576, alias="PASSWORD_HASH_MEMORY_KIB"
    )
    # --- Honest edge (issue 20) ---
    # The edge report (`cryptolens edge-report`, /edge): the seed of its placebo zones and
    # bootstrap intervals, and how many placebo zones it draws for each real zone.
    edge_seed: int = Field(default=20, ge=0, alias="EDGE_SEED")
    edge_placebo_draws: int = Field(default=5, ge=1, le=50, alias="EDGE_PLACEBO_DRAWS")
    # Signals count only zones whose zone-quality probability of holding reaches this
    # (0 = off; zones without a probability, e.g. before the first model, always count).
    signal_min_quality: float = Field(default=0.0, ge=0, le=1, alias="SIGNAL_MIN_QUALITY")

    @field_validator("symbols", "timeframes", "trusted_hosts", mode="before")
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return split_csv(value)

    @field_validator("signal_targets_r", mode="before")
    @classmethod
    def _targets_csv(cls, value: Any) -> Any:
        return split_csv(value)

    @field_validator("signal_targets_r")
    @classmethod
    def _check_targets(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if len(value) != 3 or not 0 < value[0] < value[1] < value[2]:
            raise ValueError("must be three increasing positive R multiples, e.g. 1,2,3")
        return value

    @field_validator("symbols")
    @classmethod
    def _check_symbols(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            return tuple(dict.fromkeys(parse_symbol(s) for s in value))
        except DomainValidationError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("timeframes")
    @classmethod
    def _check_timeframes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            return parse_timeframes(value)
        except DomainValidationError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("base_timeframe")
    @classmethod
    def _check_base_timeframe(cls, value: str) -> str:
        if value not in TIMEFRAME_MS:
            raise ValueError(f"unknown timeframe {value!r}")
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("log_format", mode="before")
    @classmethod
    def _check_log_format(cls, value: Any) -> Any:
        if isinstance(value, str) and value.lower() not in ("text", "colored", "json"):
            raise ValueError(f"must be 'text', 'colored' or 'json' (got {value!r})")
        return value.lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("is not a valid database URL (e.g. sqlite:///path.db)") from None
        if url.get_backend_name() not in SUPPORTED_DIALECTS:
            raise ValueError(
                f"database {url.get_backend_name()!r} is not supported "
                f"(use one of {', '.join(SUPPORTED_DIALECTS)})"
            )
        return value

    @field_validator("exchange_api_url", "redis_url", "smtp_host", "public_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return blank_to_none(value)

    @field_validator("ntfy_default_url")
    @classmethod
    def _check_service_url(cls, value: str) -> str:
        return service_url(value)

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        return public_address(value)

    @field_validator("exchange_api_url")
    @classmethod
    def _check_api_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        if self.environment is Environment.PRODUCTION:
            check_production_secret(self.secret_key)
            for alias, secret in (
                ("LEMONSQUEEZY_WEBHOOK_SECRET", self.lemonsqueezy_webhook_secret),
                ("NOWPAYMENTS_IPN_SECRET", self.nowpayments_ipn_secret),
            ):
                if secret is not None:
                    check_webhook_secret(alias, secret.get_secret_value())
            if self.public_url is None:
                raise ValueError(
                    "PUBLIC_URL: production needs the address users reach the site at "
                    "(e.g. https://lens.example.com); emailed links are built from it"
                )
        base_ms = TIMEFRAME_MS[self.base_timeframe]
        for timeframe in self.timeframes:
            if TIMEFRAME_MS[timeframe] % base_ms:
                raise ValueError(
                    f"TIMEFRAMES: {timeframe} is not a multiple of BASE_TIMEFRAME "
                    f"{self.base_timeframe}"
                )
        if self.base_timeframe not in self.timeframes:
            # frozen model: the base timeframe is always part of the configured set
            object.__setattr__(
                self, "timeframes", parse_timeframes((*self.timeframes, self.base_timeframe))
            )
        return self

    def signal_params(self) -> SignalParams:
        """The signal rules these settings describe."""
        minute = 60_000
        r1, r2, r3 = self.signal_targets_r
        return SignalParams(
            min_confluence=self.signal_min_confluence,
            require_higher_timeframe=self.signal_require_htf,
            cooldown_ms=self.signal_cooldown_minutes * minute,
            proximity=self.signal_proximity_pct / 100,
            stop_atr=self.signal_stop_atr,
            stop_min_fraction=self.signal_stop_min_pct / 100,
            targets_r=(r1, r2, r3),
            entry_ttl_ms=self.signal_entry_ttl_minutes * minute,
            max_hold_ms=self.signal_max_hold_minutes * minute,
            min_quality=self.signal_min_quality,
        )

    @property
    def allowed_hosts(self) -> list[str] | None:
        """Flask's TRUSTED_HOSTS: the configured hosts, else the development ones (None:
        any host, production without TRUSTED_HOSTS)."""
        if self.trusted_hosts:
            return list(self.trusted_hosts)
        return None if self.is_production else list(DEVELOPMENT_HOSTS)

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def is_testing(self) -> bool:
        return self.environment is Environment.TESTING

    @property
    def resolved_public_url(self) -> str:
        """The site's public address, without a trailing slash (development: this machine)."""
        return self.public_url or f"http://127.0.0.1:{self.port}"

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under the instance folder."""
        if self.database_url:
            return self.database_url
        path = (self.instance_dir / "cryptolens.sqlite").resolve()
        return f"sqlite:///{path}"

    @property
    def database(self) -> URL:
        return make_url(self.resolved_database_url)

    @property
    def higher_timeframes(self) -> tuple[str, ...]:
        """Configured timeframes built by aggregating the base timeframe."""
        base_ms = TIMEFRAME_MS[self.base_timeframe]
        return tuple(tf for tf in self.timeframes if TIMEFRAME_MS[tf] > base_ms)

    def engine_options(self) -> dict[str, Any]:
        """SQLAlchemy engine options for the configured dialect."""
        if self.database.get_backend_name() == "sqlite":
            return {
                "pool_pre_ping": True,
                "connect_args": {"timeout": self.sqlite_timeout, "check_same_thread": False},
            }
        return {
            "pool_pre_ping": True,
            "pool_size": self.db_pool_size,
            "max_overflow": self.db_max_overflow,
            "pool_recycle": self.db_pool_recycle,
            "connect_args": {"connect_timeout": self.db_connect_timeout},
        }


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    message = str(first["msg"]).removeprefix("Value error, ")
    aliases = {info.alias for info in Settings.model_fields.values()}
    if field in Settings.model_fields:
        name: str | None = Settings.model_fields[field].alias
    else:
        name = field if field in aliases else None
    if name and not message.startswith(f"{name}:"):
        return f"invalid setting {name}: {message}"
    return f"invalid setting {message}"


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment and ``.env``; raise ConfigError naming a bad one."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
