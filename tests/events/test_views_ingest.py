import json

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.urls import set_script_prefix

from events.models import Event
from triggerapi.wsgi_environ import wsgi_environ


def post_raw(client, body: bytes | str, content_type: str = "application/json", **headers):
    return client.generic("POST", "/v1/events", body, content_type=content_type, **headers)


def error(response) -> dict:
    return response.json()["error"]


def test_create_returns_201_with_id_time_status_and_location(acme):
    response = acme.post("/v1/events", {"event_type": "customer.created", "email": "a@acme.com"}, format="json")

    body = response.json()
    assert response.status_code == 201
    assert set(body) == {"id", "created_at", "status"}
    assert body["id"].startswith("evt_") and len(body["id"]) == 30
    assert isinstance(body["created_at"], int)
    assert body["status"] == "undelivered"
    assert response["Location"] == f"http://testserver/v1/events/{body['id']}"


def test_created_event_is_stored_with_its_payload_and_event_type(acme):
    event_id = acme.post("/v1/events", {"event_type": "order.paid", "n": 1}, format="json").json()["id"]

    response = acme.get(f"/v1/events/{event_id}")

    body = response.json()
    assert response.status_code == 200
    assert body == {
        "id": event_id,
        "created_at": body["created_at"],
        "status": "undelivered",
        "payload": {"event_type": "order.paid", "n": 1},
        "event_type": "order.paid",
        "attempts": 0,
        "lease_expires_at": None,
        "delivered_at": None,
        "available_at": body["created_at"],
    }


@pytest.mark.parametrize("event_type", [123, None, {"a": 1}, ["x"]])
def test_event_type_is_null_unless_the_payload_has_a_string_event_type(acme, create_event, event_type):
    event_id = create_event(acme, {"event_type": event_type})

    assert acme.get(f"/v1/events/{event_id}").json()["event_type"] is None


def test_ids_sort_by_creation(acme, create_event):
    ids = [create_event(acme) for _ in range(5)]

    assert ids == sorted(ids)


FIDELITY_PAYLOAD = {
    "int": 42,
    "negative": -7,
    "zero": 0,
    "big_int": 2**100,
    "huge_negative": -(10**40),
    "float": 0.1,
    "float_whole": 1.0,
    "tiny": 5e-324,
    "max_double": 1.7976931348623157e308,
    "negative_zero": -0.0,
    "exp": 6.02214076e23,
    "unicode": "héllo wörld – 日本語 – עברית – 🎉👩‍👩‍👧 – e\u0301",
    "control": 'tab\tnewline\nnul\u0000quote"backslash\\',
    "null": None,
    "true": True,
    "false": False,
    "empty_string": "",
    "empty_object": {},
    "empty_array": [],
    "mixed_array": [1, 1.5, "two", None, [], {}, [[[]]]],
    "nested": {"a": {"b": {"c": {"d": [{"e": "deep"}]}}}},
}


def deep(levels: int):
    value: dict | list = {"leaf": True}
    for i in range(levels):
        value = {"level": i, "child": value} if i % 2 else [value]
    return value


def exact(value) -> str:
    """A rendering that tells 1 from 1.0 and True from 1, and ignores key order."""
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize("payload", [FIDELITY_PAYLOAD, {"deep": deep(200)}], ids=["types", "deep-nesting"])
def test_payload_round_trips_exactly(acme, payload):
    event_id = acme.post("/v1/events", payload, format="json").json()["id"]

    returned = acme.get(f"/v1/events/{event_id}").json()["payload"]

    assert exact(returned) == exact(payload)


def test_key_order_of_the_payload_does_not_matter_for_equality(acme):
    event_id = post_raw(acme, '{"b": 1, "a": 2}').json()["id"]

    assert acme.get(f"/v1/events/{event_id}").json()["payload"] == {"a": 2, "b": 1}


@pytest.mark.parametrize(
    "body",
    [
        "",
        "{",
        '{"a": 1',
        "not json",
        '{"a": NaN}',
        '{"a": Infinity}',
        '{"a": -Infinity}',
        b"\xff\xfe{}",
        b'{"a": "\xc3"}',
    ],
    ids=[
        "empty",
        "open-brace",
        "truncated",
        "text",
        "nan",
        "infinity",
        "minus-infinity",
        "bad-utf8",
        "bad-utf8-string",
    ],
)
def test_invalid_json_is_400_malformed_json_and_nothing_is_stored(acme, body):
    response = post_raw(acme, body)

    assert response.status_code == 400
    assert error(response)["code"] == "malformed_json"
    assert error(response)["message"]
    assert list(Event.scan()) == []


@pytest.mark.parametrize("body", ["[]", "[1, 2]", '"text"', "42", "null", "true"])
def test_json_that_is_not_an_object_is_400_validation_error(acme, body):
    response = post_raw(acme, body)

    assert response.status_code == 400
    assert error(response)["code"] == "validation_error"
    assert "body" in error(response)["details"]
    assert list(Event.scan()) == []


def test_payload_nested_deeper_than_the_limit_is_400(acme):
    response = post_raw(acme, json.dumps({"deep": deep(300)}))

    assert response.status_code == 400
    assert error(response)["code"] == "validation_error"


def test_unpaired_surrogate_is_400_validation_error(acme):
    response = post_raw(acme, '{"s": "\\ud800"}')

    assert response.status_code == 400
    assert error(response)["code"] == "validation_error"


def test_body_of_exactly_256_kib_is_accepted(acme):
    filler = "x" * (262_144 - len('{"pad": ""}'))
    body = json.dumps({"pad": filler})
    assert len(body.encode()) == 262_144

    assert post_raw(acme, body).status_code == 201


def test_body_over_256_kib_is_413_and_nothing_is_stored(acme):
    body = json.dumps({"pad": "x" * 262_144})

    response = post_raw(acme, body)

    assert response.status_code == 413
    assert error(response)["code"] == "payload_too_large"
    assert list(Event.scan()) == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_other_content_types_are_415(acme, content_type):
    response = post_raw(acme, '{"a": 1}', content_type=content_type)

    assert response.status_code == 415
    assert error(response)["code"] == "unsupported_media_type"
    assert list(Event.scan()) == []


def test_json_with_a_charset_parameter_is_accepted(acme):
    assert post_raw(acme, '{"a": 1}', content_type="application/json; charset=utf-8").status_code == 201


@pytest.mark.parametrize(
    "number,problem",
    [
        ("1e400", "1e400 does not fit a 64-bit float"),
        ("-1e400", "-1e400 does not fit a 64-bit float"),
        ("1e-400", "1e-400 does not fit a 64-bit float"),
        ("9" * 4301, "integers may have at most 4300 digits"),
    ],
    ids=["overflow", "negative-overflow", "underflow", "4301-digit-int"],
)
def test_numbers_that_cannot_be_kept_exactly_are_400_not_changed(acme, number, problem):
    response = post_raw(acme, '{"n": ' + number + "}")

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "validation_error",
        "message": f"Invalid request: body: A number is out of range: {problem}.",
        "details": {"body": [f"A number is out of range: {problem}."]},
    }
    assert list(Event.scan()) == []


@pytest.mark.parametrize("number", ["5e-324", "0e5", "-0.0e-400", "9" * 4300])
def test_numbers_at_the_edges_of_the_range_round_trip(acme, number):
    body = '{"n": ' + number + "}"
    event_id = post_raw(acme, body).json()["id"]

    assert exact(acme.get(f"/v1/events/{event_id}").json()["payload"]) == exact(json.loads(body))


def test_location_keeps_each_requests_script_prefix(issue_key, request):
    """The route is reversed once per script prefix (events.views._event_path): a stage's
    prefix never leaks into another request's Location. Through the WSGI handler, which sets
    the prefix from SCRIPT_NAME as a server's request does (the test client does not)."""
    application = WSGIHandler()
    key = issue_key("acme", ("ingest",))
    answered: list[dict] = []
    request.addfinalizer(lambda: set_script_prefix("/"))  # the handler leaves it set on this thread
    for prefix in ("/prod", "", "/dev", "/prod"):
        environ = wsgi_environ(
            "POST",
            "/v1/events",
            b'{"n": 1}',
            [("Authorization", f"Bearer {key}"), ("Content-Type", "application/json")],
            server=("testserver", 80),
            remote=("127.0.0.1", 0),
        )
        environ["SCRIPT_NAME"] = prefix
        body = b"".join(application(environ, lambda status, headers, *_: answered.append(dict(headers))))
        event_id = json.loads(body)["id"]
        assert answered[-1]["Location"] == f"http://testserver{prefix}/v1/events/{event_id}"
