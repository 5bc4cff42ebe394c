"""One reader of a stream at a time, as on AWS, where one function's event source mapping
reads it: two `run_deliveries` side by side would otherwise each hand every record on (both
fan-outs find the deliveries the other made, at twice the store's work). The lease is one
row beside the checkpoints (pk `checkpoint#<stream ARN>`, sk LEASE_KEY): its holder's token
and until when it holds, renewed every RENEW_SECONDS by a conditional write. A process that
does not hold it dispatches only, and takes the stream over once the holder lets it go (a
clean stop) or its lease runs out (a process killed), from the checkpoints the holder left."""

import math
import time
from collections.abc import Callable

from hooks.models import StreamCheckpoint
from triggerapi import store, writes
from triggerapi.store import ConditionFailed

LEASE_KEY = "#lease"
LEASE_SECONDS = 6.0
RENEW_SECONDS = 2.0


class StreamLease:
    def __init__(self, stream_pk: str, clock: Callable[[], float] = time.monotonic):
        self.stream_pk, self.clock = stream_pk, clock
        self.token = writes.new_token()
        self.holding = False
        self.renewed_at = -math.inf

    def held(self) -> bool:
        """Whether this process reads the stream now: the lease taken or renewed when it is
        time, on condition that no one else holds it."""
        if self.holding and self.clock() - self.renewed_at < RENEW_SECONDS:
            return True
        now = store.now_ms()
        try:
            self._write(
                StreamCheckpoint.holder.set(self.token),
                StreamCheckpoint.held_until.set(now + int(LEASE_SECONDS * 1000)),
                condition=StreamCheckpoint.holder.does_not_exist()
                | (StreamCheckpoint.holder == self.token)
                | (StreamCheckpoint.held_until < now),
                now=now,
            )
        except ConditionFailed:
            self.holding = False
            return False
        self.holding, self.renewed_at = True, self.clock()
        return True

    def release(self) -> None:
        """Lets the next reader take over at once (a clean stop)."""
        if not self.holding:
            return
        self.holding = False
        try:
            self._write(
                StreamCheckpoint.holder.remove(),
                StreamCheckpoint.held_until.remove(),
                condition=StreamCheckpoint.holder == self.token,
                now=store.now_ms(),
            )
        except ConditionFailed:
            pass  # it ran out and another took it

    def _write(self, *actions, condition, now: int) -> None:
        writes.update(
            StreamCheckpoint,
            self.stream_pk,
            LEASE_KEY,
            actions=[*actions, StreamCheckpoint.updated_at.set(now)],
            condition=condition,
            token=None,
            return_item=False,
        )
