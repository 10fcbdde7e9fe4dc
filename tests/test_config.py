from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from cryptolens.config import DEFAULT_SECRET_KEY, ConfigError, Environment, load_settings
from tests.builders.settings import make_settings

CLEAN = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "CRYPTOLENS_ENV",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "SYMBOLS",
    "TIMEFRAMES",
    "BASE_TIMEFRAME",
    "EXCHANGE_API_URL",
    "TRUSTED_PROXIES",
    "PUBLIC_URL",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in CLEAN:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_describe_a_development_sqlite_setup() -> None:
    settings = load_settings()
    assert settings.environment is Environment.DEVELOPMENT
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.resolved_database_url.endswith("instance/cryptolens.sqlite")
    assert settings.redis_url is None
    assert settings.exchange_id == "binance"
    assert settings.timeframes == ("1m", "5m", "15m", "30m", "1h", "2h", "4h", "1d")
    assert settings.higher_timeframes == ("5m", "15m", "30m", "1h", "2h", "4h", "1d")


def test_lists_are_read_as_comma_separated_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYMBOLS", "btc/usdt, ETH/USDT,,BTC/USDT")
    monkeypatch.setenv("TIMEFRAMES", "4h,1m,1h")
    settings = load_settings()
    assert settings.symbols == ("BTC/USDT", "ETH/USDT")
    assert settings.timeframes == ("1m", "1h", "4h")


def test_a_dotenv_file_is_honoured(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LOG_FORMAT=json\nEXCHANGE_ID=kraken\n")
    settings = load_settings()
    assert settings.log_format.value == "json"
    assert settings.exchange_id == "kraken"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOG_FORMAT", "xml"),
        ("DATABASE_URL", "not a url"),
        ("DATABASE_URL", "oracle://scott@db/orcl"),
        ("TIMEFRAMES", "1m,7m"),
        ("SYMBOLS", "BTCUSDT"),
        ("TRUSTED_PROXIES", "-1"),
        ("REDIS_URL", "localhost:6379"),
        ("EXCHANGE_API_URL", "127.0.0.1:9000"),
        ("LOG_LEVEL", "LOUD"),
        ("STREAM_PUBLIC_URL", "stream.example.com"),
        ("STREAM_PORT", "70000"),
        ("STREAM_HEARTBEAT_SECONDS", "0"),
    ],
)
def test_bad_setting_is_refused_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"invalid setting {name}:")
    assert "\n" not in message


def test_production_refuses_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTOLENS_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("SECRET_KEY", DEFAULT_SECRET_KEY)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings()


def test_production_refuses_a_short_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTOLENS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "too-short")
    with pytest.raises(ConfigError, match="at least 32"):
        load_settings()


def test_production_accepts_a_strong_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTOLENS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "mX3q-9vTzL0pR_c7YkWb2NfE8sHuJdA4gQe6")
    monkeypatch.setenv("PUBLIC_URL", "https://lens.example.com/")
    settings = load_settings()
    assert settings.is_production
    assert settings.resolved_public_url == "https://lens.example.com"


def test_production_refuses_to_start_without_a_public_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRYPTOLENS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "mX3q-9vTzL0pR_c7YkWb2NfE8sHuJdA4gQe6")
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        load_settings()


@pytest.mark.parametrize("value", ["lens.example.com", "ftp://lens.example.com", "https://x/?a=1"])
def test_a_public_url_must_be_a_plain_http_address(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("PUBLIC_URL", value)
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        load_settings()


def test_development_links_point_at_this_machine_by_default() -> None:
    assert load_settings().resolved_public_url == "http://127.0.0.1:5000"


@pytest.mark.parametrize(
    "key", [" " * 32, "\t" * 40, "x" * 48, "ab" * 24, "0123456789" * 4, "aaaabbbb" * 5], ids=repr
)
def test_production_refuses_a_blank_or_low_entropy_secret(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv("CRYPTOLENS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigError, match="SECRET_KEY") as refused:
        load_settings()
    assert "\n" not in str(refused.value)


def test_production_accepts_a_generated_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys made as the README says (token_urlsafe(32)) or as 32 hex digits always pass."""
    monkeypatch.setenv("CRYPTOLENS_ENV", "production")
    monkeypatch.setenv("PUBLIC_URL", "https://lens.example.com")
    for _ in range(200):
        for key in (secrets.token_urlsafe(32), secrets.token_hex(16)):
            monkeypatch.setenv("SECRET_KEY", key)
            assert load_settings().is_production


def test_timeframes_must_be_multiples_of_the_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASE_TIMEFRAME", "1h")
    monkeypatch.setenv("TIMEFRAMES", "30m,4h")
    with pytest.raises(ConfigError, match="TIMEFRAMES: 30m"):
        load_settings()


def test_base_timeframe_is_always_among_the_timeframes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASE_TIMEFRAME", "1h")
    monkeypatch.setenv("TIMEFRAMES", "4h,1d")
    settings = load_settings()
    assert settings.timeframes == ("1h", "4h", "1d")
    assert settings.higher_timeframes == ("4h", "1d")


def test_sqlite_engine_options_set_a_timeout_and_no_pool_sizes() -> None:
    options = make_settings(database_url="sqlite:///x.db", sqlite_timeout=12).engine_options()
    assert options["pool_pre_ping"] is True
    assert options["connect_args"]["timeout"] == 12
    assert "pool_size" not in options


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://u@h/db", "mysql+pymysql://u@h/db", "mariadb+pymysql://u@h/db"]
)
def test_server_engine_options_pool_recycle_and_pre_ping(url: str) -> None:
    options = make_settings(database_url=url).engine_options()
    assert options["pool_pre_ping"] is True
    assert options["pool_size"] == 10
    assert options["max_overflow"] == 20
    assert options["pool_recycle"] == 300
    assert options["connect_args"]["connect_timeout"] == 5


def test_ntfy_default_server_is_ntfy_sh_and_may_be_self_hosted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NTFY_DEFAULT_URL", raising=False)
    assert load_settings().ntfy_default_url == "https://ntfy.sh"
    monkeypatch.setenv("NTFY_DEFAULT_URL", "http://ntfy.lan:8080/")
    assert load_settings().ntfy_default_url == "http://ntfy.lan:8080"


def test_private_notification_targets_are_refused_unless_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NOTIFY_ALLOW_PRIVATE_TARGETS", raising=False)
    assert load_settings().notify_allow_private_targets is False
    assert load_settings(environment="testing").notify_allow_private_targets is False
    monkeypatch.setenv("NOTIFY_ALLOW_PRIVATE_TARGETS", "true")
    assert load_settings().notify_allow_private_targets is True
    monkeypatch.setenv("NOTIFY_ALLOW_PRIVATE_TARGETS", "maybe")
    with pytest.raises(ConfigError, match="NOTIFY_ALLOW_PRIVATE_TARGETS"):
        load_settings()


@pytest.mark.parametrize(
    "value", ["ntfy.lan", "ftp://ntfy.lan", "https://u:p@ntfy.lan", "https://ntfy.lan/?a=1"]
)
def test_ntfy_default_url_must_be_a_plain_http_address(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("NTFY_DEFAULT_URL", value)
    with pytest.raises(ConfigError, match="NTFY_DEFAULT_URL"):
        load_settings()


LEMONSQUEEZY = {
    "lemonsqueezy_api_key": "ls-key",
    "lemonsqueezy_store_id": "1",
    "lemonsqueezy_webhook_secret": "ls-signing-secret-0123456789",
    "lemonsqueezy_variant_pro_monthly": "11",
    "lemonsqueezy_variant_pro_yearly": "12",
    "lemonsqueezy_variant_premium_monthly": "21",
    "lemonsqueezy_variant_premium_yearly": "22",
}


def test_payments_are_off_until_a_provider_is_fully_configured() -> None:
    assert not make_settings().payments_enabled
    partial = make_settings(**{**LEMONSQUEEZY, "lemonsqueezy_variant_premium_yearly": ""})
    assert not partial.lemonsqueezy_enabled
    assert make_settings(**LEMONSQUEEZY).lemonsqueezy_enabled
    crypto = make_settings(nowpayments_api_key="np", nowpayments_ipn_secret="np-ipn-secret")
    assert crypto.nowpayments_enabled
    assert not crypto.lemonsqueezy_enabled


def test_plans_disabled_turns_every_provider_off() -> None:
    settings = make_settings(
        **LEMONSQUEEZY, plans_enabled=False, nowpayments_api_key="k", nowpayments_ipn_secret="s"
    )
    assert not settings.payments_enabled


def test_payment_secrets_never_show_in_the_settings_repr_or_dump() -> None:
    settings = make_settings(**LEMONSQUEEZY, nowpayments_api_key="np-very-secret")
    shown = repr(settings) + settings.model_dump_json()
    assert "ls-key" not in shown
    assert "ls-signing-secret" not in shown
    assert "np-very-secret" not in shown


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PRICE_PRO_MONTHLY", "19.999"),
        ("PRICE_PRO_MONTHLY", "0"),
        ("PRICE_PREMIUM_YEARLY", "abc"),
        ("PLAN_CURRENCY", "dollars"),
        ("LEMONSQUEEZY_API_URL", "ftp://x"),
    ],
)
def test_bad_payment_settings_are_refused_naming_them(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_settings(_env_file=None)


@pytest.mark.parametrize("name", ["LEMONSQUEEZY_WEBHOOK_SECRET", "NOWPAYMENTS_IPN_SECRET"])
def test_production_refuses_a_short_webhook_secret(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("CRYPTOLENS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(32))
    monkeypatch.setenv("PUBLIC_URL", "https://lens.example.com")
    monkeypatch.setenv(name, "short")
    with pytest.raises(ConfigError, match=name):
        load_settings(_env_file=None)
    monkeypatch.setenv(name, secrets.token_hex(16))
    assert load_settings(_env_file=None).is_production


def test_payment_page_origins_are_a_list_of_origins(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().payment_page_origins == (
        "https://*.lemonsqueezy.com",
        "https://nowpayments.io",
    )
    monkeypatch.setenv("PAYMENT_PAGE_ORIGINS", "https://pay.example.com, http://127.0.0.1:8081")
    assert load_settings().payment_page_origins == (
        "https://pay.example.com",
        "http://127.0.0.1:8081",
    )


@pytest.mark.parametrize(
    "value",
    [
        "https://pay.example.com; script-src *",  # would add a directive to the policy
        "https://pay.example.com/checkout",  # a path is not an origin
        "pay.example.com",
        "javascript:alert(1)",
        "https://pay.example.com 'unsafe-inline'",
    ],
)
def test_a_payment_page_origin_that_is_not_one_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("PAYMENT_PAGE_ORIGINS", value)
    with pytest.raises(ConfigError, match="PAYMENT_PAGE_ORIGINS"):
        load_settings()


def test_the_stream_origin_is_kept_without_a_trailing_slash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STREAM_PUBLIC_URL", "https://stream.example.com/")
    assert load_settings().stream_public_url == "https://stream.example.com"


def test_every_group_validator_still_runs_in_the_assembled_settings() -> None:
    """A validator of a group (billing, stream, observability) is shadowed if ``Settings``
    defines a method of the same name: each group's must reach the assembled class."""
    from cryptolens.config import Settings
    from cryptolens.config.billing import BillingSettings
    from cryptolens.config.live import ObservabilitySettings, StreamSettings

    assembled = Settings.__pydantic_decorators__.field_validators
    for group in (BillingSettings, StreamSettings, ObservabilitySettings):
        for name, validator in group.__pydantic_decorators__.field_validators.items():
            assert name in assembled, f"{group.__name__}.{name} is shadowed"
            assert assembled[name].info.fields == validator.info.fields
