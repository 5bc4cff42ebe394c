"""Places for waiting claims (LIMITS.md, "Waiting claims"): at most `waiting_claims` claims of
a tenant wait at once, across every process, and at most WAITING_CLAIMS_PER_PROCESS in this
process, whatever their tenants.

A waiting claim holds a request thread (a Lambda instance on AWS) for up to 20 s doing
nothing but polling, so it is the one request a tenant can multiply to take a server from
everyone else. The tenant's places are one item, `WaitingClaims`: claim id -> the time its
place is free at the latest (its wait's end plus GRACE_MS). A claim gives its place back when
its wait ends, however it ends; a place whose process was killed is dropped by the next taker
once that time has passed. Every change of the item is conditional on its `version`, or
removes only the claim's own entry, so two takers never both get the last place."""

import logging
import math
import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from pynamodb.exceptions import DoesNotExist

from limits.models import WAITING_KEY, WaitingClaims
from limits.selectors import tenant_limits
from triggerapi import store, writes
from triggerapi.context import budget, counted_apart
from triggerapi.exceptions import NOT_APPLIED, RateLimited, ServiceUnavailable, write_unavailable
from triggerapi.store import ConditionFailed, StoreUnavailable, now_ms

logger = logging.getLogger(__name__)

# A place outlives its wait by this much, for the wait's last poll and for the release.
GRACE_MS = 5_000
# How long giving a place back may try, from when the wait ends at the latest.
RELEASE_SECONDS = 1.0
# Takers racing for the item each retry this often, a little later each time (full jitter,
# doubling from 10 ms), before giving up with a 503: ten claims starting together all pass.
TAKE_ATTEMPTS = 8
PROCESS_FULL = (
    "This server is holding as many waiting claims as it can; nothing was claimed. Retry after the given delay."
)
LOST_RACES = "Too many claims of this tenant started waiting at once; nothing was claimed. Retry after the given delay."

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
    do not wait always find a thread (README, "Long polling")."""
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
    """Takes a place until `wait_ends_ms` (plus the grace), dropping the places that have
    expired: a read, then a write conditional on the version read, retried on a lost race.
    RateLimited, with the time until the first of the tenant's waits ends, when none is free."""
    with counted_apart():
        cap = tenant_limits(tenant_id=tenant_id).waiting_claims
        for attempt in range(TAKE_ATTEMPTS):
            if attempt:
                time.sleep(random.uniform(0, 0.01 * 2**attempt))
            holders, version = _read(tenant_id)
            now = now_ms()
            live = {holder: until for holder, until in holders.items() if until > now}
            if len(live) >= cap:
                raise RateLimited(
                    limit="waiting_claims",
                    retry_after=_seconds_until(min(live.values()) - GRACE_MS),
                    message=f"This tenant already has {cap} claims waiting, its limit; claim without "
                    "wait_seconds, or retry after the given delay.",
                )
            if _write(tenant_id, {**live, claim_id: wait_ends_ms + GRACE_MS}, version):
                return
    raise ServiceUnavailable(LOST_RACES, details={"write": NOT_APPLIED}, retry_after=1)


def waiting_claim_release(*, tenant_id: str, claim_id: str) -> None:
    """Gives the place back: removes this claim's entry, if it is still there (a taker may
    have dropped it as expired). A failure is only logged: the place expires on its own."""
    with counted_apart():
        try:
            writes.update(
                WaitingClaims,
                WaitingClaims.key_for(tenant_id),
                WAITING_KEY,
                actions=[WaitingClaims.holders[claim_id].remove(), WaitingClaims.version.add(1)],
                condition=WaitingClaims.holders[claim_id].exists(),
                token=None,
                return_item=False,
            )
        except ConditionFailed:
            pass
        except StoreUnavailable as exc:
            logger.warning("A waiting claim's place was not given back (it expires with its wait): %s", exc)


def _read(tenant_id: str) -> tuple[dict[str, int], int | None]:
    """The tenant's places (claim id -> until when, epoch ms) and the item's version (None
    when it has never been written)."""
    try:
        item = store.call(
            lambda: WaitingClaims.get(WaitingClaims.key_for(tenant_id), WAITING_KEY, consistent_read=True),
            what="GetItem WaitingClaims",
        )
    except DoesNotExist:
        return {}, None
    return {holder: int(until) for holder, until in item.holders.as_dict().items()}, int(item.version)


def _write(tenant_id: str, holders: dict[str, int], version: int | None) -> bool:
    """Writes the places if the item is still at `version`; False if another write came first."""
    condition = WaitingClaims.pk.does_not_exist() if version is None else WaitingClaims.version == version
    try:
        writes.update(
            WaitingClaims,
            WaitingClaims.key_for(tenant_id),
            WAITING_KEY,
            actions=[WaitingClaims.holders.set(holders), WaitingClaims.version.set((version or 0) + 1)],
            condition=condition,
            token=writes.new_token(),
            return_item=False,
        )
    except ConditionFailed:
        return False
    return True
