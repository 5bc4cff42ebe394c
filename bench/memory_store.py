"""The store for bench.cpu's ingests and gets, in process (imported after Django's set-up)."""

from events.models import Event
from triggerapi.warmup import StubStore

KEPT = 100  # events kept, for the gets to read


class MemoryStore(StubStore):
    """botocore's `before-send` answers every call (registered first, so neither moto nor a
    connection sees it): the key's record, the first KEPT events put, and everything else as
    a store that holds nothing would (the SnapStart warm-up's StubStore)."""

    def __init__(self, key: str, *, tenant_id: str):
        super().__init__(key, tenant_id=tenant_id)
        self.items: dict[tuple[str, str], dict] = {}

    def reply(self, operation: str, body: dict) -> dict:
        if operation not in ("PutItem", "GetItem") or body.get("TableName") != Event.Meta.table_name:
            return super().reply(operation, body)
        if operation == "PutItem":
            item = body["Item"]
            if len(self.items) < KEPT:
                self.items[(item["tenant_id"]["S"], item["sk"]["S"])] = item
            return {}
        item = self.items.get((body["Key"]["tenant_id"]["S"], body["Key"]["sk"]["S"]))
        return {"Item": item} if item else {}
