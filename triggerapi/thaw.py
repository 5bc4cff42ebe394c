"""Safe to thaw: each instance restored from a SnapStart snapshot makes right what it holds.

The API function runs with Lambda SnapStart (COMMANDS.md, "Cold start"; docs/DEPLOY.md, "Safe
to thaw"): Lambda runs the init once (imports, Django set-up, a warm request), snapshots the
process, and starts every new instance as a copy of that snapshot, maybe days later. What the
init left in memory is in every copy: sockets to the store, the keys it verified, the `random`
module's state, a sequence's last value, pool threads. Lambda's runtime runs the hooks that
its `snapshot_restore_py` registry holds: before the snapshot (last registered first) and
after each restore (first registered first). A module registers its own beside the state they
make right; this one registers the shared layer's: the store's clients, the caches, `random`.

The runtime provides `snapshot_restore_py`: requirements.txt (the zip) leaves it out, so that
the runtime's own copy is the one registered with, and requirements-dev.txt pins it for the
tests. Where it is absent (a server or a command installed from requirements.txt) no snapshot
is ever taken, and registering does nothing.
"""

import random
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.core.cache import caches

from triggerapi import store
from triggerapi.tables import all_models

try:
    import snapshot_restore_py
except ImportError:
    snapshot_restore_py = None


def before_snapshot[F: Callable[[], object]](hook: F) -> F:
    """Has the runtime call `hook` just before it takes the snapshot (a decorator too)."""
    if snapshot_restore_py is not None:
        snapshot_restore_py.register_before_snapshot(hook)
    return hook


def after_restore[F: Callable[[], object]](hook: F) -> F:
    """Has the runtime call `hook` in each instance restored from the snapshot, before its
    first request (a decorator too)."""
    if snapshot_restore_py is not None:
        snapshot_restore_py.register_after_restore(hook)
    return hook


class Pool:
    """A thread pool that no snapshot holds: before the snapshot it waits for the work in hand
    and lets its threads go, and the next `submit` starts new ones. A thread in the snapshot
    would be in every copy, with whatever it was doing (a write half sent would be sent again
    by each); a new thread costs well under a millisecond."""

    def __init__(self, *, workers: int, name: str):
        self._workers, self._name = workers, name
        self._executor = self._new()
        before_snapshot(self.renew)

    def _new(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix=self._name)

    def submit(self, fn: Callable, /, *args, **kwargs) -> Future:
        return self._executor.submit(fn, *args, **kwargs)

    def renew(self) -> None:
        old, self._executor = self._executor, self._new()
        old.shutdown(wait=True)


@after_restore
def random_reseed() -> None:
    """Every copy would draw the same numbers from `random` (its state is in the snapshot):
    the same retry jitter, the same shard order, in lockstep. Seeded again from the kernel
    (`random.seed()` with no argument reads os.urandom). Ids, tokens, keys and secrets never
    come from `random`: they are read from the kernel at each call (`secrets`, `uuid4`,
    `os.urandom`), so no state of theirs is in the snapshot."""
    random.seed()


@after_restore
def store_reconnect() -> None:
    """New connections to the store: the snapshot's sockets belong to a network that is gone,
    and each copy would share them (the clients stay: triggerapi/store.py `reconnect`)."""
    store.reconnect(all_models())


@after_restore
def caches_clear() -> None:
    """The local caches hold the API keys verified and the tenants' limits read before the
    snapshot: a key revoked since would still be let in, for AUTH_CACHE_SECONDS after each
    restore (the cache's clock is the wall clock, but a restore can come within the minute)."""
    for alias in settings.CACHES:
        caches[alias].clear()
