"""One delivery attempt: check the target again, sign, POST, and decide what comes next.

This is the one call the fan-out handler, the retry loop and `POST /v1/hooks/{id}/test`
make. It touches no store: the caller records the result (`AttemptResult`) on the delivery
and acts on its outcome (schedule, disable the hook). It never raises for anything the
target, its DNS or the network does; those are results.
"""

import random
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from rest_framework.renderers import JSONRenderer

from hooks import schedule
from hooks.addresses import TargetRefused, target_check
from hooks.signing import signature_headers
from hooks.transport import Response, post

USER_AGENT = "triggerapi-webhooks/1"


@dataclass(frozen=True)
class AttemptResult:
    """`status_code` is None exactly when `error` says why no HTTP answer came (timeout,
    connection refused or closed, TLS, address refused). `body` is at most 64 KiB of the
    answer, for the record. `outcome` and `next_attempt_at` are schedule.Decision's
    (`succeeded`, `retry`, `failed`, `gone`); times are epoch milliseconds."""

    status_code: int | None
    error: str | None
    duration_ms: int
    body: bytes
    attempted_at: int
    outcome: str
    next_attempt_at: int | None

    @property
    def succeeded(self) -> bool:
        return self.outcome == schedule.SUCCEEDED


def body_encode(event: dict) -> str:
    """The event as `GET /v1/events/{id}` renders it: DRF's compact JSON, by DRF's renderer."""
    return JSONRenderer().render(event).decode()


def attempt_deliver(
    *,
    target_url: str,
    event_id: str,
    body: str,
    secrets: Sequence[str],
    attempt: int,
    rng: random.Random | None = None,
    tls: ssl.SSLContext | None = None,
) -> AttemptResult:
    """Attempt number `attempt` (1-based) of delivering `body` (the event, body_encode'd)
    to `target_url`, signed with `secrets` (current first; during a rotation the previous
    one too). `rng` is the schedule's jitter; `tls` replaces certifi's CAs (tests)."""
    started = time.monotonic()
    attempted_at = _now_ms()
    signed = signature_headers(event_id=event_id, timestamp=attempted_at // 1000, body=body, secrets=secrets)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **signed}
    deadline = started + settings.HOOKS_TIMEOUT_SECONDS
    response = _send(target_url, body=body.encode(), headers=headers, deadline=deadline, tls=tls)
    duration_ms = round((time.monotonic() - started) * 1000)
    decision = schedule.decide(
        attempt=attempt,
        status_code=response.status_code,
        retry_after=response.retry_after,
        now=attempted_at + duration_ms,
        rng=rng,
    )
    return AttemptResult(
        status_code=response.status_code,
        error=response.error,
        duration_ms=duration_ms,
        body=response.body,
        attempted_at=attempted_at,
        outcome=decision.outcome,
        next_attempt_at=decision.next_attempt_at,
    )


def _send(target_url: str, *, body: bytes, headers: dict[str, str], deadline: float, tls) -> Response:
    """The target is checked again first (its DNS may have changed since the hook was
    saved); the lookup counts against the attempt's time, the rest goes to the exchange."""
    try:
        target = target_check(url=target_url)
    except TargetRefused as refused:
        return Response(status_code=None, retry_after=None, body=b"", error=f"address refused: {refused}")
    return post(target, body=body, headers=headers, timeout=deadline - time.monotonic(), tls=tls)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
