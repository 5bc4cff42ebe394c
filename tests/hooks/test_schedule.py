"""What follows an attempt, decided from times passed in: nothing here waits."""

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from hooks.schedule import (
    DAY_MS,
    DELAYS_MS,
    FAILED,
    GONE,
    HOUR_MS,
    MINUTE_MS,
    RETRY,
    SECOND_MS,
    SUCCEEDED,
    Decision,
    decide,
    failing_since_after,
    hook_is_failing,
    retry_after_ms,
)

NOW = 1_800_000_000_000  # 2027-01-15T08:00:00Z
TABLE = [5 * SECOND_MS, 5 * MINUTE_MS, 30 * MINUTE_MS, 2 * HOUR_MS, 5 * HOUR_MS, 10 * HOUR_MS, 10 * HOUR_MS]


class Extreme:
    """A random source that always picks the low (or high) end of the range asked for."""

    def __init__(self, high: bool):
        self.high = high

    def uniform(self, low: float, high: float) -> float:
        return high if self.high else low


LOWEST, HIGHEST = Extreme(high=False), Extreme(high=True)


def after(attempt: int, status_code: int | None = 500, retry_after: str | None = None, rng=LOWEST) -> Decision:
    return decide(attempt=attempt, status_code=status_code, retry_after=retry_after, now=NOW, rng=rng)


def http_date(ms: int) -> str:
    return format_datetime(datetime.fromtimestamp(ms / 1000, UTC), usegmt=True)


def test_the_delays_are_the_contracts_8_attempts_over_about_27_hours():
    assert list(DELAYS_MS) == TABLE
    assert sum(TABLE) == 27 * HOUR_MS + 35 * MINUTE_MS + 5 * SECOND_MS


@pytest.mark.parametrize("attempt, delay", list(enumerate(TABLE, start=1)))
def test_each_failed_attempt_waits_its_delay_within_20_percent(attempt, delay):
    assert after(attempt, rng=LOWEST) == Decision(RETRY, NOW + delay * 8 // 10)
    assert after(attempt, rng=HIGHEST) == Decision(RETRY, NOW + delay * 12 // 10)
    waits = {after(attempt, rng=random.Random(seed)).next_attempt_at - NOW for seed in range(200)}
    assert min(waits) >= delay * 8 // 10 and max(waits) <= delay * 12 // 10
    assert len(waits) > 100, "the jitter spreads the retries"


@pytest.mark.parametrize("status_code", [None, 300, 302, 400, 401, 404, 408, 429, 500, 502, 503, 504])
def test_anything_but_2xx_and_410_is_retried_on_the_schedule(status_code):
    assert after(1, status_code) == Decision(RETRY, NOW + 4 * SECOND_MS)


@pytest.mark.parametrize("status_code", [200, 201, 202, 204, 299])
def test_a_2xx_succeeds(status_code):
    assert after(3, status_code) == Decision(SUCCEEDED, None)


@pytest.mark.parametrize("attempt", [1, 5, 8])
def test_a_410_is_gone_at_any_attempt(attempt):
    assert after(attempt, 410) == Decision(GONE, None)


@pytest.mark.parametrize("status_code, retry_after", [(500, None), (None, None), (429, "60"), (503, "3600")])
def test_the_8th_failed_attempt_ends_the_delivery_failed(status_code, retry_after):
    assert after(8, status_code, retry_after) == Decision(FAILED, None)


def test_a_2xx_on_the_8th_attempt_still_succeeds():
    assert after(8, 200) == Decision(SUCCEEDED, None)


@pytest.mark.parametrize("status_code", [429, 503])
def test_a_retry_after_longer_than_the_schedule_is_waited_for(status_code):
    assert after(1, status_code, "120") == Decision(RETRY, NOW + 120 * SECOND_MS)
    assert after(4, status_code, http_date(NOW + 3 * HOUR_MS), rng=HIGHEST) == Decision(RETRY, NOW + 3 * HOUR_MS)


@pytest.mark.parametrize("status_code", [429, 503])
def test_a_retry_after_shorter_than_the_schedule_waits_for_the_schedule(status_code):
    assert after(3, status_code, "60") == Decision(RETRY, NOW + 24 * MINUTE_MS)
    assert after(3, status_code, http_date(NOW + 10 * MINUTE_MS)) == Decision(RETRY, NOW + 24 * MINUTE_MS)
    assert after(3, status_code, http_date(NOW - HOUR_MS)) == Decision(RETRY, NOW + 24 * MINUTE_MS)


@pytest.mark.parametrize("retry_after", [str(2 * 86400), "12345678901", "9" * 5000, http_date(NOW + 3 * DAY_MS)])
def test_a_retry_after_waits_at_most_24_hours(retry_after):
    assert after(2, 429, retry_after) == Decision(RETRY, NOW + DAY_MS)


def test_a_retry_after_on_another_status_is_ignored():
    assert after(1, 500, "3600") == Decision(RETRY, NOW + 4 * SECOND_MS)


NOT_A_WAIT = ["soon", "-5", "1.5", "", "Fri, 99 Foo 2027 00:00:00 GMT", "Fri, 15 Jan 2027 09:00:00"]


@pytest.mark.parametrize("value", NOT_A_WAIT)
def test_a_retry_after_that_is_neither_seconds_nor_a_date_is_ignored(value):
    assert retry_after_ms(value, now=NOW) is None
    assert after(1, 429, value) == Decision(RETRY, NOW + 4 * SECOND_MS)


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_ms(" 30 ", now=NOW) == 30 * SECOND_MS
    assert retry_after_ms("0", now=NOW) == 0
    assert retry_after_ms(http_date(NOW + 90 * SECOND_MS), now=NOW) == 90 * SECOND_MS
    assert retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", now=NOW) == 0


def test_attempts_are_numbered_from_1():
    with pytest.raises(ValueError):
        after(0)


def test_the_failure_streak_starts_at_the_first_failure_and_ends_at_a_success():
    streak = failing_since_after(failing_since=None, succeeded=False, attempted_at=NOW)
    assert streak == NOW
    assert failing_since_after(failing_since=streak, succeeded=False, attempted_at=NOW + DAY_MS) == NOW
    assert failing_since_after(failing_since=streak, succeeded=True, attempted_at=NOW + DAY_MS) is None


def test_a_hook_failing_for_5_days_is_to_be_disabled():
    assert not hook_is_failing(failing_since=None, now=NOW)
    assert not hook_is_failing(failing_since=NOW, now=NOW + 5 * DAY_MS - 1)
    assert hook_is_failing(failing_since=NOW, now=NOW + 5 * DAY_MS)


def test_a_success_within_the_5_days_starts_the_count_again():
    streak = None
    for day, succeeded in [(0, False), (2, False), (3, True), (4, False), (6, False), (8, False)]:
        streak = failing_since_after(failing_since=streak, succeeded=succeeded, attempted_at=NOW + day * DAY_MS)
    assert not hook_is_failing(failing_since=streak, now=NOW + 8 * DAY_MS)
    assert hook_is_failing(failing_since=streak, now=NOW + 9 * DAY_MS)
