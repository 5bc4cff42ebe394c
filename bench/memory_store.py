"""The store for bench.cpu's ingests and gets, in process (imported after Django's set-up)."""

import json

from botocore.awsrequest import AWSResponse

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

    def answer(self, request, **kwargs) -> AWSResponse:
        operation = request.headers["X-Amz-Target"].decode().rsplit(".", 1)[1]
        body = json.loads(request.body or b"{}")
        if operation not in ("PutItem", "GetItem") or body.get("TableName") != Event.Meta.table_name:
            return super().answer(request, **kwargs)
        if operation == "PutItem":
            item = body["Item"]
            if len(self.items) < KEPT:
                self.items[(item["tenant_id"]["S"], item["sk"]["S"])] = item
            found = {}
        else:
            item = self.items.get((body["Key"]["tenant_id"]["S"], body["Key"]["sk"]["S"]))
            found = {"Item": item} if item else {}
        response = AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, None)
        response._content = json.dumps(found).encode()
        return response
