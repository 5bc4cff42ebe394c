"""What follows an attempt: done, retried when, or given up (HOOKS.md, "Outcome").

Pure functions of the attempt's number, its result, the time and a random source, so the
tests move the clock instead of waiting for it. Times are epoch milliseconds, like every
time the store keeps (`triggerapi.store.now_ms`).
"""

import random
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

SECOND_MS = 1000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

# The wait after attempt n is DELAYS_MS[n - 1]: 8 attempts over about 27 h.
DELAYS_MS = (5 * SECOND_MS, 5 * MINUTE_MS, 30 * MINUTE_MS, 2 * HOUR_MS, 5 * HOUR_MS, 10 * HOUR_MS, 10 * HOUR_MS)
MAX_ATTEMPTS = len(DELAYS_MS) + 1
# ±20 %, so receivers that failed together are not all retried in the same second.
JITTER = 0.2
# A receiver asking for more time (429/503 with Retry-After) gets it, up to a day.
RETRY_AFTER_STATUSES = frozenset({429, 503})
MAX_WAIT_MS = DAY_MS
# A hook whose every attempt has failed for this long is disabled (`failing`).
FAILING_AFTER_MS = 5 * DAY_MS

SUCCEEDED = "succeeded"
RETRY = "retry"
FAILED = "failed"
GONE = "gone"

DIGITS = re.compile(r"^\s*(\d+)\s*$")


@dataclass(frozen=True)
class Decision:
    """`succeeded`: done. `retry`: attempt again at `next_attempt_at`. `failed`: the last
    attempt failed, the delivery ends failed. `gone`: the target answered 410, the hook is
    disabled (`gone`) and the delivery ends failed."""

    outcome: str
    next_attempt_at: int | None = None


def decide(
    *, attempt: int, status_code: int | None, retry_after: str | None, now: int, rng: random.Random | None = None
) -> Decision:
    """Classifies attempt number `attempt` (1-based) that ended at `now`. `status_code` is
    None when no HTTP answer came (timeout, connection error, refused address)."""
    if attempt < 1:
        raise ValueError("Attempts are numbered from 1.")
    if status_code is not None and 200 <= status_code < 300:
        return Decision(SUCCEEDED)
    if status_code == 410:
        return Decision(GONE)
    if attempt >= MAX_ATTEMPTS:
        return Decision(FAILED)
    wait = round(DELAYS_MS[attempt - 1] * (rng or random).uniform(1 - JITTER, 1 + JITTER))
    if status_code in RETRY_AFTER_STATUSES and retry_after is not None:
        wait = max(wait, retry_after_ms(retry_after, now=now) or 0)
    return Decision(RETRY, now + min(wait, MAX_WAIT_MS))


def retry_after_ms(value: str, *, now: int) -> int | None:
    """A Retry-After header as a wait in milliseconds: delay-seconds or an HTTP date
    (RFC 9110 10.2.3). None when it is neither; a date in the past waits nothing."""
    seconds = DIGITS.match(value)
    if seconds:
        # 12 digits are past MAX_WAIT_MS already, and int() stays off a huge string.
        return int(seconds.group(1)[:12]) * SECOND_MS
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0, round(moment.timestamp() * SECOND_MS) - now)


def failing_since_after(*, failing_since: int | None, succeeded: bool, attempted_at: int) -> int | None:
    """The hook's failure streak after an attempt: when its first failed attempt since the
    last success was made, or None. A success (or re-enabling the hook) clears it."""
    if succeeded:
        return None
    return attempted_at if failing_since is None else failing_since


def hook_is_failing(*, failing_since: int | None, now: int) -> bool:
    """True when every attempt to the hook for FAILING_AFTER_MS has failed: it is to be
    disabled (`failing`). Checked after a failed attempt, so the hook had attempts."""
    return failing_since is not None and now - failing_since >= FAILING_AFTER_MS
