"""Secondary indexes that exist for a filter to be a key condition: what they are keyed by,
how `create_tables` adds one to a table that lacks it, and how they are read.

They are declared here rather than as PynamoDB indexes because PynamoDB 6 declares one
attribute per key, and an index such as "a hook's deliveries in one status" is keyed by two
existing attributes at once (DynamoDB's multi-attribute keys): no new attribute to write, and
DynamoDB fills the index from the items a table already holds. Each read is one store call,
built flat (`a = :a AND b = :b AND sk < :c`): PynamoDB nests the key conditions it builds.

Most of them project keys only, so that an item's updates cost the index nothing unless they
change its keys; the items themselves come from one BatchGetItem (`items_get`)."""

from collections.abc import Iterator
from dataclasses import dataclass

from pynamodb.attributes import Attribute
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from triggerapi import store


def table_key_names(model: type[Model]) -> list[str]:
    attributes = model.get_attributes().values()
    return [a.attr_name for a in attributes if a.is_hash_key] + [a.attr_name for a in attributes if a.is_range_key]


@dataclass(frozen=True)
class KeyedIndex:
    """A global secondary index: its partition key (one or more attributes, all compared for
    equality), its sort key, and the attributes it projects besides the keys (none: keys only)."""

    name: str
    hash_keys: tuple[Attribute, ...]
    range_key: Attribute
    projected: tuple[str, ...] = ()

    def _keys(self) -> list[tuple[Attribute, str]]:
        return [(attribute, "HASH") for attribute in self.hash_keys] + [(self.range_key, "RANGE")]

    def create_request(self) -> dict:
        """UpdateTable's arguments that add the index to an existing table."""
        projection = {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(self.projected)}
        definition = {
            "IndexName": self.name,
            "KeySchema": [{"AttributeName": a.attr_name, "KeyType": kind} for a, kind in self._keys()],
            "Projection": projection if self.projected else {"ProjectionType": "KEYS_ONLY"},
        }
        return {
            "AttributeDefinitions": [
                {"AttributeName": a.attr_name, "AttributeType": a.attr_type} for a, _ in self._keys()
            ],
            "GlobalSecondaryIndexUpdates": [{"Create": definition}],
        }

    def key_names(self, model: type[Model]) -> list[str]:
        """What a LastEvaluatedKey of the index holds: its own keys, then the table's."""
        own = [attribute.attr_name for attribute, _ in self._keys()]
        return own + [name for name in table_key_names(model) if name not in own]

    def key_of(self, item: Model) -> dict:
        """The item's key in the index (to start a query after it)."""
        values = item.serialize(null_check=False)
        return {name: values[name] for name in self.key_names(type(item))}

    def position(self, model: type[Model], item: dict) -> dict:
        """An item's key (a raw item, or a LastEvaluatedKey) without the partition's own
        attributes, which the query names anyway, nor projected ones: what a cursor needs to
        carry (a 255-character event type would not fit in one)."""
        partition = {attribute.attr_name for attribute in self.hash_keys}
        return {name: item[name] for name in self.key_names(model) if name not in partition}

    def start_key(self, hash_values: tuple, position: dict) -> dict:
        partition = {
            a.attr_name: {a.attr_type: a.serialize(v)} for a, v in zip(self.hash_keys, hash_values, strict=True)
        }
        return {**position, **partition}

    def query(
        self,
        model: type[Model],
        hash_values: tuple,
        *,
        limit: int,
        range_key_condition: Condition | None = None,
        filter_condition: Condition | None = None,
        scan_index_forward: bool = True,
        start: dict | None = None,
    ) -> tuple[list[dict], dict | None]:
        """One Query: the raw items it returned and its LastEvaluatedKey."""
        names: dict[str, str] = {}
        values: dict[str, dict] = {}
        keys = [attribute == value for attribute, value in zip(self.hash_keys, hash_values, strict=True)]
        keys += [range_key_condition] if range_key_condition is not None else []
        request = {
            "TableName": model.Meta.table_name,
            "IndexName": self.name,
            "KeyConditionExpression": " AND ".join(key.serialize(names, values) for key in keys),
            "ScanIndexForward": scan_index_forward,
            "Limit": limit,
        }
        if filter_condition is not None:
            request["FilterExpression"] = filter_condition.serialize(names, values)
        if start is not None:
            request["ExclusiveStartKey"] = start
        request |= {"ExpressionAttributeNames": {v: k for k, v in names.items()}, "ExpressionAttributeValues": values}
        response = store.client(model).query(**request)
        return response.get("Items", []), response.get("LastEvaluatedKey")

    def iterate(self, model: type[Model], hash_values: tuple, *, page_size: int, **options) -> Iterator[dict]:
        """Every matching item, in index order, one Query per `page_size` items read, as
        PynamoDB's query iterator reads (for a caller that stops when it has enough)."""
        start = options.pop("start", None)
        while True:
            items, start = self.query(model, hash_values, limit=page_size, start=start, **options)
            yield from items
            if start is None:
                return


def items_get(model: type[Model], keys: list[dict]) -> tuple[dict[tuple, dict], list[dict]]:
    """One BatchGetItem, read consistently (an item an index names is found in the table):
    the items found by their table key (`table_key(model, item)`) and the keys the store left
    unprocessed (over 16 MB, or throttled), which the caller reads another time. PynamoDB's
    `batch_get` would read those on at once, making the number of calls unbounded."""
    if not keys:
        return {}, []
    table = model.Meta.table_name
    names = table_key_names(model)
    request = {table: {"Keys": [{name: key[name] for name in names} for key in keys], "ConsistentRead": True}}
    response = store.client(model).batch_get_item(RequestItems=request)
    found = {table_key(model, item): item for item in response.get("Responses", {}).get(table, [])}
    return found, response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])


def table_key(model: type[Model], item: dict) -> tuple:
    return tuple(next(iter(item[name].values())) for name in table_key_names(model))
