"""The hooks endpoints: create (the secret shown once, kept sealed), read, list, change,
delete, rotate, test; validation in the contract's envelope; one tenant never reaches
another's hooks."""

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from standardwebhooks import Webhook

from events.ids import created_at_of
from events.serializers import EventSerializer
from hooks import vault
from hooks.attempt import body_encode
from hooks.ids import delivery_id_for
from hooks.models import Delivery, Hook

TARGET = "https://hooks.example.com/in"


@pytest.fixture(autouse=True)
def public_dns(resolve):
    from tests.hooks.conftest import PUBLIC, answers

    resolve(answers(PUBLIC))


def create(client, **body):
    return client.post("/v1/hooks", {"target_url": TARGET, **body}, format="json")


def test_create_answers_the_hook_with_its_secret_once_and_stores_it_sealed(acme):
    response = create(acme, event_types=["order.paid"], description="orders")
    assert response.status_code == 201, response.json()
    hook = response.json()
    assert hook["id"].startswith("hook_") and hook["secret"].startswith("whsec_")
    assert (hook["target_url"], hook["event_types"], hook["description"]) == (TARGET, ["order.paid"], "orders")
    assert (hook["status"], hook["disabled_reason"]) == ("active", None)
    stored = Hook.get("acme", f"hook#{hook['id']}")
    assert hook["secret"] not in str(stored.serialize())
    assert vault.unseal(stored.secret) == hook["secret"]
    shown = acme.get(f"/v1/hooks/{hook['id']}").json()
    assert "secret" not in shown and shown == {k: v for k, v in hook.items() if k != "secret"}


def test_defaults_are_every_event_type_and_no_description(acme):
    hook = create(acme).json()
    assert (hook["event_types"], hook["description"]) == ([], None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"target_url": "http://hooks.example.com/"}, "target_url"),
        ({"target_url": "https://user:pw@hooks.example.com/"}, "target_url"),
        ({"target_url": "https://127.0.0.1/"}, "target_url"),
        ({"target_url": "https://hooks.example.com/" + "a" * 2048}, "target_url"),
        ({"target_url": TARGET, "event_types": [""]}, "event_types"),
        ({"target_url": TARGET, "event_types": ["t"] * 51}, "event_types"),
        ({"target_url": TARGET, "color": "red"}, "color"),
        ({}, "target_url"),
    ],
)
def test_a_bad_hook_is_400_naming_the_field(acme, body, field):
    response = acme.post("/v1/hooks", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and field in error["details"], error


def test_the_101st_hook_is_refused(acme):
    for _ in range(100):
        assert create(acme).status_code == 201
    response = create(acme)
    assert response.status_code == 400
    assert "hooks" in response.json()["error"]["details"]
    first = acme.get("/v1/hooks", {"limit": 1}).json()["hooks"][0]["id"]
    assert acme.delete(f"/v1/hooks/{first}").status_code == 204
    assert create(acme).status_code == 201


def test_list_pages_through_every_hook_oldest_first(acme):
    ids = [create(acme).json()["id"] for _ in range(5)]
    seen, cursor = [], None
    while True:
        page = acme.get("/v1/hooks", {"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [hook["id"] for hook in page["hooks"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert seen == ids


def test_the_browsable_api_links_the_next_page_of_hooks_and_of_a_hooks_deliveries(acme):
    ids = [create(acme).json()["id"] for _ in range(3)]
    for n in range(3):
        event_id = f"evt_01JD7Z8X4Q2N3M5P6R7S8T9V0{n}"
        Delivery(
            Delivery.pk_for("acme", ids[0]),
            event_id,
            tenant_id="acme",
            hook_id=ids[0],
            created_at=n,
            expires_at=datetime.now(UTC) + timedelta(days=1),
        ).save()

    for path, key, rest in [
        ("/v1/hooks?limit=2", "hooks", [ids[2]]),
        (
            f"/v1/hooks/{ids[0]}/deliveries?limit=2",
            "deliveries",
            [delivery_id_for(ids[0], "evt_01JD7Z8X4Q2N3M5P6R7S8T9V00")],
        ),
    ]:
        page = unescape(acme.get(path, HTTP_ACCEPT="text/html").content.decode())
        next_page = re.search(r'<a href="([^"]*)" id="next-page">', page).group(1)

        assert next_page.startswith(path + "&cursor=")
        assert [item["id"] for item in acme.get(next_page).json()[key]] == rest


def test_patch_changes_what_it_names_and_disabling_by_hand_says_manual(acme):
    hook = create(acme, event_types=["a"]).json()
    changed = acme.patch(f"/v1/hooks/{hook['id']}", {"event_types": [], "status": "disabled"}, format="json").json()
    assert (changed["event_types"], changed["status"], changed["disabled_reason"]) == ([], "disabled", "manual")
    assert changed["target_url"] == TARGET and changed["updated_at"] >= hook["updated_at"]
    enabled = acme.patch(f"/v1/hooks/{hook['id']}", {"status": "active"}, format="json").json()
    assert (enabled["status"], enabled["disabled_reason"]) == ("active", None)


def test_patch_with_nothing_to_change_is_400(acme):
    hook = create(acme).json()
    assert acme.patch(f"/v1/hooks/{hook['id']}", {}, format="json").status_code == 400


def test_delete_then_everything_about_the_hook_is_404(acme):
    hook_id = create(acme).json()["id"]
    assert acme.delete(f"/v1/hooks/{hook_id}").status_code == 204
    for method, path in [
        ("get", ""),
        ("delete", ""),
        ("patch", ""),
        ("post", "/rotate-secret"),
        ("post", "/test"),
        ("get", "/deliveries"),
    ]:
        response = getattr(acme, method)(f"/v1/hooks/{hook_id}{path}", {"description": "x"}, format="json")
        assert response.status_code == 404, (method, path, response.content)
        assert response.json()["error"]["code"] == "not_found"


def test_another_tenants_hook_cannot_be_seen_or_changed(acme, globex):
    hook = create(acme).json()
    hook_id = hook["id"]
    assert globex.get("/v1/hooks").json()["hooks"] == []
    for method, path in [("get", ""), ("patch", ""), ("delete", ""), ("post", "/rotate-secret"), ("post", "/test")]:
        response = getattr(globex, method)(f"/v1/hooks/{hook_id}{path}", {"description": "x"}, format="json")
        assert response.status_code == 404, (method, path)
    assert acme.get(f"/v1/hooks/{hook_id}").json() == {k: v for k, v in hook.items() if k != "secret"}


def test_an_ingest_only_key_cannot_manage_hooks(client_for):
    ingest_only = client_for("acme", scopes=("ingest",))
    assert ingest_only.get("/v1/hooks").status_code == 403
    assert create(ingest_only).status_code == 403


def test_a_hook_names_the_key_that_created_it_and_older_hooks_say_null(acme, issue_key):
    from rest_framework.test import APIClient

    key = issue_key("acme")
    creator = APIClient()
    creator.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    created = create(creator).json()
    older = create(acme).json()
    Hook.get("acme", Hook.key_for(older["id"])).update(actions=[Hook.created_by.remove()])

    listed = {hook["id"]: hook["created_by"] for hook in acme.get("/v1/hooks").json()["hooks"]}

    assert created["created_by"] == key[:16] == acme.get(f"/v1/hooks/{created['id']}").json()["created_by"]
    assert listed == {created["id"]: key[:16], older["id"]: None}
    assert acme.get(f"/v1/hooks/{older['id']}").json()["created_by"] is None


def test_a_consume_key_cannot_create_or_read_hooks(acme, client_for):
    hook_id = create(acme).json()["id"]
    worker = client_for("acme", scopes=("ingest", "consume"))

    refused = [create(worker), worker.get("/v1/hooks"), worker.get(f"/v1/hooks/{hook_id}")]

    assert [response.status_code for response in refused] == [403, 403, 403]
    assert refused[0].json()["error"] == {
        "code": "permission_denied",
        "message": "This API key does not have the 'hooks' scope.",
        "details": {},
    }
    assert [hook["id"] for hook in acme.get("/v1/hooks").json()["hooks"]] == [hook_id]


def test_a_hooks_only_key_manages_hooks_and_cannot_list_or_send_events(client_for):
    hooks_only = client_for("acme", scopes=("hooks",))

    assert create(hooks_only).status_code == 201
    assert hooks_only.get("/v1/events").status_code == 403
    assert hooks_only.post("/v1/events", {"a": 1}, format="json").status_code == 403


def test_rotate_keeps_the_old_secret_signing_beside_the_new_one(acme, local_targets):
    from tests.hooks.receiver import Receiver

    with Receiver() as receiver:
        created = acme.post("/v1/hooks", {"target_url": receiver.url("/in")}, format="json").json()
        rotated = acme.post(f"/v1/hooks/{created['id']}/rotate-secret").json()["secret"]
        assert rotated.startswith("whsec_") and rotated != created["secret"]
        result = acme.post(f"/v1/hooks/{created['id']}/test").json()
        assert result["status_code"] == 200 and result["error"] is None
        request = receiver.requests[-1]
        assert len(request.headers["webhook-signature"].split(" ")) == 2
        for secret in (created["secret"], rotated):
            Webhook(secret).verify(request.body, request.headers)


def test_the_test_event_is_rendered_and_encoded_as_a_delivered_event_is(acme, local_targets):
    from tests.hooks.receiver import Receiver

    with Receiver() as receiver:
        created = acme.post("/v1/hooks", {"target_url": receiver.url("/in")}, format="json").json()
        assert acme.post(f"/v1/hooks/{created['id']}/test").json()["status_code"] == 200
        [request] = receiver.requests

    sent = json.loads(request.body)
    created_at = created_at_of(sent["id"])
    assert sent == {
        "id": request.headers["webhook-id"],
        "created_at": created_at,
        "status": "undelivered",
        "payload": {"event_type": "triggerapi.test", "hook_id": created["id"]},
        "event_type": "triggerapi.test",
        "attempts": 0,
        "lease_expires_at": None,
        "delivered_at": None,
        "available_at": created_at,
    }
    assert list(sent) == list(EventSerializer().fields) and request.body == body_encode(sent).encode()


def test_a_test_of_a_disabled_hook_is_409_and_sends_nothing(acme, local_targets):
    from tests.hooks.receiver import Receiver

    with Receiver() as receiver:
        created = acme.post("/v1/hooks", {"target_url": receiver.url("/in")}, format="json").json()
        acme.patch(f"/v1/hooks/{created['id']}", {"status": "disabled"}, format="json")

        response = acme.post(f"/v1/hooks/{created['id']}/test")

        assert (response.status_code, response.json()["error"]) == (
            409,
            {"code": "conflict", "message": "The hook is disabled: enable it to send a test.", "details": {}},
        )
        assert receiver.requests == []
