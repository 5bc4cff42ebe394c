"""The stream's shards and where the reader is in each: DescribeStream for the shards (a new
one appears when one closes), the checkpoints kept in the store, and the iterator to read a
shard from its checkpoint, or from the record that failed."""

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

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


class ShardPositions:
    """Where the reader is in each shard, kept apart from the reading and handing on
    (reader.StreamReader builds on it): the positions survive a restart, the reading does not."""

    def __init__(
        self,
        *,
        dynamodb=None,
        streams=None,
        table_name: str | None = None,
        region: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.dynamodb = dynamodb or store.client(Event)
        self.streams = streams or streams_client()
        self.table_name = table_name or Event.Meta.table_name
        self.region = region or settings.AWS_REGION
        self.clock = clock
        self.stream_arn: str | None = None
        self.started_ms: int | None = None
        self.shards: dict[str, Shard] = {}
        self.refreshed_at = -math.inf

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
