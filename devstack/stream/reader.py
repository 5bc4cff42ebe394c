"""The stream reader behind `manage.py run_deliveries`: one GetRecords on each shard that is
ready, each non-empty batch handed to the handler in Lambda's shape, the checkpoint moved
past what it took, and a failed record read again after a backoff."""

import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from devstack.stream.records import first_failure, lambda_record
from devstack.stream.shards import BATCH_SIZE, REFRESH_SECONDS, Shard, ShardPositions
from triggerapi import store

logger = logging.getLogger("triggerapi.deliveries")

BACKOFF_BASE_SECONDS = 0.2
BACKOFF_CAP_SECONDS = 30.0


def default_handler(event: dict) -> dict:
    """hooks.handler.handle_stream, looked up at each call (tests replace it)."""
    from hooks import handler

    return handler.handle_stream(event)


@dataclass
class Batch:
    """What one GetRecords handed on: for the command's output."""

    shard_id: str
    records: int
    failed_from: str | None = None
    skipped: int = 0


@dataclass
class Totals:
    batches: int = 0
    records: int = 0
    failed_batches: int = 0
    shards_finished: int = 0


class StreamReader(ShardPositions):
    def __init__(self, *, handler: Callable[[dict], dict] = default_handler, **positions):
        super().__init__(**positions)
        self.handler = handler
        self.totals = Totals()
        # StreamLease (devstack/stream/lease.py) where other readers may run beside this one.
        self.lease = None

    def poll(self) -> list[Batch]:
        """One GetRecords on each shard that is ready; hands on what came. Returns the
        batches handed on (empty reads are not batches)."""
        if self.stream_arn is None:
            self.open()
        if self.lease is not None:
            was_reading = self.lease.holding
            if not self.lease.held():
                return []
            if not was_reading:
                # Taken over: from the checkpoints, whatever this process read before.
                self.shards = {}
                self.refresh()
        if self.clock() - self.refreshed_at >= REFRESH_SECONDS:
            self.refresh()
        batches = []
        drained = False
        for shard in list(self.shards.values()):
            if not self._ready(shard):
                continue
            batch = self._read(shard)
            if batch is not None:
                batches.append(batch)
            drained |= shard.finished
        if drained:
            self.refresh()
        return batches

    def _read(self, shard: Shard) -> Batch | None:
        if shard.iterator is None:
            shard.iterator = self._iterator(shard)
            if shard.iterator is None:
                return None
        iterator = shard.iterator
        answer = store.call(
            lambda: self._send_or_code(self.streams.get_records, ShardIterator=iterator, Limit=BATCH_SIZE),
            what="GetRecords",
        )
        if isinstance(answer, str):
            shard.iterator = None  # expired or trimmed: from the checkpoint again, next time
            return None
        records = answer.get("Records", [])
        next_iterator = answer.get("NextShardIterator")
        batch = self._hand_on(shard, records) if records else None
        if batch is not None and batch.failed_from is not None:
            return batch
        shard.iterator = next_iterator
        if next_iterator is None:
            # A closed shard read to its end: its children may start.
            shard.finished = True
            self._write_checkpoint(shard)
            self.totals.shards_finished += 1
        return batch

    def _hand_on(self, shard: Shard, records: list[dict]) -> Batch:
        started_second = (self.started_ms or 0) // 1000
        shaped = [lambda_record(r, stream_arn=self.stream_arn, region=self.region) for r in records]
        fresh = [r for r in shaped if r["dynamodb"].get("ApproximateCreationDateTime", math.inf) >= started_second]
        skipped = len(shaped) - len(fresh)
        failed_from = None
        if fresh:
            sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in fresh]
            try:
                result = self.handler({"Records": fresh})
            except Exception:
                logger.exception("the stream handler raised on %d records of %s", len(fresh), shard.shard_id)
                failed_from = sequence_numbers[0]
            else:
                failed_from = first_failure(result, sequence_numbers)
        all_sequences = [r["dynamodb"]["SequenceNumber"] for r in shaped]
        if failed_from is None:
            last_ok = all_sequences[-1]
        else:
            index = all_sequences.index(failed_from)
            last_ok = all_sequences[index - 1] if index > 0 else None
        if last_ok is not None and last_ok != shard.checkpoint:
            shard.checkpoint = last_ok
            shard.retry_from = None
            self._write_checkpoint(shard)
        batch = Batch(shard.shard_id, len(fresh), failed_from=failed_from, skipped=skipped)
        self.totals.records += len(fresh)
        self.totals.batches += 1 if fresh else 0
        if failed_from is None:
            shard.failures = 0
            shard.retry_from = None
        else:
            self.totals.failed_batches += 1
            shard.failures += 1
            shard.retry_from = failed_from
            shard.iterator = None
            delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (shard.failures - 1))
            shard.not_before = self.clock() + random.uniform(delay / 2, delay)
        return batch
