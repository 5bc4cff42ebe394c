"""Places for waiting claims (LIMITS.md, "Waiting claims"): at most `waiting_claims` claims of
a tenant wait at once, across every process, and at most WAITING_CLAIMS_PER_PROCESS in this
process, whatever their tenants.

A waiting claim holds a request thread (a Lambda instance on AWS) for up to 20 s doing
nothing but polling, so it is the one request a tenant can multiply to take a server from
everyone else. The tenant's places are one item, `WaitingClaims` (limits.places): claim id ->
the time its place is free at the latest (its wait's end plus GRACE_MS)."""

import logging
import math
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from limits.models import WAITING_KEY, WaitingClaims
from limits.places import Full, LostRaces, Places
from limits.selectors import tenant_limits
from triggerapi.context import budget, limiter_calls
from triggerapi.exceptions import NOT_APPLIED, RateLimited, ServiceUnavailable, write_unavailable
from triggerapi.store import StoreUnavailable, now_ms

logger = logging.getLogger(__name__)

# A place outlives its wait by this much, for the wait's last poll and for the release.
GRACE_MS = 5_000
# How long giving a place back may try, from when the wait ends at the latest.
RELEASE_SECONDS = 1.0
PROCESS_FULL = (
    "This server is holding as many waiting claims as it can; nothing was claimed. Retry after the given delay."
)
LOST_RACES = (
    "The places for this tenant's waiting claims kept changing; nothing was claimed. Retry after the given delay."
)

_lock = threading.Lock()
# The waits this process holds: claim id -> its wait's end (epoch ms).
_here: dict[str, int] = {}


def _seconds_until(when_ms: int) -> float:
    return (when_ms - now_ms()) / 1000


@contextmanager
def waiting_place(*, tenant_id: str, wait_ends_ms: int) -> Iterator[None]:
    """Holds a place for one waiting claim of the tenant while the block runs: 429 when all
    the tenant's places are taken, 503 when this process holds all the waits it may or the
    store cannot be asked."""
    claim_id = uuid.uuid4().hex
    with _place_here(claim_id, wait_ends_ms):
        try:
            waiting_claim_take(tenant_id=tenant_id, claim_id=claim_id, wait_ends_ms=wait_ends_ms)
        except StoreUnavailable as exc:
            # Nothing was claimed; a place the store may have taken expires with its wait.
            raise write_unavailable(maybe_applied=False, retry_after=exc.retry_after) from exc
        try:
            yield
        finally:
            # A budget of its own (the request's may be spent by a long wait), ending soon
            # after the wait's end: a 20 s wait still answers within API Gateway's 29 s.
            with budget(min(RELEASE_SECONDS, _seconds_until(wait_ends_ms) + RELEASE_SECONDS)):
                waiting_claim_release(tenant_id=tenant_id, claim_id=claim_id)


@contextmanager
def _place_here(claim_id: str, wait_ends_ms: int) -> Iterator[None]:
    """One of this process's places: its request threads outnumber them, so requests that
    do not wait always find a thread (README, "Waiting claims")."""
    bound = settings.WAITING_CLAIMS_PER_PROCESS
    with _lock:
        if bound and len(_here) >= bound:
            retry_after = max(1, math.ceil(_seconds_until(min(_here.values()))))
            raise ServiceUnavailable(PROCESS_FULL, details={"write": NOT_APPLIED}, retry_after=retry_after)
        _here[claim_id] = wait_ends_ms
    try:
        yield
    finally:
        with _lock:
            del _here[claim_id]


def _places(tenant_id: str) -> Places:
    return Places(WaitingClaims, WaitingClaims.key_for(tenant_id), WAITING_KEY)


def waiting_claim_take(*, tenant_id: str, claim_id: str, wait_ends_ms: int) -> None:
    """Takes a place until `wait_ends_ms` (plus the grace), so takers never wait on each
    other (limits.places): RateLimited, with the time until the first of the waits ends, when
    all are taken."""
    with limiter_calls():
        cap = tenant_limits(tenant_id=tenant_id).waiting_claims
        try:
            _places(tenant_id).take(holder=claim_id, until=wait_ends_ms + GRACE_MS, cap=cap)
        except Full as full:
            raise RateLimited(
                limit="waiting_claims",
                retry_after=(full.first_free_ms - GRACE_MS - now_ms()) / 1000,
                message=f"This tenant already has {cap} claims waiting, its limit; claim without "
                "wait_seconds, or retry after the given delay.",
            ) from None
        except LostRaces:
            raise ServiceUnavailable(LOST_RACES, details={"write": NOT_APPLIED}, retry_after=1) from None


def waiting_claim_release(*, tenant_id: str, claim_id: str) -> None:
    """Gives the place back. A failure is only logged: the place expires on its own."""
    with limiter_calls():
        try:
            _places(tenant_id).release(holder=claim_id)
        except StoreUnavailable as exc:
            logger.warning("A waiting claim's place was not given back (it expires with its wait): %s", exc)
