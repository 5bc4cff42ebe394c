"""Chunked request bodies over real HTTP: gunicorn de-chunks them, the API reads them within
the endpoint's limit. (Django alone reads a body without Content-Length as empty.)"""

import http.client
import json
from urllib.parse import urlsplit

import pytest


def post_chunked(live_url: str, key: str, path: str, chunks: list[bytes]) -> tuple[int, dict]:
    """POST with `Transfer-Encoding: chunked` and no Content-Length, one chunk per item."""
    url = urlsplit(live_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        connection.request(
            "POST",
            path,
            body=iter(chunks),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def split(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


@pytest.fixture
def tenant(live_url, new_key, api_for):
    tenant_id, key = new_key()
    return key, api_for(tenant_id)


def test_a_chunked_create_is_201_and_stores_the_payload_sent(live_url, tenant):
    key, api = tenant
    payload = {"event_type": "customer.created", "email": "alice@acme.com", "note": "é" * 50}

    status, body = post_chunked(live_url, key, "/v1/events", split(json.dumps(payload).encode(), 7))

    assert (status, set(body)) == (201, {"id", "created_at", "status"})
    assert api.get(f"/v1/events/{body['id']}").json()["payload"] == payload


def test_a_chunked_batch_is_201_with_a_receipt_per_payload_in_order(live_url, tenant):
    key, api = tenant
    payloads = [{"n": n, "pad": "x" * 1000} for n in range(20)]

    status, body = post_chunked(
        live_url, key, "/v1/events/batch", split(json.dumps({"events": payloads}).encode(), 4096)
    )

    assert status == 201
    ids = [receipt["id"] for receipt in body["events"]]
    listed = api.get("/v1/events", params={"status": "undelivered", "limit": 100}).json()["events"]
    assert [(event["id"], event["payload"]) for event in listed] == list(zip(ids, payloads, strict=True))


@pytest.mark.parametrize("path,limit", [("/v1/events", 262_144), ("/v1/events/batch", 1_048_576)])
def test_a_chunked_body_over_the_limit_is_413_and_nothing_is_stored(live_url, tenant, path, limit):
    key, api = tenant
    body = json.dumps({"events": [{"pad": "x" * (limit // 2)}] * 3}).encode()

    status, answer = post_chunked(live_url, key, path, split(body, 65_536))

    assert status == 413
    assert answer["error"] == {
        "code": "payload_too_large",
        "message": f"The request body is more than {limit} bytes, the limit.",
        "details": {},
    }
    assert api.get("/v1/events").json()["events"] == []
