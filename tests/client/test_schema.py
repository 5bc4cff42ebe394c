"""The client's dataclasses against the served OpenAPI schema (drf-spectacular's, as
tests/test_openapi.py reads it): every field of an answer is a field of the dataclass the
client reads it into, and the reverse, nested objects too; and every operation of the API
has its place in the client."""

from dataclasses import dataclass, fields, is_dataclass
from typing import get_args, get_origin, get_type_hints

import pytest
from rest_framework.test import APIClient

from triggerapi_client import (
    Acked,
    Attempt,
    CreatedHook,
    Delivery,
    DeliveryPage,
    Event,
    HistoryPage,
    Hook,
    HookPage,
    LeasedEvent,
    Me,
    Page,
    Receipt,
    Series,
    Stats,
    TestResult,
)

# Every operation under /v1/ and what the client reads its answer into: a dataclass, the
# dataclass of the items of a list in the answer, or None (the client returns nothing, or
# a plain value: replay's count, a rotated secret).
READ_AS = {
    ("get", "/v1/me"): Me,
    ("post", "/v1/events"): Receipt,
    ("post", "/v1/events/batch"): ("events", Receipt),
    ("get", "/v1/events"): Page,
    ("get", "/v1/events/{event_id}"): Event,
    ("delete", "/v1/events/{event_id}"): None,
    ("post", "/v1/events/{event_id}/ack"): None,
    ("post", "/v1/events/ack"): Acked,
    ("post", "/v1/events/claim"): ("events", LeasedEvent),
    ("post", "/v1/events/{event_id}/release"): Event,
    ("post", "/v1/events/{event_id}/extend"): LeasedEvent,
    ("post", "/v1/events/{event_id}/retry"): Event,
    ("post", "/v1/events/replay"): None,
    ("get", "/v1/events/{event_id}/history"): HistoryPage,
    ("get", "/v1/stats"): Stats,
    ("get", "/v1/stats/series"): Series,
    ("post", "/v1/hooks"): CreatedHook,
    ("get", "/v1/hooks"): HookPage,
    ("get", "/v1/hooks/{hook_id}"): Hook,
    ("patch", "/v1/hooks/{hook_id}"): Hook,
    ("delete", "/v1/hooks/{hook_id}"): None,
    ("post", "/v1/hooks/{hook_id}/rotate-secret"): None,
    ("post", "/v1/hooks/{hook_id}/test"): TestResult,
    ("get", "/v1/hooks/{hook_id}/deliveries"): DeliveryPage,
    ("get", "/v1/hooks/{hook_id}/deliveries/{delivery_id}"): Delivery,
    ("get", "/v1/hooks/{hook_id}/deliveries/{delivery_id}/attempts"): ("attempts", Attempt),
    ("post", "/v1/hooks/{hook_id}/deliveries/{delivery_id}/retry"): Delivery,
}


@pytest.fixture(scope="module")
def schema() -> dict:
    response = APIClient().get("/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def resolved(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def answer(schema: dict, method: str, path: str) -> dict:
    """The schema of the operation's successful answer."""
    responses = sorted(schema["paths"][path][method]["responses"].items())
    body = next(r["content"]["application/json"]["schema"] for status, r in responses if status.startswith("2"))
    return resolved(schema, body)


def nested(kind) -> type | None:
    """The dataclass a field holds, itself or as the items of a list."""
    if get_origin(kind) is list:
        kind = get_args(kind)[0]
    return kind if is_dataclass(kind) else None


def mismatches(schema: dict, node: dict, cls: type, where: str) -> list[str]:
    """Every field the schema's object and the dataclass do not share, at any depth."""
    properties = node.get("properties", {})
    kinds = get_type_hints(cls)
    body = {f.name: kinds[f.name] for f in fields(cls) if not f.metadata.get("client_side")}
    found = [f"{where}.{name}: in the schema, not in {cls.__name__}" for name in properties.keys() - body.keys()]
    found += [f"{where}.{name}: in {cls.__name__}, not in the schema" for name in body.keys() - properties.keys()]
    for name in sorted(properties.keys() & body.keys()):
        prop = resolved(schema, properties[name])
        prop = resolved(schema, prop["items"]) if prop.get("type") == "array" else prop
        inner = nested(body[name])
        if inner is not None:
            found += mismatches(schema, prop, inner, f"{where}.{name}")
        elif "properties" in prop:
            found.append(f"{where}.{name}: an object in the schema, not a dataclass in {cls.__name__}")
    return sorted(found)


def test_every_operation_of_the_api_has_its_place_in_the_client(schema):
    served = {(method, path) for path, methods in schema["paths"].items() for method in methods}

    assert {operation for operation in served if operation[1].startswith("/v1/")} == READ_AS.keys()


@pytest.mark.parametrize("operation", [op for op, read_as in READ_AS.items() if read_as is not None], ids=" ".join)
def test_each_dataclass_has_exactly_the_fields_of_the_answer_it_reads(schema, operation):
    read_as = READ_AS[operation]
    body = answer(schema, *operation)
    if isinstance(read_as, tuple):
        key, read_as = read_as
        body = resolved(schema, body["properties"][key]["items"])

    assert mismatches(schema, body, read_as, " ".join(operation)) == []


def test_a_field_missing_on_either_side_is_named(schema):
    @dataclass
    class Stale:
        id: str
        lease_id: str

    found = mismatches(schema, answer(schema, "get", "/v1/events/{event_id}"), Stale, "event")

    assert "event.lease_id: in Stale, not in the schema" in found
    assert "event.available_at: in the schema, not in Stale" in found
    assert "event.id" not in " ".join(found)
