from __future__ import annotations

from cryptolens.domain.throttle import Limit, describe_wait, horizon_ms, retry_after

FIVE_PER_15_MIN = (Limit(5, 900),)
TIERS = (Limit(5, 900), Limit(10, 3600))


def test_attempts_within_the_limit_need_no_wait() -> None:
    assert retry_after([1_000] * 5, now_ms=1_000, limits=FIVE_PER_15_MIN) is None


def test_one_attempt_too_many_waits_until_the_oldest_counted_one_leaves_the_window() -> None:
    times = [0, 1_000, 2_000, 3_000, 4_000, 10_000]
    assert retry_after(times, now_ms=10_000, limits=FIVE_PER_15_MIN) == 891


def test_attempts_older_than_the_window_do_not_count() -> None:
    times = [0, 1, 2, 3, 4, 900_001]
    assert retry_after(times, now_ms=900_001, limits=FIVE_PER_15_MIN) is None


def test_the_longest_wait_of_all_tiers_applies() -> None:
    # Ten attempts in the last hour, none in the last 15 minutes but the current one.
    times = [i * 60_000 for i in range(10)] + [3_000_000]
    assert retry_after(times, now_ms=3_000_000, limits=TIERS) == 660


def test_the_horizon_is_the_longest_window() -> None:
    assert horizon_ms(TIERS) == 3_600_000


def test_waits_are_described_in_the_unit_a_person_would_use() -> None:
    assert describe_wait(1) == "1 second"
    assert describe_wait(45) == "45 seconds"
    assert describe_wait(891) == "15 minutes"
    assert describe_wait(86_400) == "24 hours"
