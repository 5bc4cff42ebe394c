"""Where moto's DynamoDB differs from DynamoDB in ways the app or its tests would notice, and
the patches that make the local store behave as DynamoDB does. Each patch replaces private
names of moto, so it is written for one moto version (SUPPORTED_MOTO) and refuses any other:
after an upgrade, read each patch below against the new moto, then update SUPPORTED_MOTO.
Each says which moto behaviour it works around, so it can be reported upstream. One more
(answers_dumped) changes no answer, only how long moto takes to write those holding items.

`apply()` patches for good (the local store's process); `applied()` patches for a while and
puts moto back (the tests, which run moto in process for everything else).
"""

import base64
import calendar
import copy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata

SUPPORTED_MOTO = "5.2.5"

# AWS forgets a shard iterator 15 minutes after handing it out; here the oldest are forgotten
# past this many (see bound_shard_iterators).
MAX_SHARD_ITERATORS = 1000


class UnsupportedMoto(Exception):
    """The installed moto is not the one the patches were written for."""


def check_version(found: str | None = None) -> None:
    found = found or metadata.version("moto")
    if found != SUPPORTED_MOTO:
        raise UnsupportedMoto(
            f"the local store's patches were written for moto {SUPPORTED_MOTO}; found {found}: check each patch "
            f"in {__name__} against it, then update SUPPORTED_MOTO"
        )


class BoundedIterators(dict):
    """moto's iterator table, keeping the newest MAX_SHARD_ITERATORS; a forgotten iterator
    answers ExpiredIteratorException, as an expired one does on AWS."""

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        while len(self) > MAX_SHARD_ITERATORS:
            del self[next(iter(self))]

    def __missing__(self, key):
        from moto.core.exceptions import JsonRESTError

        raise JsonRESTError("ExpiredIteratorException", "Iterator expired: get a new one with GetShardIterator")


def bound_shard_iterators() -> list[tuple[object, str, object]]:
    """moto (dynamodbstreams/models.py) keeps every shard iterator it hands out, for ever, in
    `DynamoDBStreamsBackend.shard_iterators`, a plain dict, and GetRecords hands out a new
    one on every call: a reader polling twice a second grows the store by megabytes an
    hour. And it answers an unknown iterator with a KeyError (a 500), where AWS answers
    ExpiredIteratorException, which a reader handles by asking for a new one.

    Private names: DynamoDBStreamsBackend.__init__ and its `shard_iterators` attribute (read
    with [] by get_records, written by get_shard_iterator and ShardIterator.get)."""
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    original = DynamoDBStreamsBackend.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.shard_iterators = BoundedIterators()

    return [(DynamoDBStreamsBackend, "__init__", __init__)]


def transactions_undo_in_place() -> list[tuple[object, str, object]]:
    """moto's `DynamoDBBackend.transact_write_items` (dynamodb/models/__init__.py) backs up
    every table a transaction names (`copy.deepcopy` of the whole Table) before it starts,
    and puts the copies in `self.tables` if the transaction is canceled. That costs time in
    proportion to the table's size on every transaction; and the copy brings its own stream
    shard, so readers, whose iterators hold the old shard, never see another record, while
    the canceled transaction's records stay in the shard they read. On AWS a canceled
    transaction writes nothing, to the table or its stream.

    Here the module's `copy` leaves Tables alone (moto's backup becomes the table itself, and
    its restore a no-op); a transaction saves only the items it names and, if it is canceled,
    puts them back and drops the stream records it wrote, in place.

    Private names: moto.dynamodb.models' module global `copy`; DynamoDBBackend.tables and
    transact_write_items; Table (hash_key_attr, range_key_attr, get_item, the `items` layout
    {hash: item} or {hash: {range: item}}, stream_shard); StreamShard.items; DynamoType."""
    import moto.dynamodb.models as models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    class TablesNotCopied:
        """The `copy` module, except that a Table is not deep-copied."""

        def __getattr__(self, name):
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value, memo=None):
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        saved = _saved_items(self, transact_items)
        shards = {id(t): (t.stream_shard, len(t.stream_shard.items)) for t, *_ in saved if t.stream_shard is not None}
        try:
            return original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(saved):
                _put_back(table, hash_value, range_value, item)
            for shard, length in shards.values():
                del shard.items[length:]
            raise

    return [(models, "copy", TablesNotCopied()), (DynamoDBBackend, "transact_write_items", transact_write_items)]


def _saved_items(backend, transact_items) -> list[tuple]:
    """(table, hash, range, a copy of the item or None) for each item the transaction names;
    entries moto will refuse (no such table, a key missing or of the wrong type) are skipped."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved = []
    for entry in transact_items:
        op = next(iter(entry.values())) if isinstance(entry, dict) and entry else {}
        table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
        attributes = (op.get("Key") or op.get("Item")) if table is not None else None
        if not attributes or table.hash_key_attr not in attributes:
            continue
        if table.range_key_attr and table.range_key_attr not in attributes:
            continue
        try:
            hash_value = DynamoType(attributes[table.hash_key_attr])
            range_value = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
            before = copy.deepcopy(table.get_item(hash_value, range_value))
        except Exception:  # a key of the wrong type: moto refuses the transaction itself
            continue
        saved.append((table, hash_value, range_value, before))
    return saved


def _put_back(table, hash_value, range_value, item) -> None:
    holder = table.items[hash_value] if range_value is not None else table.items
    key = range_value if range_value is not None else hash_value
    if item is None:
        holder.pop(key, None)
    else:
        holder[key] = item
    if range_value is not None and not table.items[hash_value]:
        del table.items[hash_value]


def requests_one_at_a_time() -> list[tuple[object, str, object]]:
    """moto's in-process mock (`mock_aws`) answers a request on the calling thread and its
    backend takes no lock: two threads' requests interleave inside it (an index query can
    return an item whose key another request is removing; two conditional writes can both
    pass). Real DynamoDB applies each request atomically, and the local store's server
    serialises them (devstack/localstore.py); this does the same for the mock, whose
    requests the dispatcher's threads make side by side in the tests."""
    from moto.core.botocore_stubber import BotocoreStubber

    original = vars(BotocoreStubber)["process_request"]
    lock = threading.RLock()

    def process_request(self, request):
        with lock:
            return original(self, request)

    return [(BotocoreStubber, "process_request", process_request)]


# The answers moto's serializer is slow to write and answers_dumped writes instead: those
# holding items, whose attribute values are already in the answer's shape.
DUMPED = {
    ("dynamodb", name)
    for name in ("GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "PutItem", "UpdateItem", "DeleteItem")
} | {("dynamodbstreams", "GetRecords")}


def answers_dumped() -> list[tuple[object, str, object]]:
    """Speed, not behaviour: moto writes every answer through its generic serializer
    (moto/core/serialize.py), which walks each attribute of each item against botocore's
    model of the answer, about half a millisecond an item while the store serves nothing
    else. GetRecords took 18 s of the store's 29 s while a reader caught up on 10,000 events,
    and Query and UpdateItem a fifth of its time in the worker and fuzz tests. The answers
    that hold items (DUMPED) are dumped as they are instead (answer_body): the same JSON
    (tests/devstack/test_moto_patches.py compares the two for each), a fraction of the time.

    Private names: ActionResult.execute_result (what BaseResponse.call_action writes an
    answer with, for moto's DynamoResult too) and its `result`; the context's models."""
    from moto.core.responses import ActionResult

    original = vars(ActionResult)["execute_result"]

    def execute_result(self, context):
        service = context.service_model
        if (service.service_name, context.operation_model.name) not in DUMPED or isinstance(self.result, Exception):
            return original(self, context)
        content_type = f"application/x-amz-json-{service.metadata['jsonVersion']}"
        return 200, {"Content-Type": content_type}, answer_body(self.result, context.operation_model.output_shape)

    return [(ActionResult, "execute_result", execute_result)]


def answer_body(result: dict, shape) -> str:
    """The answer as moto's serializer writes it: only the output shape's members (moto adds
    others, DeleteItem a ConsumedCapacityUnits), none that is None, and the two values JSON
    has no type for converted as it converts them."""
    members = {name: result[name] for name in shape.members if result.get(name) is not None}
    return json.dumps(members, default=_wire_value)


def _wire_value(value):
    if isinstance(value, bytes):  # B and BS values, stored decoded
        return base64.b64encode(value).decode()
    if hasattr(value, "timetuple"):  # ApproximateCreationDateTime: epoch seconds, ms truncated
        seconds = calendar.timegm(value.timetuple())
        return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds
    raise TypeError(f"no wire form for {type(value).__name__}")


AS_STORED = frozenset({"S", "B", "BOOL"})  # compared as stored (numbers are Decimal'd)


def values_compared_directly() -> list[tuple[object, str, object]]:
    """Speed, not behaviour: moto compares and hashes attribute values (a query's sort, a key
    condition, an item's key in its table's dicts) through `DynamoType.cast_value`, which
    asks five `is_*` methods before it returns a string as it is: in the fair-delivery test
    those comparisons took a fifth of the store's time. The same values, the common types
    first (tests/devstack/test_moto_patches.py compares both for every type).

    Private names: DynamoType.cast_value (a property) and its `type` and `value`."""
    from decimal import Decimal

    from moto.dynamodb.models.dynamo_type import DynamoType

    general = vars(DynamoType)["cast_value"].fget

    def cast_value(self):
        kind = self.type
        if kind in AS_STORED:
            return self.value
        if kind == "N":
            return Decimal(self.value)
        return general(self)

    return [(DynamoType, "cast_value", property(cast_value))]


def handlers_listed_once() -> list[tuple[object, str, object]]:
    """Speed, not behaviour: on every request moto lists its response class's methods with
    `inspect.getmembers` to check that the action has one (half a millisecond a request,
    always the same list). Listed once per class instead.

    Private names: moto.core.responses.method_names_from_class (imported there from
    moto.core.utils)."""
    import functools

    from moto.core import responses

    original = getattr(responses.method_names_from_class, "__wrapped__", responses.method_names_from_class)
    return [(responses, "method_names_from_class", functools.cache(original))]


def patches() -> list[tuple[object, str, object]]:
    """(owner, name, replacement) for every patch; each is applied by setattr."""
    return [
        *bound_shard_iterators(),
        *transactions_undo_in_place(),
        *requests_one_at_a_time(),
        *answers_dumped(),
        *values_compared_directly(),
        *handlers_listed_once(),
    ]


def apply() -> None:
    check_version()
    for owner, name, replacement in patches():
        setattr(owner, name, replacement)


@contextmanager
def applied() -> Iterator[None]:
    check_version()
    replaced = patches()
    originals = [(owner, name, vars(owner)[name]) for owner, name, _ in replaced]
    try:
        for owner, name, replacement in replaced:
            setattr(owner, name, replacement)
        yield
    finally:
        for owner, name, original in reversed(originals):
            setattr(owner, name, original)
