"""The stream reader (devstack/stream/) on moto's in-process mock: the events table's stream,
the records' Lambda shape, partial batch failures, checkpoints. run_deliveries as a process
against a moto server: tests/integration/test_deliveries.py."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from devstack.stream.reader import StreamReader
from devstack.stream.records import first_failure, lambda_record
from devstack.stream.shards import STARTED_SHARD
from events.models import Event
from hooks.models import StreamCheckpoint
from tests.store_hooks import create_events_table_without_its_stream
from triggerapi import store
from triggerapi.tables import tables_create


def put_event(key: str) -> None:
    Event("acme", key, created_at=1, payload="{}", expires_at=datetime.now(UTC) + timedelta(days=1)).save()


class Recorder:
    def __init__(self, answer=None):
        self.batches: list[list[dict]] = []
        self.answer = answer or (lambda records: {"batchItemFailures": []})

    def __call__(self, event):
        self.batches.append(event["Records"])
        return self.answer(event["Records"])

    def keys(self) -> list[str]:
        return [r["dynamodb"]["Keys"]["sk"]["S"] for batch in self.batches for r in batch]


def started_reader(handler) -> StreamReader:
    """A reader past its first start (which reads from LATEST): later events all count."""
    # A clock 100 s further on at each look: a failed shard's backoff is over at the next poll.
    reader = StreamReader(handler=handler, clock=itertools.count(0, 100).__next__)
    reader.open()
    return reader


def test_create_tables_enables_the_stream_on_an_events_table_created_without_one():
    Event.delete_table()
    create_events_table_without_its_stream()
    assert "StreamSpecification" not in store.client(Event).describe_table(TableName=Event.Meta.table_name)["Table"]

    [events] = [t for t in tables_create() if t.name == Event.Meta.table_name]
    again = [t for t in tables_create() if t.name == Event.Meta.table_name][0]

    table = store.client(Event).describe_table(TableName=Event.Meta.table_name)["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert events.stream_arn == again.stream_arn == table["LatestStreamArn"]


def test_the_first_start_skips_the_backlog_and_a_restart_reads_on_from_its_checkpoint():
    put_event("evt_old")
    first = Recorder()
    reader = started_reader(first)
    assert reader.poll() == [] and first.batches == []
    put_event("evt_1")
    assert [b.records for b in reader.poll()] == [1]
    assert first.keys() == ["evt_1"]

    put_event("evt_2")
    second = Recorder()
    assert [b.records for b in started_reader(second).poll()] == [1]
    assert second.keys() == ["evt_2"]
    rows = {row.shard_id: row for row in StreamCheckpoint.query(f"checkpoint#{reader.stream_arn}")}
    assert STARTED_SHARD in rows and len(rows) == 2


def test_records_have_lambdas_shape():
    recorder = Recorder()
    reader = started_reader(recorder)
    put_event("evt_shape")
    reader.poll()
    [[record]] = recorder.batches
    assert record["eventVersion"] == "1.1" and record["eventSource"] == "aws:dynamodb"
    assert record["eventSourceARN"] == reader.stream_arn and record["awsRegion"] == "us-east-1"
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert record["dynamodb"]["NewImage"]["payload"] == {"S": "{}"}
    assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(lambda records: {"batchItemFailures": [{"itemIdentifier": "999"}]}, id="unknown identifier"),
        pytest.param(lambda records: 1 / 0, id="the handler raises"),
    ],
)
def test_a_batch_fails_whole_when_the_handler_raises_or_names_a_record_not_in_it(answer):
    calls = []

    def once(records):
        calls.append(1)
        return answer(records) if len(calls) == 1 else {"batchItemFailures": []}

    recorder = Recorder(once)
    reader = started_reader(recorder)
    put_event("evt_a")
    put_event("evt_b")
    [failed] = reader.poll()
    assert failed.failed_from is not None
    reader.poll()
    assert recorder.keys() == ["evt_a", "evt_b", "evt_a", "evt_b"]


def test_first_failure_is_the_lowest_failed_record():
    sequences = ["10", "11", "12"]
    answer = {"batchItemFailures": [{"itemIdentifier": "12"}, {"itemIdentifier": "11"}]}
    assert first_failure(answer, sequences) == "11"
    assert first_failure({"batchItemFailures": []}, sequences) is None
    assert first_failure(None, sequences) is None


def test_binary_values_are_base64_as_lambda_sends_them():
    record = {"eventID": "1", "eventName": "INSERT", "dynamodb": {"NewImage": {"b": {"B": b"\x00\x01"}}}}
    shaped = lambda_record(record, stream_arn="arn", region="eu-west-1")
    assert shaped["dynamodb"]["NewImage"] == {"b": {"B": "AAE="}}
    assert shaped["awsRegion"] == "eu-west-1"
