"""API Gateway REST proxy events for the `prod` stage through Zappa's LambdaHandler into the
app, as in Zappa's own tests/test_handler.py, with the app's tables on a moto server."""

import json
import uuid

import pytest

from devstack.lambda_probe import HOST, rest_event
from events.models import Event
from tenants.models import ApiKey
from tests.integration.lambda_app import lambda_handler, lambda_settings, point_models_at, write_zappa_settings

UNKNOWN_KEY = "tk_live_" + "A" * 43
UNICODE = {"event_type": "unicode.test", "text": "naïve café — 東京 — مرحبا — 👩‍💻", "nul": "\u0000", "quote": '"\\/'}


@pytest.fixture(scope="module")
def zappa_settings_path(tmp_path_factory):
    folder = tmp_path_factory.mktemp("zappa")
    write_zappa_settings(folder)
    return folder


@pytest.fixture(scope="module")
def keys(new_key):
    return {tenant: new_key(f"{tenant}-{uuid.uuid4().hex[:8]}")[1] for tenant in ("acme", "globex")}


@pytest.fixture
def handler(zappa_settings_path, live_env, settings, monkeypatch):
    monkeypatch.syspath_prepend(str(zappa_settings_path))
    settings.ALLOWED_HOSTS = lambda_settings("ALLOWED_HOSTS")["ALLOWED_HOSTS"]
    point_models_at(monkeypatch, live_env["DYNAMODB_HOST"], live_env["TABLE_PREFIX"])
    with lambda_handler() as handler:
        yield handler


@pytest.fixture
def call(handler):
    def send(method: str, path: str, key: str | None = None, body=None, **kwargs) -> dict:
        headers = kwargs.pop("headers", {})
        if key:
            headers["Authorization"] = f"Bearer {key}"
        if body is not None:
            headers["Content-Type"] = "application/json"
            body = body if isinstance(body, bytes | str) else json.dumps(body)
        return handler.handler(rest_event(method, path, body=body, headers=headers, **kwargs), None)

    return send


def create(call, key: str, payload: dict) -> str:
    response = call("POST", "/v1/events", key, payload)
    assert response["statusCode"] == 201, response
    return json.loads(response["body"])["id"]


def test_health_answers_on_the_prod_stage(call):
    response = call("GET", "/health")

    assert (response["statusCode"], response["body"]) == (200, '{"status":"healthy"}')


def test_head_is_get_without_a_body_through_zappa(call):
    get, head = call("GET", "/health"), call("HEAD", "/health")

    assert (head["statusCode"], head.get("body", "")) == (200, "")
    assert head["headers"]["Content-Length"] == get["headers"]["Content-Length"] == str(len(get["body"]))


def test_create_is_201_with_a_location_under_the_stage(call, keys):
    response = call("POST", "/v1/events", keys["acme"], {"event_type": "order.paid", "order": 1042})

    body = json.loads(response["body"])
    assert response["statusCode"] == 201
    assert body == {"id": body["id"], "created_at": body["created_at"], "status": "undelivered"}
    assert response["headers"]["Location"] == f"https://{HOST}/prod/v1/events/{body['id']}"


def test_list_returns_the_event_in_the_inbox(call, keys):
    event_type = f"listed.{uuid.uuid4().hex}"
    event_id = create(call, keys["acme"], {"event_type": event_type})

    response = call("GET", "/v1/events", keys["acme"], query={"status": "undelivered", "event_type": event_type})

    body = json.loads(response["body"])
    assert response["statusCode"] == 200
    created_at = body["events"][0].pop("created_at")
    assert created_at > 0
    assert body == {
        "events": [
            {
                "id": event_id,
                "status": "undelivered",
                "payload": {"event_type": event_type},
                "event_type": event_type,
                "attempts": 0,
                "lease_expires_at": None,
                "delivered_at": None,
                "available_at": created_at,
            }
        ],
        "next_cursor": None,
        "has_more": False,
    }


def test_ack_marks_the_event_delivered(call, keys):
    event_id = create(call, keys["acme"], {"event_type": "to.ack"})

    response = call("POST", f"/v1/events/{event_id}/ack", keys["acme"])

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"id": event_id, "status": "acknowledged"}
    assert json.loads(call("GET", f"/v1/events/{event_id}", keys["acme"])["body"])["status"] == "delivered"


def test_an_unknown_key_is_401(call):
    response = call("GET", "/v1/events", UNKNOWN_KEY)

    assert response["statusCode"] == 401
    assert response["headers"]["WWW-Authenticate"] == "Bearer"
    assert json.loads(response["body"]) == {
        "error": {"code": "authentication_failed", "message": "Unknown or revoked API key.", "details": {}}
    }


def test_another_tenants_event_is_404(call, keys):
    event_id = create(call, keys["acme"], {"secret": True})

    response = call("GET", f"/v1/events/{event_id}", keys["globex"])

    assert response["statusCode"] == 404
    assert json.loads(response["body"]) == {
        "error": {"code": "not_found", "message": f"Event {event_id} not found.", "details": {}}
    }


@pytest.mark.parametrize("encoded", [True, False], ids=["base64-body", "text-body"])
def test_a_unicode_json_body_round_trips(call, keys, encoded):
    raw = json.dumps(UNICODE, ensure_ascii=False).encode()
    event_id = create(call, keys["acme"], raw if encoded else raw.decode())

    response = call("GET", f"/v1/events/{event_id}", keys["acme"])

    assert json.loads(response["body"])["payload"] == UNICODE


def test_a_manage_event_runs_create_tables(handler, live_env, monkeypatch, capsys):
    prefix = f"Mg{uuid.uuid4().hex[:8]}"
    point_models_at(monkeypatch, live_env["DYNAMODB_HOST"], prefix)

    assert handler.handler({"manage": "create_tables"}, None) == {}

    assert (ApiKey.exists(), Event.exists()) == (True, True)
    lines = capsys.readouterr().out.splitlines()[-6:]
    assert lines[0] == f"{prefix}-TenantApiKeys: created"
    assert lines[1].startswith(f"{prefix}-Events: created, TTL on expires_at, stream arn:aws:dynamodb:")
    assert lines[2:] == [
        f"{prefix}-Sessions: created, TTL on expires_at",
        f"{prefix}-Hooks: created, TTL on expires_at, secret-key canary sealed under this SECRET_KEY",
        f"{prefix}-Limits: created",
        f"{prefix}-Activity: created, TTL on expires_at",
    ]


def test_the_browsable_api_links_static_files_under_the_stage(call):
    response = call("GET", "/health", headers={"Accept": "text/html"})

    assert response["statusCode"] == 200
    assert 'href="/prod/static/rest_framework/css/bootstrap.min.css"' in response["body"]


def test_static_files_are_served_by_the_lambda(call):
    response = call("GET", "/static/rest_framework/css/bootstrap.min.css")

    assert (response["statusCode"], response["headers"]["Content-Type"]) == (200, 'text/css; charset="utf-8"')
    assert response["body"].startswith("/*!\n * Bootstrap")


def test_a_host_that_is_not_api_gateway_is_400(call):
    response = call("GET", "/health", headers={"Host": "evil.example.com"})

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["code"] == "validation_error"
