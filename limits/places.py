"""Places: at most `cap` holders of one store item at once, across every process. Waiting
claims (limits/waiting.py) and webhook calls made inside a request (limits/hook_calls.py)
each keep a tenant's places in one item: holder id -> the time its place is free at the
latest. A holder gives its place back when it is done, however it ends; a place whose
process was killed is dropped by the next taker once that time has passed. A place is taken
by one write conditional on the number of places held, which the store checks and applies
at once: two takers never both get the last place, and ten takers starting together do not
retry on each other."""

from dataclasses import dataclass

from pynamodb.expressions.condition import size
from pynamodb.models import Model

from triggerapi import writes
from triggerapi.store import ConditionFailed, now_ms

# A taker tries this often (each failed try drops expired places or creates the item) before
# giving up.
TAKE_ATTEMPTS = 4


class Full(Exception):
    """Every place is held; the first of them is free at `first_free_ms` at the latest."""

    def __init__(self, first_free_ms: int):
        super().__init__(first_free_ms)
        self.first_free_ms = first_free_ms


class LostRaces(Exception):
    """The places kept changing under the taker: nothing was taken."""


@dataclass(frozen=True)
class Places:
    """The item holding one tenant's places of one kind: `model` has a `pk` and a map
    `holders`; each change adds or removes entries of `holders`, never the whole map."""

    model: type[Model]
    hash_key: str
    range_key: str

    def take(self, *, holder: str, until: int, cap: int) -> None:
        """Takes a place until `until` (epoch ms): one write adding the holder, conditional on
        fewer than `cap` being held. When the condition fails, the item it sends back says
        why: places expired (dropped, then try again) or all taken (Full)."""
        for _ in range(TAKE_ATTEMPTS):
            try:
                self._add(holder, until, cap)
                return
            except ConditionFailed as exc:
                found = exc.item
            if found is None:
                if self._create(holder, until):
                    return
                continue
            holders = {name: int(free["N"]) for name, free in found.get("holders", {}).get("M", {}).items()}
            if holder in holders:
                return  # an earlier attempt of this write was applied, its answer lost
            now = now_ms()
            live = [free for free in holders.values() if free > now]
            if len(live) >= cap:
                raise Full(min(live))
            self._drop([name for name, free in holders.items() if free <= now])
        raise LostRaces

    def release(self, *, holder: str) -> None:
        """Gives the place back: removes the holder's entry, if it is still there (a taker may
        have dropped it as expired)."""
        try:
            self._update([self.model.holders[holder].remove()], self.model.holders[holder].exists())
        except ConditionFailed:
            pass

    def _add(self, holder: str, until: int, cap: int) -> None:
        holders = self.model.holders
        self._update([holders[holder].set(until)], holders.exists() & (size(holders) < cap))

    def _create(self, holder: str, until: int) -> bool:
        """The first place ever; False if another taker created the item first."""
        try:
            self._update([self.model.holders.set({holder: until})], self.model.pk.does_not_exist())
        except ConditionFailed:
            return False
        return True

    def _drop(self, expired: list[str]) -> None:
        """Removes places whose time is up (their holder was killed). Holder ids are never
        reused, so removing one twice, or one already given back, changes nothing."""
        self._update([self.model.holders[name].remove() for name in expired], None)

    def _update(self, actions: list, condition) -> None:
        writes.update(
            self.model,
            self.hash_key,
            self.range_key,
            actions=actions,
            condition=condition,
            token=None,
            return_item=False,
        )
