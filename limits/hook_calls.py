"""Places for webhook calls made inside a request (LIMITS.md's "Webhook calls made inside a
request"): a hook's test and a manual delivery retry make their attempt within the API
request, for up to HOOKS_TIMEOUT_SECONDS. At most HOOK_CALLS_AT_ONCE of a tenant's run at
once, across every process, so a tenant with a hundred hooks cannot hold a hundred request
threads (Lambda instances on AWS). The places are one item per tenant, `HookCalls`
(limits.places): a call holds its place until it ends, or, if its process is killed, until
its longest time plus GRACE_MS has passed."""

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from limits.models import HOOK_CALLS_KEY, HookCalls
from limits.places import Full, LostRaces, Places
from triggerapi.context import budget, limiter_calls
from triggerapi.exceptions import NOT_APPLIED, RateLimited, ServiceUnavailable, write_unavailable
from triggerapi.store import StoreUnavailable, now_ms

logger = logging.getLogger(__name__)

HOOK_CALLS_AT_ONCE = 2
LIMIT = "hook_test"
# A place outlives its call's timeout by this much: the writes before and after the attempt
# (a manual retry's claim and outcome), each at most about 3 s (STORE_READ_TIMEOUT_SECONDS).
GRACE_MS = 7_000
# How long giving a place back may try: the request's own budget may be spent by the call.
RELEASE_SECONDS = 1.0
LOST_RACES = "The places for this tenant's webhook calls kept changing; nothing was sent. Retry after the given delay."


def _places(tenant_id: str) -> Places:
    return Places(HookCalls, HookCalls.key_for(tenant_id), HOOK_CALLS_KEY)


def call_ms() -> int:
    """The longest a call holds its place: its attempt's timeout plus the grace."""
    return int(settings.HOOKS_TIMEOUT_SECONDS * 1000) + GRACE_MS


@contextmanager
def hook_call_place(*, tenant_id: str) -> Iterator[None]:
    """Holds one of the tenant's places for a webhook call while the block runs: 429
    (`hook_test`) when both are taken, 503 when the store cannot be asked; nothing else is
    done then."""
    call_id = uuid.uuid4().hex
    try:
        hook_call_take(tenant_id=tenant_id, call_id=call_id, until=now_ms() + call_ms())
    except StoreUnavailable as exc:
        # Nothing was sent; a place the store may have taken expires on its own.
        raise write_unavailable(maybe_applied=False, retry_after=exc.retry_after) from exc
    try:
        yield
    finally:
        with budget(RELEASE_SECONDS):
            hook_call_release(tenant_id=tenant_id, call_id=call_id)


def hook_call_take(*, tenant_id: str, call_id: str, until: int) -> None:
    """RateLimited, with the time until the first call's longest time is up, when all the
    tenant's places are held."""
    with limiter_calls():
        try:
            _places(tenant_id).take(holder=call_id, until=until, cap=HOOK_CALLS_AT_ONCE)
        except Full as full:
            raise RateLimited(
                limit=LIMIT,
                retry_after=(full.first_free_ms - GRACE_MS - now_ms()) / 1000,
                message=f"This tenant already has {HOOK_CALLS_AT_ONCE} webhook calls (tests or manual retries) "
                "running, its limit; retry after the given delay.",
            ) from None
        except LostRaces:
            raise ServiceUnavailable(LOST_RACES, details={"write": NOT_APPLIED}, retry_after=1) from None


def hook_call_release(*, tenant_id: str, call_id: str) -> None:
    """A failure is only logged: the place expires on its own."""
    with limiter_calls():
        try:
            _places(tenant_id).release(holder=call_id)
        except StoreUnavailable as exc:
            logger.warning("A webhook call's place was not given back (it expires on its own): %s", exc)
