"""The tables: created with their indexes, TTL and stream, idempotently."""

from dataclasses import dataclass

from browser.models import BrowserSession
from events.models import Event, IdempotencyRecord
from hooks.models import Delivery, Hook, HookCount, StreamCheckpoint
from tenants.models import ApiKey
from triggerapi import store

# One model per table: each creates its table (keys, indexes, TTL).
MODELS = (ApiKey, Event, BrowserSession, Delivery)
# Every model, several per table: each has its own connection and table settings.
ALL_MODELS = (ApiKey, Event, IdempotencyRecord, BrowserSession, Hook, HookCount, Delivery, StreamCheckpoint)


@dataclass
class TableState:
    name: str
    created: bool
    ttl_attribute: str | None
    # The table's stream (its LatestStreamArn), for the tables that have one.
    stream_arn: str | None = None


def tables_create() -> list[TableState]:
    states = []
    for model in MODELS:
        existed = model.exists()
        if not existed:
            # PynamoDB enables TTL on a table it creates; an existing table is checked below.
            model.create_table(wait=True)
        ttl = model._ttl_attribute()
        if ttl is not None and existed:
            _ensure_ttl(model, ttl.attr_name)
        stream_arn = _ensure_stream(model) if getattr(model.Meta, "stream_view_type", None) else None
        states.append(TableState(model.Meta.table_name, not existed, ttl.attr_name if ttl else None, stream_arn))
    return states


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
            "run create_tables again, and point the stream function at the new ARN (docs/DEPLOY.md)."
        )
    return table["LatestStreamArn"]
