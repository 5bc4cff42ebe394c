"""The tables: created with their indexes and TTL, idempotently."""

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
        states.append(TableState(model.Meta.table_name, not existed, ttl.attr_name if ttl else None))
    return states


def _ensure_ttl(model, attribute: str) -> None:
    client = store.client(model)
    described = client.describe_time_to_live(TableName=model.Meta.table_name)["TimeToLiveDescription"]
    if described.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        client.update_time_to_live(
            TableName=model.Meta.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
        )
