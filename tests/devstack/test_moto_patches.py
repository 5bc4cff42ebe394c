"""devstack/moto_patches.py on bare moto backends, in process (no server, no HTTP): each
patch does what it says, the store refuses a moto it was not written for, and what moto
does without the patches (so the tests say when upstream no longer needs them)."""

import copy
import json

import boto3
import pytest
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionContext, ActionResult
from moto.core.serialize import get_serializer_class
from moto.core.utils import get_service_model
from moto.dynamodb.exceptions import MultipleTransactionsException, TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodbstreams.models import DynamoDBStreamsBackend

from devstack import localstore, moto_patches

ACCOUNT, REGION, TABLE = "123456789012", "us-east-1", "Patched"
A = {"pk": {"S": "a"}, "sk": {"S": "1"}}
B = {"pk": {"S": "b"}, "sk": {"S": "1"}}
MISSING = {"pk": {"S": "c"}, "sk": {"S": "1"}}


def backend() -> DynamoDBBackend:
    """The account's DynamoDB backend (the tests' mock_aws makes it fresh), with a table of
    hash and range keys and a stream, holding item A."""
    dynamodb = dynamodb_backends[ACCOUNT][REGION]
    dynamodb.create_table(
        TABLE,
        schema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        throughput=None,
        attr=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        global_indexes=None,
        indexes=None,
        streams={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        billing_mode="PAY_PER_REQUEST",
        sse_specification=None,
        tags=[],
        deletion_protection_enabled=None,
        warm_throughput=None,
    )
    dynamodb.put_item(TABLE, {**A, "v": {"S": "old"}})
    return dynamodb


def update(key: dict, value: str) -> dict:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": key,
            "UpdateExpression": "SET v = :v",
            "ExpressionAttributeValues": {":v": {"S": value}},
        }
    }


PUT_B = {"Put": {"TableName": TABLE, "Item": {**B, "v": {"S": "new"}}}}
CHECK_MISSING = {"ConditionCheck": {"TableName": TABLE, "Key": MISSING, "ConditionExpression": "attribute_exists(pk)"}}


def value_of(dynamodb: DynamoDBBackend, key: dict) -> str | None:
    item = dynamodb.get_item(TABLE, key)
    return None if item is None else item.to_json()["Attributes"]["v"]["S"]


@pytest.mark.parametrize(
    ("transaction", "error"),
    [
        pytest.param([update(A, "new"), PUT_B, CHECK_MISSING], TransactionCanceledException, id="a failed condition"),
        pytest.param([update(A, "new"), update(A, "newer")], MultipleTransactionsException, id="one item twice"),
    ],
)
def test_a_canceled_transaction_leaves_the_same_table_and_shard_with_its_items_restored(transaction, error):
    with moto_patches.applied():
        dynamodb = backend()
        table = dynamodb.tables[TABLE]
        shard, records = table.stream_shard, len(table.stream_shard.items)

        with pytest.raises(error):
            dynamodb.transact_write_items(transaction)

        assert dynamodb.tables[TABLE] is table and table.stream_shard is shard
        assert len(shard.items) == records
        # (before reading B: moto's get_item of a missing hash key adds an empty one)
        assert {hash_key.value for hash_key in table.items} == {"a"}
        assert (value_of(dynamodb, A), value_of(dynamodb, B)) == ("old", None)


def test_a_transaction_that_succeeds_writes_its_items_and_their_stream_records():
    with moto_patches.applied():
        dynamodb = backend()
        shard = dynamodb.tables[TABLE].stream_shard
        records = len(shard.items)

        dynamodb.transact_write_items([update(A, "new"), PUT_B])

        assert (value_of(dynamodb, A), value_of(dynamodb, B)) == ("new", "new")
        assert [record.record["eventName"] for record in shard.items[records:]] == ["MODIFY", "INSERT"]


def test_without_the_patch_moto_puts_a_copy_of_the_table_with_its_own_shard_in_place():
    dynamodb = backend()
    table = dynamodb.tables[TABLE]

    with pytest.raises(TransactionCanceledException):
        dynamodb.transact_write_items([update(A, "new"), CHECK_MISSING])

    assert dynamodb.tables[TABLE] is not table
    assert dynamodb.tables[TABLE].stream_shard is not table.stream_shard


def read_records(streams: DynamoDBStreamsBackend, times: int) -> tuple[str, str]:
    """The first iterator handed out, and the last, after `times` GetRecords."""
    [stream] = streams.list_streams(TABLE)
    shard_id = streams.describe_stream(stream["StreamArn"])["Shards"][0]["ShardId"]
    first = last = streams.get_shard_iterator(stream["StreamArn"], shard_id, "TRIM_HORIZON").arn
    for _ in range(times):
        last = streams.get_records(last, 100)["NextShardIterator"]
    return first, last


def test_shard_iterators_are_bounded_and_a_forgotten_one_answers_expired(monkeypatch):
    monkeypatch.setattr(moto_patches, "MAX_SHARD_ITERATORS", 5)
    with moto_patches.applied():
        backend()
        streams = DynamoDBStreamsBackend(REGION, ACCOUNT)

        first, last = read_records(streams, 20)

        assert len(streams.shard_iterators) == 5
        with pytest.raises(JsonRESTError) as expired:
            streams.get_records(first, 100)
        assert expired.value.error_type == "ExpiredIteratorException"
        assert streams.get_records(last, 100)["Records"] == []


def test_without_the_patch_moto_keeps_every_shard_iterator():
    backend()
    streams = DynamoDBStreamsBackend(REGION, ACCOUNT)

    read_records(streams, 20)

    assert len(streams.shard_iterators) == 21


# Every kind of attribute value, binary ones as moto's request parser stores them (bytes).
EVERY_TYPE = {
    **{"s": {"S": 'é\u2028"<>&'}, "empty": {"S": ""}, "n": {"N": "1.50"}, "b": {"B": b"\x00\x01hi"}},
    **{"yes": {"BOOL": True}, "null": {"NULL": True}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}},
    **{"bs": {"BS": [b"a", b"\xff"]}, "none": {"L": []}, "nothing": {"M": {}}},
    "m": {"M": {"l": {"L": [{"S": "y"}, {"N": "2"}, {"B": b"\x00"}, {"BS": [b"c"]}, {"M": {"t": {"BOOL": False}}}]}}},
}


def every_kind_of_record() -> dict:
    """GetRecords' result (not yet serialised) over an INSERT, a MODIFY and a REMOVE of an
    item holding every type, on a stream of new and old images."""
    dynamodb = dynamodb_backends[ACCOUNT][REGION]
    dynamodb.create_table(
        "Images",
        schema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        throughput=None,
        attr=[{"AttributeName": "pk", "AttributeType": "S"}],
        global_indexes=None,
        indexes=None,
        streams={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        billing_mode="PAY_PER_REQUEST",
        sse_specification=None,
        tags=[],
        deletion_protection_enabled=None,
        warm_throughput=None,
    )
    dynamodb.put_item("Images", {"pk": {"S": "a"}, **EVERY_TYPE})
    dynamodb.put_item("Images", {"pk": {"S": "a"}, **EVERY_TYPE, "n": {"N": "2"}})
    dynamodb.delete_item("Images", {"pk": {"S": "a"}})
    streams = DynamoDBStreamsBackend(REGION, ACCOUNT)
    [stream] = streams.list_streams("Images")
    shard_id = streams.describe_stream(stream["StreamArn"])["Shards"][0]["ShardId"]
    return streams.get_records(streams.get_shard_iterator(stream["StreamArn"], shard_id, "TRIM_HORIZON").arn, 100)


def written_both_ways(monkeypatch) -> list[tuple[tuple[str, str], dict, dict]]:
    """From here on, every answer moto writes, as (service, operation), as its serializer
    writes it and as answers_dumped does (moto answering with the serializer's)."""
    [(owner, name, dumped)] = moto_patches.answers_dumped()
    original = vars(owner)[name]
    both = []

    def write(self, context):
        written = original(self, context)
        operation = (context.service_model.service_name, context.operation_model.name)
        both.append((operation, json.loads(written[2] or "{}"), json.loads(dumped(self, context)[2] or "{}")))
        return written

    monkeypatch.setattr(owner, name, write)
    return both


def test_stream_records_are_dumped_as_motos_serializer_writes_them(monkeypatch):
    both = written_both_ways(monkeypatch)
    result = every_kind_of_record()
    service = get_service_model("dynamodbstreams")
    operation = service.operation_model("GetRecords")

    ActionResult(result).execute_result(
        ActionContext(service, operation, get_serializer_class("dynamodbstreams", "json"), None)
    )

    [(_, serialized, dumped)] = both
    assert [r["eventName"] for r in serialized["Records"]] == ["INSERT", "MODIFY", "REMOVE"]
    assert serialized["Records"][1]["dynamodb"]["OldImage"]["b"] == {"B": "AAFoaQ=="}
    assert dumped == serialized


def test_answers_holding_items_are_dumped_as_motos_serializer_writes_them(monkeypatch):
    both = written_both_ways(monkeypatch)
    db = boto3.client("dynamodb", region_name=REGION)
    key = {"pk": {"S": "p"}, "sk": {"S": "1"}}
    db.create_table(
        TableName="Items",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g")],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "g-index",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for n in range(4):
        db.put_item(TableName="Items", Item={"pk": {"S": "p"}, "sk": {"S": str(n)}, "g": {"S": "x"}, **EVERY_TYPE})
    db.put_item(TableName="Items", Item={**key, "g": {"S": "x"}, **EVERY_TYPE}, ReturnValues="ALL_OLD")
    db.get_item(TableName="Items", Key=key, ProjectionExpression="m.l[2], b", ReturnConsumedCapacity="TOTAL")
    db.get_item(TableName="Items", Key={**key, "sk": {"S": "none-such"}})
    p = {":p": {"S": "p"}}
    db.query(TableName="Items", KeyConditionExpression="pk = :p", ExpressionAttributeValues=p, Limit=2)
    db.query(TableName="Items", KeyConditionExpression="pk = :p", ExpressionAttributeValues=p, Select="COUNT")
    db.query(
        TableName="Items",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={**p, ":z": {"N": "9"}},
        FilterExpression="n > :z",
    )
    x = {":x": {"S": "x"}}
    db.query(
        TableName="Items",
        IndexName="g-index",
        KeyConditionExpression="g = :x",
        ExpressionAttributeValues=x,
        ReturnConsumedCapacity="INDEXES",
    )
    db.scan(TableName="Items", Limit=3)
    db.batch_get_item(RequestItems={"Items": {"Keys": [key, {**key, "sk": {"S": "none-such"}}]}})
    db.transact_get_items(TransactItems=[{"Get": {"TableName": "Items", "Key": key}}])
    for returned in ("ALL_NEW", "UPDATED_OLD", "NONE"):
        db.update_item(
            TableName="Items",
            Key=key,
            UpdateExpression="SET n = :n",
            ExpressionAttributeValues={":n": {"N": "3"}},
            ReturnValues=returned,
        )
    db.delete_item(TableName="Items", Key=key, ReturnValues="ALL_OLD")

    dumped_ones = {operation for operation, _, _ in both if operation in moto_patches.DUMPED}
    assert dumped_ones == moto_patches.DUMPED - {("dynamodbstreams", "GetRecords")}
    assert [(operation, dumped) for operation, serialized, dumped in both if dumped != serialized] == []
    queries = [serialized for operation, serialized, _ in both if operation == ("dynamodb", "Query")]
    assert [(q["Count"], len(q.get("Items", []))) for q in queries] == [(2, 2), (4, 0), (0, 0), (4, 4)]


# A value of every attribute type, nested ones included.
VALUES = [
    {"S": "x"},
    {"S": ""},
    {"N": "1.50"},
    {"N": "-3"},
    {"B": "AAE="},
    {"BOOL": True},
    {"BOOL": False},
    {"NULL": True},
    {"SS": ["a", "b"]},
    {"NS": ["1", "2.0"]},
    {"BS": ["AAE="]},
    {"L": [{"S": "a"}, {"N": "1"}, {"L": []}]},
    {"M": {"k": {"N": "2"}, "m": {"M": {"x": {"S": "y"}}}}},
]


def test_values_are_compared_as_moto_compares_them():
    from moto.dynamodb.models.dynamo_type import DynamoType

    general = [DynamoType(value).cast_value for value in VALUES]
    keys = [DynamoType({"N": n}) for n in ("10", "9", "-1")] + [DynamoType({"S": s}) for s in ("b", "a", "B")]
    general_order = sorted(keys[:3]) + sorted(keys[3:])

    with moto_patches.applied():
        patched = [DynamoType(value).cast_value for value in VALUES]
        patched_order = sorted(keys[:3]) + sorted(keys[3:])
        equal = [DynamoType(value) == DynamoType(value) for value in VALUES]

    assert [(type(v), v) for v in patched] == [(type(v), v) for v in general]
    assert [k.value for k in patched_order] == [k.value for k in general_order] == ["-1", "9", "10", "B", "a", "b"]
    assert all(equal)


def test_handlers_are_listed_once_per_class_as_moto_lists_them():
    from moto.core import responses
    from moto.dynamodb.responses import DynamoHandler

    listed = responses.method_names_from_class(DynamoHandler)

    with moto_patches.applied():
        first = responses.method_names_from_class(DynamoHandler)
        again = responses.method_names_from_class(DynamoHandler)

    assert first == listed
    assert again is first
    assert "transact_write_items" in first


def test_applied_puts_moto_back_as_it_was():
    import moto.dynamodb.models as models
    from moto.core import responses
    from moto.dynamodb.models.dynamo_type import DynamoType

    def current():
        return (
            DynamoDBStreamsBackend.__init__,
            DynamoDBBackend.transact_write_items,
            ActionResult.execute_result,
            vars(DynamoType)["cast_value"],
            responses.method_names_from_class,
        )

    before = current()

    with moto_patches.applied():
        assert [now is then for now, then in zip(current(), before, strict=True)] == [False] * 5
        assert models.copy is not copy

    assert current() == before
    assert models.copy is copy


def test_the_local_store_refuses_a_moto_it_was_not_written_for_in_one_line_and_patches_nothing(monkeypatch):
    monkeypatch.setattr(moto_patches, "SUPPORTED_MOTO", "5.2.4")
    transact = DynamoDBBackend.transact_write_items

    with pytest.raises(SystemExit) as refused:
        localstore.main(["--port", "0"])

    assert refused.value.code == (
        "devstack.localstore: the local store's patches were written for moto 5.2.4; found 5.2.5: check each patch "
        "in devstack.moto_patches against it, then update SUPPORTED_MOTO"
    )
    assert DynamoDBBackend.transact_write_items is transact
