"""Open-loop load, shared by the tests and the benchmarks: requests sent on a fixed schedule
whatever the answers' latency. A closed loop (each thread waiting for its answer before the
next request) slows down with the server, so it cannot hold a tenant at 3 times its rate."""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


def paced[T](send: Callable[[int], T], *, per_second: float, seconds: float, threads: int = 32) -> list[T]:
    """`send(i)` for i = 0, 1, ... at `per_second`, for `seconds`; the results in order.
    `threads` bounds the requests in flight (latency x rate must stay under it)."""
    start = time.monotonic() + 0.05
    count = round(per_second * seconds)

    def one(i: int) -> T:
        # The schedule itself, not a wait for something to happen.
        time.sleep(max(0.0, start + i / per_second - time.monotonic()))
        return send(i)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))
