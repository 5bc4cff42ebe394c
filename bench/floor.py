"""The store's own floor: botocore straight to the events table, items shaped exactly like the
app's (`new_event(...).serialize()`), at the load's concurrency. Each API scenario is set
against the floor of the calls it makes, measured just before it."""

import random
import time
import uuid

import botocore.session
from botocore.config import Config

from bench.harness import CONCURRENCY, SECONDS, SMOKE, Measured, load

FLOOR_SECONDS = 1.0 if SMOKE else SECONDS
PAGE = 20  # the list page size the scenarios ask for


class Floor:
    def __init__(self, store_url: str):
        from events.models import Event

        self.table = Event.Meta.table_name
        self.db = botocore.session.get_session().create_client(
            "dynamodb",
            endpoint_url=store_url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(max_pool_connections=CONCURRENCY * 2, retries={"max_attempts": 0}),
        )

    def item(self, tenant: str) -> dict:
        from events.ids import new_event_ids
        from events.lifecycle import new_event

        return new_event(tenant, new_event_ids(1)[0], {"event_type": "bench", "n": 1}).serialize()

    def put(self) -> Measured:
        tenant = f"floor-{uuid.uuid4().hex[:6]}"

        def op():
            item = self.item(tenant)
            self.db.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(sk)")
            return 1

        return load(lambda n: op, FLOOR_SECONDS)

    def get(self, keys: list[dict]) -> Measured:
        return load(
            lambda n: lambda: bool(self.db.get_item(TableName=self.table, Key=random.choice(keys))["Item"]),
            FLOOR_SECONDS,
        )

    def query(self, tenant: str) -> Measured:
        def op():
            self.db.query(
                TableName=self.table,
                IndexName="status-index",
                KeyConditionExpression="tenant_status = :t",
                ExpressionAttributeValues={":t": {"S": f"{tenant}#undelivered"}},
                Limit=PAGE + 1,
            )
            return 1

        return load(lambda n: op, FLOOR_SECONDS)

    def update(self, keys: list[dict]) -> Measured:
        def op():
            self.db.update_item(
                TableName=self.table,
                Key=random.choice(keys),
                UpdateExpression="SET lease_expires_at = :l",
                ConditionExpression="attribute_exists(sk)",
                ExpressionAttributeValues={":l": {"N": str(int(time.time() * 1000))}},
            )
            return 1

        return load(lambda n: op, FLOOR_SECONDS)

    def keys(self, count: int = 100) -> list[dict]:
        """Events written straight to the store, in a tenant of their own, for the get and
        update floors (updating the scenarios' own events would change what they read)."""
        tenant, keys = f"floor-{uuid.uuid4().hex[:6]}", []
        for _ in range(count):
            item = self.item(tenant)
            self.db.put_item(TableName=self.table, Item=item)
            keys.append({"tenant_id": item["tenant_id"], "sk": item["sk"]})
        return keys

    def size(self, partition: int) -> str:
        """The table's size (moto's index queries read every item of the table, so it
        matters here) and the tenant's partition."""
        items = self.db.describe_table(TableName=self.table)["Table"]["ItemCount"]
        return f"table {items} items, partition {partition}"
