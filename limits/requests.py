"""The request rate (LIMITS.md): every authenticated `/v1/` request takes one token of its
tenant's bucket, one bucket for the whole service (limits/buckets.py), whatever the key;
over budget it is 429 `rate_limited` with `details.limit` = `requests`. Every answer to an
authenticated request says where the tenant stands, in the IETF draft's `RateLimit-Policy`
and `RateLimit` headers.

The token is taken in the permission check, before the scope is (a key without the scope
still spends its tenant's budget), once per request: DRF's browsable API checks permissions
again for each form it draws. The middleware puts the headers on whatever the answer is."""

import contextvars
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from django.conf import settings
from rest_framework.permissions import BasePermission

from limits.buckets import BUCKETS, Answer
from limits.gcra import Shape
from limits.selectors import Limits, tenant_limits
from triggerapi.context import budget, limiter_calls
from triggerapi.exceptions import RateLimited
from triggerapi.store import StoreUnavailable

logger = logging.getLogger(__name__)

REQUESTS = "requests"


class _Taken:
    answer: Answer | None = None


_taken: contextvars.ContextVar[_Taken | None] = contextvars.ContextVar("request_token", default=None)


@contextmanager
def request_token_scope() -> Iterator[_Taken]:
    taken = _Taken()
    token = _taken.set(taken)
    try:
        yield taken
    finally:
        _taken.reset(token)


def request_token_take(*, tenant_id: str) -> Answer:
    """The tenant's token for the request being served (taken at its first ask)."""
    taken = _taken.get() or _Taken()
    if taken.answer is None:
        taken.answer = BUCKETS.take(f"{REQUESTS}:{tenant_id}", _shape(tenant_id))
    return taken.answer


def _shape(tenant_id: str) -> Shape:
    """The tenant's rate and burst. Reading them (at most every LIMITS_CACHE_SECONDS) is the
    limiter's call too, and like its grants must not fail the request: when the store does
    not answer within LIMITER_TIMEOUT_SECONDS (no retry starts later), the defaults apply."""
    try:
        with limiter_calls(), budget(settings.LIMITER_TIMEOUT_SECONDS):
            limits = tenant_limits(tenant_id=tenant_id)
    except StoreUnavailable as exc:
        logger.warning("Tenant limits unreadable, the defaults apply", extra={"tenant": tenant_id, "error": str(exc)})
        limits = Limits.defaults()
    return _shape_of(limits.rate, limits.burst)


@lru_cache(maxsize=64)
def _shape_of(rate: float, burst: int) -> Shape:
    """One Shape per rate and burst: its shards, interval and tau are worked out once, not
    for every request (a tenant's limits change rarely, and few tenants set their own)."""
    return Shape(rate, burst)


def refusal(answer: Answer) -> RateLimited:
    shape, wait = answer.shape, max(1, math.ceil(answer.retry_after))
    message = (
        f"Too many requests: this tenant may make {shape.rate:g} requests a second, {shape.burst} at once. "
        f"Retry in {wait} s."
    )
    return RateLimited(limit=REQUESTS, retry_after=wait, message=message)


class WithinRequestRate(BasePermission):
    """First of the permissions: an authenticated request takes its token or is refused
    (429); an unauthenticated one is left to the next permission (401)."""

    def has_permission(self, request, view) -> bool:
        if request.user is None:
            return True
        answer = request_token_take(tenant_id=request.user.tenant_id)
        if not answer.allowed:
            raise refusal(answer)
        return True


def rate_limit_headers(answer: Answer) -> dict[str, str]:
    """`q` the burst, `w` the seconds a full burst takes to come back; `r` the tokens left
    as this process sees them (approximate, as the draft allows), `t` the seconds until the
    bucket is full."""
    shape = answer.shape
    return {
        "RateLimit-Policy": f'"tenant";q={shape.burst};w={math.ceil(shape.burst / shape.rate)}',
        "RateLimit": f'"tenant";r={answer.remaining};t={math.ceil(answer.reset)}',
    }


class RateLimitHeadersMiddleware:
    """The headers on every answer to a request that took (or was refused) a token:
    successes, errors and 429s alike."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_token_scope() as taken:
            response = self.get_response(request)
        if taken.answer is not None:
            for name, value in rate_limit_headers(taken.answer).items():
                response[name] = value
        return response
