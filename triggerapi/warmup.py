"""The init does the work on the API stage (docs/DEPLOY.md, "The init does the work").

With SnapStart Lambda runs a version's init once, snapshots the process, and starts every
instance from that snapshot: whatever a first request sets up on first use (Django's URL
resolver and views, DRF's serializers and renderers, each table's botocore client with
DynamoDB's API loaded, PynamoDB's serialisers, the rate limiter) is better done in the init.
`warm` serves one authenticated request per router (an ingest, the events list, the hooks
list) through the WSGI application, against a stub store: botocore's `before-send` answers
every call as DynamoDB would for a tenant that holds nothing (and the key's own record for
its lookup), so nothing leaves the process and nothing is written. Then it forgets them: the
key (random, never stored, unknown to any store) leaves the key cache, the rate limiter's
buckets and every log line and metric the requests wrote are dropped. The before-snapshot
hooks (triggerapi/thaw.py) let the pools' threads go after it, and the after-restore hooks
make new store connections in each instance.

Only for a snapshot (AWS_LAMBDA_INITIALIZATION_TYPE is `snap-start`): on any other start the
warm-up would add to the cold start what it saves the first request."""

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.awsrequest import AWSResponse
from django.conf import settings
from django.core.cache import cache

from tenants.keys import generate_key
from tenants.models import SCOPES, ApiKey
from tenants.services import api_key_record
from triggerapi import store
from triggerapi.tables import all_models
from triggerapi.wsgi_environ import wsgi_environ

logger = logging.getLogger(__name__)

# (method, path, body, the status it answers): one request per router.
REQUESTS = (
    ("POST", "/v1/events", {"event_type": "triggerapi.warmup"}, 201),
    ("GET", "/v1/events?limit=1", None, 200),
    ("GET", "/v1/hooks", None, 200),
)
EMPTY = {
    "Query": {"Items": [], "Count": 0, "ScannedCount": 0},
    "Scan": {"Items": [], "Count": 0, "ScannedCount": 0},
    "BatchWriteItem": {"UnprocessedItems": {}},
    "TransactGetItems": {"Responses": []},
}


# Not a tenant id anyone can have (tenants.keys.TENANT_ID_RE): nothing cached for it can be
# taken for a real tenant's.
WARMUP_TENANT = "~warmup"


def wanted() -> bool:
    return os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start"


def warm(application) -> list[int]:
    """The three requests served, then forgotten; their statuses (a warm-up that did not get
    the answers it expects says so in one warning, and the init goes on)."""
    key = generate_key()
    stub = StubStore(key)
    statuses = []
    with stub.installed(), _silent():
        for method, path, body, _ in REQUESTS:
            statuses.append(_serve(application, method, path, body, key))
    cache.clear()
    from limits.buckets import BUCKETS

    BUCKETS.forget()
    expected = [status for *_, status in REQUESTS]
    if statuses != expected:
        logger.warning("warm-up answered %s, not %s", statuses, expected)
    return statuses


class StubStore:
    """Answers every store call of the warm-up in place of DynamoDB (botocore's `before-send`,
    after the request is signed and serialised, before a connection is asked for; among the
    first handlers, so that it answers before anything else would send)."""

    def __init__(self, key: str, *, tenant_id: str = WARMUP_TENANT):
        record = api_key_record(key, tenant_id=tenant_id, scopes=SCOPES)
        self.key_hash = record.key_hash
        self.key_item = record.serialize()
        self.key_table = ApiKey.Meta.table_name

    @contextmanager
    def installed(self) -> Iterator[None]:
        systems = [store.client(model).meta.events for model in all_models()]
        for events in systems:
            events.register_first("before-send.dynamodb", self.answer)
        try:
            yield
        finally:
            for events in systems:
                events.unregister("before-send.dynamodb", self.answer)

    def answer(self, request, **kwargs) -> AWSResponse:
        operation = request.headers["X-Amz-Target"].decode().rsplit(".", 1)[1]
        answer = self.reply(operation, json.loads(request.body or b"{}"))
        response = AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, None)
        response._content = json.dumps(answer).encode()
        return response

    def reply(self, operation: str, body: dict) -> dict:
        """DynamoDB's answer to `operation` with this request `body`."""
        if operation == "GetItem" and body.get("TableName") == self.key_table:
            if body["Key"]["key_hash"]["S"] == self.key_hash:
                return {"Item": self.key_item}
        elif operation == "BatchGetItem":
            return {"Responses": {table: [] for table in body["RequestItems"]}, "UnprocessedKeys": {}}
        return EMPTY.get(operation, {})


def _serve(application, method: str, path: str, body: dict | None, key: str) -> int:
    data = json.dumps(body).encode() if body is not None else b""
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json", "Content-Type": "application/json"}
    return wsgi_request(application, method, path, data, headers, host=_allowed_host())[0]


def wsgi_request(application, method: str, path: str, data: bytes, headers: dict, *, host: str) -> tuple[int, bytes]:
    """One request straight through a WSGI application, as a server would hand it over (no
    test client between them): its status and body."""
    environ = wsgi_environ(
        method,
        path,
        data,
        headers.items(),
        server=(host, 443),
        remote=("127.0.0.1", 0),
        scheme="https",
        multithread=False,
    )
    environ["HTTP_HOST"] = host
    answered: list[str] = []
    chunks = application(environ, lambda status, headers, exc_info=None: answered.append(status))
    try:
        content = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return int(answered[0].split()[0]), content


def _allowed_host() -> str:
    """A host the app serves (ALLOWED_HOSTS: a name as it is, a `.domain` with a name in
    front of it)."""
    for host in settings.ALLOWED_HOSTS:
        if host != "*":
            return f"warmup{host}" if host.startswith(".") else host
    return "localhost"


@contextmanager
def _silent() -> Iterator[None]:
    """No log line (the requests' own, their metrics) while the warm-up runs: none of it
    happened to any tenant."""
    level = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(level)
