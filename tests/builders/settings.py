"""Settings for tests: a fixed secret, no .env file, the cheapest password hashing."""

from __future__ import annotations

from cryptolens.config import Settings

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def make_settings(**overrides: object) -> Settings:
    """Test settings that ignore any .env file; keyword overrides use field names."""
    values: dict[str, object] = {
        "environment": "testing",
        "secret_key": TEST_SECRET,
        "redis_url": None,
        "exchange_api_url": None,
        "log_level": "WARNING",
        # argon2 at its cheapest: the production cost is measured in the README, not here.
        "password_hash_time_cost": 1,
        "password_hash_memory_kib": 1024,
        # Notification tests send to local servers on 127.0.0.1; the tests of the SSRF guard
        # turn this off.
        "notify_allow_private_targets": True,
        # No stream gateway runs for most tests: pages do not open the live stream (the tests
        # of the live pages turn it on, against a stand-in gateway).
        "stream_pages": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]
