"""Bodies however they are framed: chunked bodies are read within the endpoint's limit (or
411 where the server cannot de-chunk them), and compressed bodies are 415, never misread.
Over real HTTP, tests/integration/test_chunked.py sends chunked bodies to gunicorn."""

import gzip
import io
import json

import pytest

from events.models import Event

CHUNKED = {"HTTP_TRANSFER_ENCODING": "chunked", "CONTENT_LENGTH": ""}


class EndlessBody:
    """A chunked body that never ends, counting what the server read of it."""

    def __init__(self):
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "an unbounded read of an endless body"
        self.read_bytes += size
        return b" " * size

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def post_chunked(client, path: str, stream, *, terminated: bool = True):
    environ = {**CHUNKED, "wsgi.input": stream}
    if terminated:
        environ["wsgi.input_terminated"] = True
    return client.generic("POST", path, content_type="application/json", **environ)


def test_a_chunked_body_is_read_where_the_server_has_de_chunked_it(acme):
    response = post_chunked(acme, "/v1/events", io.BytesIO(b'{"event_type": "chunked"}'))

    assert response.status_code == 201
    assert acme.get(f"/v1/events/{response.json()['id']}").json()["payload"] == {"event_type": "chunked"}


@pytest.mark.parametrize("path,limit", [("/v1/events", 262_144), ("/v1/events/batch", 1_048_576)])
def test_an_endless_chunked_body_is_413_after_reading_one_byte_past_the_limit(acme, path, limit):
    body = EndlessBody()

    response = post_chunked(acme, path, body)

    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "payload_too_large",
        "message": f"The request body is more than {limit} bytes, the limit.",
        "details": {},
    }
    assert body.read_bytes == limit + 1
    assert list(Event.scan()) == []


def test_an_empty_chunked_body_is_malformed_json(acme):
    response = post_chunked(acme, "/v1/events", io.BytesIO(b""))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


def test_an_empty_chunked_options_body_means_the_defaults(acme, create_event):
    event_id = create_event(acme)

    response = post_chunked(acme, "/v1/events/claim", io.BytesIO(b""))

    assert response.status_code == 200
    assert [event["id"] for event in response.json()["events"]] == [event_id]


def test_a_chunked_body_the_server_has_not_de_chunked_is_411_not_empty(acme):
    response = post_chunked(acme, "/v1/events", io.BytesIO(b'{"a": 1}'), terminated=False)

    assert response.status_code == 411
    assert response.json()["error"] == {
        "code": "length_required",
        "message": "This server cannot read a chunked request body; send it with a Content-Length header.",
        "details": {},
    }
    assert list(Event.scan()) == []


@pytest.mark.parametrize(
    "path,body",
    [
        ("/v1/events", {"a": 1}),
        ("/v1/events/batch", {"events": [{"a": 1}]}),
        ("/v1/events/claim", {"limit": 1}),
        ("/v1/events/ack", {"ids": ["evt_01JD7Z8X4Q2N3M5P6R7S8T9V0W"]}),
    ],
)
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "identity, gzip"])
def test_a_compressed_body_is_415_naming_the_encoding(acme, path, body, encoding):
    compressed = gzip.compress(json.dumps(body).encode())

    response = acme.generic("POST", path, compressed, content_type="application/json", HTTP_CONTENT_ENCODING=encoding)

    named = encoding.removeprefix("identity, ")
    assert response.status_code == 415
    assert response.json()["error"] == {
        "code": "unsupported_media_type",
        "message": f"Content-Encoding {named} is not supported; send the body uncompressed.",
        "details": {},
    }
    assert list(Event.scan()) == []


def test_identity_content_encoding_is_the_body_as_sent(acme):
    response = acme.generic(
        "POST", "/v1/events", b'{"a": 1}', content_type="application/json", HTTP_CONTENT_ENCODING="identity"
    )

    assert response.status_code == 201
