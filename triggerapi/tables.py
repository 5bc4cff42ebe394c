"""The tables the apps keep: each app declares its own on its AppConfig (`tables`, set in
`ready()`), and this module creates them with their indexes, TTL and stream, idempotently."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from pynamodb.attributes import Attribute
from pynamodb.indexes import Index
from pynamodb.models import Model

from triggerapi import store
from triggerapi.indexes import KeyedIndex
from triggerapi.registry import declared

# How often `create_tables` looks whether DynamoDB has finished with a table before it asks
# for the next change (it takes one at a time).
POLL_SECONDS = 5.0


class NotReady(Exception):
    """A table answers, but what it holds says this process cannot serve (`check` names the
    check that failed, for /health/ready)."""

    def __init__(self, message: str, *, check: str):
        super().__init__(message)
        self.check = check


@dataclass(frozen=True)
class Table:
    """One table an app keeps. `model` defines it (keys, indexes, TTL, stream); `others` are
    the models of the other kinds of item stored in it, each with its own connection.
    `prepare` runs after create_tables made it (what it returns is said beside the table);
    `ready`, the readiness check's read of it, raises NotReady (a table without one is
    ready when a read of a missing item answers)."""

    model: type[Model]
    others: tuple[type[Model], ...] = ()
    # Indexes added by `create_tables` to the table, new or existing (triggerapi.indexes).
    indexes: tuple[KeyedIndex, ...] = ()
    prepare: Callable[[], str | None] | None = None
    ready: Callable[[], None] | None = None


def tables() -> list[Table]:
    return declared("tables")


def table_models() -> list[type[Model]]:
    """One model per table, the one that creates it."""
    return [table.model for table in declared("tables")]


def all_models() -> list[type[Model]]:
    """Every model of every table."""
    return [model for table in declared("tables") for model in (table.model, *table.others)]


def key_attributes(model: type[Model], index: Index | None = None) -> list[Attribute]:
    """The attributes a key of the table names (hash, then range), with an index's own in
    front for a key of that index: what DynamoDB's LastEvaluatedKey of a query holds."""
    keys = _hash_then_range(model.get_attributes().values())
    if index is None:
        return keys
    own = _hash_then_range(index.Meta.attributes.values())
    return own + [key for key in keys if key.attr_name not in {attribute.attr_name for attribute in own}]


def _hash_then_range(attributes) -> list[Attribute]:
    return [a for a in attributes if a.is_hash_key] + [a for a in attributes if a.is_range_key]


@dataclass
class TableState:
    name: str
    created: bool
    ttl_attribute: str | None
    # The table's stream (its LatestStreamArn), for the tables that have one.
    stream_arn: str | None = None
    # The indexes this run added (DynamoDB built them online from the items already there).
    indexes_created: list[str] = field(default_factory=list)
    # What the table's `prepare` said.
    note: str | None = None
    # Point-in-time recovery and deletion protection are on (PROTECT_TABLES).
    protected: bool = False


def tables_create() -> list[TableState]:
    states = []
    for table in tables():
        model = table.model
        existed = model.exists()
        if not existed:
            # PynamoDB enables TTL on a table it creates; an existing table is checked below.
            model.create_table(wait=True)
        ttl = model._ttl_attribute()
        if ttl is not None and existed:
            _ensure_ttl(model, ttl.attr_name)
        stream_arn = _ensure_stream(model) if getattr(model.Meta, "stream_view_type", None) else None
        indexes = _ensure_indexes(model, table.indexes)
        if settings.PROTECT_TABLES:
            _ensure_protected(model)
        note = table.prepare() if table.prepare else None
        states.append(
            TableState(
                model.Meta.table_name,
                not existed,
                ttl.attr_name if ttl else None,
                stream_arn,
                indexes,
                note,
                protected=settings.PROTECT_TABLES,
            )
        )
    return states


def _ensure_indexes(model, indexes: tuple[KeyedIndex, ...]) -> list[str]:
    """Adds each index the table lacks, one UpdateTable at a time, and waits until DynamoDB
    has built them: reads of an index still being built fail. On a large table that takes a
    while; stopping and running again goes on where it was."""
    client = store.client(model)
    name = model.Meta.table_name
    existing = {index["IndexName"] for index in _settled(client, name).get("GlobalSecondaryIndexes", [])}
    created = []
    for index in indexes:
        if index.name not in existing:
            client.update_table(TableName=name, **index.create_request())
            created.append(index.name)
            _settled(client, name)
    return created


def _settled(client, name: str) -> dict:
    """The table's description once it is ACTIVE with every index ACTIVE."""
    while True:
        table = client.describe_table(TableName=name)["Table"]
        indexes = table.get("GlobalSecondaryIndexes", [])
        if table["TableStatus"] == "ACTIVE" and all(index["IndexStatus"] == "ACTIVE" for index in indexes):
            return table
        time.sleep(POLL_SECONDS)


def _ensure_protected(model) -> None:
    """Deletion protection and point-in-time recovery, which PynamoDB's create_table cannot
    ask for: a mistyped delete-table is refused, and a table can be restored to any second of
    the last 35 days. Each is turned on only where it is off, once the table is active."""
    client = store.client(model)
    name = model.Meta.table_name
    waiter = client.get_waiter("table_exists")  # waits for ACTIVE
    waiter.wait(TableName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 60})
    if not client.describe_table(TableName=name)["Table"].get("DeletionProtectionEnabled"):
        client.update_table(TableName=name, DeletionProtectionEnabled=True)
        waiter.wait(TableName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 60})
    backups = client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    if backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus") != "ENABLED":
        client.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )


def _ensure_ttl(model, attribute: str) -> None:
    client = store.client(model)
    described = client.describe_time_to_live(TableName=model.Meta.table_name)["TimeToLiveDescription"]
    if described.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        client.update_time_to_live(
            TableName=model.Meta.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
        )


class StreamMismatch(Exception):
    """The table's stream shows less than the model needs; only a person can replace it
    (disabling a stream loses its records, and its consumers follow its ARN)."""


def _ensure_stream(model) -> str:
    """Enables the model's stream on a table created before it had one; returns the
    stream's ARN. A table created by `create_table` already has it."""
    wanted = model.Meta.stream_view_type
    client = store.client(model)
    table = client.describe_table(TableName=model.Meta.table_name)["Table"]
    spec = table.get("StreamSpecification") or {}
    if not spec.get("StreamEnabled"):
        table = client.update_table(
            TableName=model.Meta.table_name,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": wanted},
        )["TableDescription"]
    elif spec.get("StreamViewType") not in (wanted, "NEW_AND_OLD_IMAGES"):
        raise StreamMismatch(
            f"{model.Meta.table_name} has a {spec.get('StreamViewType')} stream, and push delivery needs "
            f"{wanted}: disable the stream (update-table --stream-specification StreamEnabled=false), "
            "run create_tables again, point the stream function at the new ARN and hand over the events "
            "made meanwhile with stream_catch_up (docs/DEPLOY.md, 'Switching an existing stream')."
        )
    return table["LatestStreamArn"]
