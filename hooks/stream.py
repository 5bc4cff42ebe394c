"""Reading the events table's DynamoDB stream as Lambda's event source does, for
`run_deliveries` (locally; on AWS the event source mapping reads it and calls the same
handler, hooks.handler.handle_stream).

The reader follows the stream's shards (a shard is read once its parent is drained, a
closed shard to its end, then its children), hands each non-empty batch of records to the
handler in Lambda's shape, and keeps its position per shard in the store
(hooks.models.StreamCheckpoint: pk `checkpoint#<stream ARN>`, sk the shard id, holding the
last sequence number handed on successfully).

Failures, as Lambda with ReportBatchItemFailures: the handler answers
{"batchItemFailures": [{"itemIdentifier": <SequenceNumber>}, ...]}; the checkpoint moves to
the record before the first failed one and the shard is read again from that record (after
a short backoff, doubling to BACKOFF_CAP_SECONDS while it keeps failing). A handler that
raises, or names a record that was not in the batch, fails the whole batch.

Where a shard without a checkpoint starts:

- the very first start for a stream (no checkpoint row at all under its ARN) writes a
  marker row (sk STARTED_SHARD, updated_at = when) and checkpoints each open shard at its
  newest record (read through once): a backlog written before deliveries ran is not
  blasted at the hooks; closed shards then hold only older records and are marked finished
  unread;
- after that (a restart, or a shard that appeared since), TRIM_HORIZON, skipping records
  created before the marker's second (ApproximateCreationDateTime is rounded down to the
  second): a restart before the first record arrived neither skips the records written
  since the first start nor replays what came before it.

Only one reader per stream is expected (run_deliveries is a development process): the
checkpoints are plain puts, and two readers would both hand every record on.
"""

import base64
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError
from django.conf import settings

from events.models import Event
from hooks.models import StreamCheckpoint
from triggerapi import store

logger = logging.getLogger("triggerapi.deliveries")

CHECKPOINT_PREFIX = "checkpoint#"
# The marker row of a stream's first start (not a shard id: those start with "shardId-").
STARTED_SHARD = "#started"
BATCH_SIZE = 1000  # GetRecords' maximum, and Lambda's default batch for a stream
EVENT_VERSION = "1.1"
BACKOFF_BASE_SECONDS = 0.2
BACKOFF_CAP_SECONDS = 30.0
# Shards split (and new ones appear) every few hours on AWS: look for new ones this often,
# and whenever a shard is drained.
REFRESH_SECONDS = 60.0
# The iterator is stale (over 15 minutes old) or points at records trimmed since (24 h):
# get another from the checkpoint.
ITERATOR_CODES = frozenset({"ExpiredIteratorException", "TrimmedDataAccessException"})


class NoStream(Exception):
    """The events table has no stream: `manage.py create_tables` enables it."""


def streams_client():
    """A DynamoDB Streams client with the store's connection settings (endpoint, region,
    timeouts, no botocore retries: `store.call` retries)."""
    meta = Event.Meta
    config = Config(
        connect_timeout=meta.connect_timeout_seconds,
        read_timeout=meta.read_timeout_seconds,
        retries={"total_max_attempts": 1},
        max_pool_connections=4,
        # The regional endpoint (streams.dynamodb.<region>.amazonaws.com), which AWS serves
        # as well as the account-based one botocore now picks for calls that carry a stream
        # ARN; moto's in-process mock (the tests) knows only the regional one.
        account_id_endpoint_mode="disabled",
    )
    credentials = {}
    if settings.DYNAMODB_HOST:
        credentials = {
            "aws_access_key_id": meta.aws_access_key_id,
            "aws_secret_access_key": meta.aws_secret_access_key,
        }
    return botocore.session.get_session().create_client(
        "dynamodbstreams",
        region_name=settings.AWS_REGION,
        endpoint_url=settings.DYNAMODB_HOST,
        config=config,
        **credentials,
    )


def default_handler(event: dict) -> dict:
    """hooks.handler.handle_stream, looked up at each call (tests replace it)."""
    from hooks import handler

    return handler.handle_stream(event)


@dataclass
class Shard:
    shard_id: str
    parent_id: str | None
    closed: bool
    # The last sequence number handed on successfully (what the checkpoint holds).
    checkpoint: str | None = None
    finished: bool = False
    iterator: str | None = None
    # Read again from this record (it failed), before the checkpoint.
    retry_from: str | None = None
    failures: int = 0
    not_before: float = 0.0


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


def _approximate_seconds(value) -> float:
    """Lambda sends ApproximateCreationDateTime as epoch seconds; botocore parses it into a
    datetime."""
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def _lambda_attribute(value):
    """An attribute value as Lambda's JSON has it: botocore turns B and BS into bytes."""
    if isinstance(value, dict):
        out = {}
        for kind, inner in value.items():
            if kind == "B" and isinstance(inner, bytes | bytearray):
                out[kind] = base64.b64encode(inner).decode()
            elif kind == "BS":
                out[kind] = [base64.b64encode(b).decode() if isinstance(b, bytes | bytearray) else b for b in inner]
            elif kind == "M":
                out[kind] = {k: _lambda_attribute(v) for k, v in inner.items()}
            elif kind == "L":
                out[kind] = [_lambda_attribute(v) for v in inner]
            else:
                out[kind] = inner
        return out
    return value


def lambda_record(record: dict, *, stream_arn: str, region: str) -> dict:
    """A GetRecords record in the shape Lambda hands a stream function: eventVersion 1.1,
    the region and eventSourceARN added, ApproximateCreationDateTime in epoch seconds,
    binary values base64."""
    stream = record.get("dynamodb", {})
    dynamodb = {}
    if "ApproximateCreationDateTime" in stream:
        dynamodb["ApproximateCreationDateTime"] = math.floor(
            _approximate_seconds(stream["ApproximateCreationDateTime"])
        )
    for name in ("Keys", "NewImage", "OldImage"):
        if name in stream:
            dynamodb[name] = {k: _lambda_attribute(v) for k, v in stream[name].items()}
    for name in ("SequenceNumber", "SizeBytes", "StreamViewType"):
        if name in stream:
            dynamodb[name] = stream[name]
    shaped = {
        "eventID": record.get("eventID"),
        "eventName": record.get("eventName"),
        "eventVersion": EVENT_VERSION,
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in record:  # TTL deletions
        shaped["userIdentity"] = record["userIdentity"]
    return shaped


def first_failure(result, sequence_numbers: list[str]) -> str | None:
    """The sequence number to read again from, per Lambda's partial batch response: the
    lowest failed record; the whole batch if the answer names a record not in it."""
    if not isinstance(result, dict):
        return None
    failures = result.get("batchItemFailures") or []
    if not failures:
        return None
    position = {seq: i for i, seq in enumerate(sequence_numbers)}
    indexes = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in position:
            return sequence_numbers[0]
        indexes.append(position[identifier])
    return sequence_numbers[min(indexes)]


class StreamReader:
    def __init__(
        self,
        *,
        handler: Callable[[dict], dict] = default_handler,
        dynamodb=None,
        streams=None,
        table_name: str | None = None,
        region: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.handler = handler
        self.dynamodb = dynamodb or store.client(Event)
        self.streams = streams or streams_client()
        self.table_name = table_name or Event.Meta.table_name
        self.region = region or settings.AWS_REGION
        self.clock = clock
        self.stream_arn: str | None = None
        self.started_ms: int | None = None
        self.shards: dict[str, Shard] = {}
        self.refreshed_at = -math.inf
        self.totals = Totals()

    # -- the stream and its shards ------------------------------------------------------

    def open(self) -> str:
        """Finds the stream, its start marker (writing it on a first start) and shards."""
        table = store.call(lambda: self.dynamodb.describe_table(TableName=self.table_name), what="DescribeTable")
        arn = table["Table"].get("LatestStreamArn")
        spec = table["Table"].get("StreamSpecification") or {}
        if not arn or not spec.get("StreamEnabled"):
            raise NoStream(
                f"{self.table_name} has no stream: run `manage.py create_tables` (it enables it), then start again."
            )
        self.stream_arn = arn
        rows = {row.shard_id: row for row in self._checkpoint_rows()}
        fresh = STARTED_SHARD not in rows
        if fresh:
            self.started_ms = store.now_ms()
            self._save(StreamCheckpoint(self._pk(), STARTED_SHARD, updated_at=self.started_ms), "the start marker")
        else:
            self.started_ms = int(rows[STARTED_SHARD].updated_at)
        self.refresh(rows, fresh=fresh)
        return arn

    def _pk(self) -> str:
        return f"{CHECKPOINT_PREFIX}{self.stream_arn}"

    def _checkpoint_rows(self) -> list[StreamCheckpoint]:
        return store.call(
            lambda: list(StreamCheckpoint.query(self._pk(), consistent_read=True)), what="Query StreamCheckpoint"
        )

    def _save(self, row: StreamCheckpoint, what: str) -> None:
        store.call(row.save, what=f"PutItem StreamCheckpoint ({what})")

    def _describe_shards(self) -> list[dict]:
        shards: list[dict] = []
        start: str | None = None
        while True:
            kwargs = {"StreamArn": self.stream_arn}
            if start:
                kwargs["ExclusiveStartShardId"] = start
            page = store.call(lambda kwargs=kwargs: self.streams.describe_stream(**kwargs), what="DescribeStream")
            description = page["StreamDescription"]
            shards += description.get("Shards", [])
            start = description.get("LastEvaluatedShardId")
            if not start:
                return shards

    def refresh(self, rows: dict | None = None, *, fresh: bool = False) -> None:
        """Adds the shards the stream has now; forgets those trimmed away."""
        described = self._describe_shards()
        if rows is None:
            rows = {row.shard_id: row for row in self._checkpoint_rows()}
        present = set()
        for info in described:
            shard_id = info["ShardId"]
            present.add(shard_id)
            if shard_id in self.shards:
                self.shards[shard_id].closed = "EndingSequenceNumber" in info.get("SequenceNumberRange", {})
                continue
            shard = Shard(
                shard_id,
                info.get("ParentShardId"),
                closed="EndingSequenceNumber" in info.get("SequenceNumberRange", {}),
            )
            row = rows.get(shard_id)
            if row is not None:
                shard.checkpoint = row.sequence_number
                shard.finished = bool(row.finished)
            elif fresh:
                if shard.closed:
                    shard.finished = True  # closed before we first started: nothing new in it
                    self._write_checkpoint(shard)
                else:
                    # Positioned now, after the last record there is: what is written from
                    # here on is handed on (a LATEST iterator would leave no checkpoint, and a
                    # restart before the next record would read the backlog from the start).
                    shard.checkpoint = self._last_sequence_number(shard)
                    if shard.checkpoint:
                        self._write_checkpoint(shard)
            self.shards[shard_id] = shard
        for gone in set(self.shards) - present:
            del self.shards[gone]
        self.refreshed_at = self.clock()

    def _ready(self, shard: Shard) -> bool:
        if shard.finished or self.clock() < shard.not_before:
            return False
        parent = self.shards.get(shard.parent_id) if shard.parent_id else None
        # A parent trimmed from the stream (gone from DescribeStream) is as good as drained.
        return parent is None or parent.finished

    def _last_sequence_number(self, shard: Shard) -> str | None:
        """The newest record's sequence number in an open shard, read through once (a first
        start only; run_deliveries is a development process, its stream small)."""
        iterator, last = self._iterator(shard), None
        while iterator:
            answer = store.call(
                lambda iterator=iterator: self._send_or_code(
                    self.streams.get_records, ShardIterator=iterator, Limit=BATCH_SIZE
                ),
                what="GetRecords",
            )
            records = [] if isinstance(answer, str) else answer.get("Records", [])
            if not records:
                return last
            last = records[-1]["dynamodb"]["SequenceNumber"]
            iterator = answer.get("NextShardIterator")
        return last

    def _write_checkpoint(self, shard: Shard) -> None:
        row = StreamCheckpoint(
            self._pk(),
            shard.shard_id,
            sequence_number=shard.checkpoint,
            finished=store.now_ms() if shard.finished else None,
            updated_at=store.now_ms(),
        )
        self._save(row, shard.shard_id)

    # -- reading ----------------------------------------------------------------------

    def _iterator(self, shard: Shard) -> str | None:
        kwargs = {"StreamArn": self.stream_arn, "ShardId": shard.shard_id}
        if shard.retry_from:
            kwargs.update(ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=shard.retry_from)
        elif shard.checkpoint:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=shard.checkpoint)
        else:
            kwargs.update(ShardIteratorType="TRIM_HORIZON")
        answer = store.call(
            lambda: self._send_or_code(self.streams.get_shard_iterator, **kwargs), what="GetShardIterator"
        )
        if isinstance(answer, str):
            if answer == "TrimmedDataAccessException":
                logger.warning(
                    "records of %s were trimmed before they were read: reading on from the oldest left", shard.shard_id
                )
                shard.retry_from = shard.checkpoint = None
                return self._iterator(shard)
            # ResourceNotFound: the shard was trimmed away.
            shard.finished = True
            return None
        return answer.get("ShardIterator")

    @staticmethod
    def _send_or_code(send, **kwargs):
        """The answer, or the error code of the errors that are an answer here (not the
        store being unavailable): `store.call` must not retry those."""
        try:
            return send(**kwargs)
        except ClientError as exc:
            code = store.error_code(exc)
            if code in ITERATOR_CODES or (code == "ResourceNotFoundException" and "ShardId" in kwargs):
                return code
            raise

    def poll(self) -> list[Batch]:
        """One GetRecords on each shard that is ready; hands on what came. Returns the
        batches handed on (empty reads are not batches)."""
        if self.stream_arn is None:
            self.open()
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
