import contextvars
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TypeVar

from rest_framework.exceptions import NotFound

T = TypeVar("T")
R = TypeVar("R")

DAY_MS = 86_400_000
# DynamoDB has no multi-item conditional update; independent single-item writes go out
# side by side so a batch costs about one round trip, not a hundred.
_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="store")


class EventNotFound(NotFound):
    def __init__(self, event_id: str):
        super().__init__(f"Event {event_id[:64]} not found.")


def as_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def in_parallel(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """`fn` over `items` on the pool, each in a copy of the caller's context (its request id
    and store budget); results in order, and the first error raised once all have ended."""
    items = list(items)
    if len(items) <= 1:
        return [fn(item) for item in items]
    futures = [_pool.submit(contextvars.copy_context().run, fn, item) for item in items]
    errors = [future.exception() for future in futures]
    for error in errors:
        if error is not None:
            raise error
    return [future.result() for future in futures]
