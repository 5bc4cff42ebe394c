"""Places for waiting claims (LIMITS.md, "Waiting claims"): at most `waiting_claims` claims of
a tenant wait at once, across every process, and at most WAITING_CLAIMS_PER_PROCESS in this
process, whatever their tenants.

A waiting claim holds a request thread (a Lambda instance on AWS) for up to 20 s doing
nothing but polling, so it is the one request a tenant can multiply to take a server from
everyone else. The tenant's places are one item, `WaitingClaims`: claim id -> the time its
place is free at the latest (its wait's end plus GRACE_MS). A claim gives its place back when
its wait ends, however it ends; a place whose process was killed is dropped by the next taker
once that time has passed. A place is taken by one write conditional on the number of places
held, which the store checks and applies at once: two takers never both get the last place,
and ten takers starting together do not retry on each other."""

import logging
import math
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from pynamodb.expressions.condition import size

from limits.models import WAITING_KEY, WaitingClaims
from limits.selectors import tenant_limits
from triggerapi import writes
from triggerapi.context import budget, limiter_calls
from triggerapi.exceptions import NOT_APPLIED, RateLimited, ServiceUnavailable, write_unavailable
from triggerapi.store import ConditionFailed, StoreUnavailable, now_ms

logger = logging.getLogger(__name__)

# A place outlives its wait by this much, for the wait's last poll and for the release.
GRACE_MS = 5_000
# How long giving a place back may try, from when the wait ends at the latest.
RELEASE_SECONDS = 1.0
# A taker tries this often (each failed try drops expired places or creates the item) before
# giving up with a 503.
TAKE_ATTEMPTS = 4
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


def waiting_claim_take(*, tenant_id: str, claim_id: str, wait_ends_ms: int) -> None:
    """Takes a place until `wait_ends_ms` (plus the grace): one write adding this claim,
    conditional on the tenant holding fewer than its cap, so takers never wait on each other.
    When the condition fails, the item it sends back says why: places expired (dropped, then
    try again) or all taken (RateLimited, with the time until the first of the waits ends)."""
    with limiter_calls():
        cap = tenant_limits(tenant_id=tenant_id).waiting_claims
        for _ in range(TAKE_ATTEMPTS):
            try:
                _add(tenant_id, claim_id, wait_ends_ms + GRACE_MS, cap)
                return
            except ConditionFailed as exc:
                found = exc.item
            if found is None:
                if _create(tenant_id, claim_id, wait_ends_ms + GRACE_MS):
                    return
                continue
            holders = {holder: int(until["N"]) for holder, until in found.get("holders", {}).get("M", {}).items()}
            if claim_id in holders:
                return  # an earlier attempt of this write was applied, its answer lost
            now = now_ms()
            live = [until for until in holders.values() if until > now]
            if len(live) >= cap:
                raise RateLimited(
                    limit="waiting_claims",
                    retry_after=(min(live) - GRACE_MS - now) / 1000,
                    message=f"This tenant already has {cap} claims waiting, its limit; claim without "
                    "wait_seconds, or retry after the given delay.",
                )
            _drop(tenant_id, [holder for holder, until in holders.items() if until <= now])
    raise ServiceUnavailable(LOST_RACES, details={"write": NOT_APPLIED}, retry_after=1)


def waiting_claim_release(*, tenant_id: str, claim_id: str) -> None:
    """Gives the place back: removes this claim's entry, if it is still there (a taker may
    have dropped it as expired). A failure is only logged: the place expires on its own."""
    with limiter_calls():
        try:
            writes.update(
                WaitingClaims,
                WaitingClaims.key_for(tenant_id),
                WAITING_KEY,
                actions=[WaitingClaims.holders[claim_id].remove()],
                condition=WaitingClaims.holders[claim_id].exists(),
                token=None,
                return_item=False,
            )
        except ConditionFailed:
            pass
        except StoreUnavailable as exc:
            logger.warning("A waiting claim's place was not given back (it expires with its wait): %s", exc)


def _add(tenant_id: str, claim_id: str, until: int, cap: int) -> None:
    writes.update(
        WaitingClaims,
        WaitingClaims.key_for(tenant_id),
        WAITING_KEY,
        actions=[WaitingClaims.holders[claim_id].set(until)],
        condition=WaitingClaims.holders.exists() & (size(WaitingClaims.holders) < cap),
        token=None,
        return_item=False,
    )


def _create(tenant_id: str, claim_id: str, until: int) -> bool:
    """The tenant's first place ever; False if another taker created the item first."""
    try:
        writes.update(
            WaitingClaims,
            WaitingClaims.key_for(tenant_id),
            WAITING_KEY,
            actions=[WaitingClaims.holders.set({claim_id: until})],
            condition=WaitingClaims.pk.does_not_exist(),
            token=None,
            return_item=False,
        )
    except ConditionFailed:
        return False
    return True


def _drop(tenant_id: str, expired: list[str]) -> None:
    """Removes places whose time is up (their holder was killed). Claim ids are never reused,
    so removing one twice, or one already given back, changes nothing."""
    writes.update(
        WaitingClaims,
        WaitingClaims.key_for(tenant_id),
        WAITING_KEY,
        actions=[WaitingClaims.holders[holder].remove() for holder in expired],
        condition=None,
        token=None,
        return_item=False,
    )
