"""The console's forms do what the API's routes do, through the same services: a hook
edited, disabled, enabled, tested and rotated; a failed delivery and a failed event retried;
a range replayed; and what the API refuses, refused on a page naming the field."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from console.views import _epoch_ms
from devstack import moto_patches
from events.services import event_claim
from hooks import handler
from tests.console.session import logged_in, token_of
from tests.faults import inject
from tests.hooks.api.deliveries_stored import stream_of
from tests.hooks.receiver import status
from triggerapi import store

SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")


@pytest.fixture
def browser(issue_key):
    return logged_in(issue_key("acme"))


def post(browser, path: str, fields: dict | None = None, page: str = "/console/"):
    token = token_of(browser.get(page).content.decode())
    return browser.post(path, {**(fields or {}), "csrfmiddlewaretoken": token})


def test_a_hook_is_edited_disabled_and_enabled_through_its_forms(browser, acme, hook_id, receiver):
    edit = f"/console/hooks/{hook_id}/edit"
    fields = {
        "target_url": receiver.url("/new"),
        "description": "orders",
        "event_types": "order.paid\r\norder.created\r\n",
        "rate_limit": "5",
    }

    edited = post(browser, edit, fields)
    shown = acme.get(f"/v1/hooks/{hook_id}").json()
    assert (edited.status_code, edited.headers["Location"]) == (302, f"/console/hooks/{hook_id}")
    assert (shown["target_url"], shown["description"], shown["event_types"], shown["rate_limit"]) == (
        receiver.url("/new"),
        "orders",
        ["order.paid", "order.created"],
        5,
    )

    post(browser, edit, {"status": "disabled"})
    assert acme.get(f"/v1/hooks/{hook_id}").json()["status"] == "disabled"
    post(browser, edit, {"status": "active"})
    assert acme.get(f"/v1/hooks/{hook_id}").json()["status"] == "active"


def test_a_hooks_test_shows_the_receivers_answer(browser, hook_id, receiver):
    receiver.answer = status(202, body=b'{"seen": true}')

    page = post(browser, f"/console/hooks/{hook_id}/test").content.decode()

    assert "answered <b>202</b>" in page and "{&quot;seen&quot;: true}" in page
    [sent] = receiver.requests
    assert sent.path == "/in" and b"triggerapi.test" in sent.body


def rotated(browser, hook_id: str) -> str:
    """The secret's page after a rotation: a redirect, then the page that shows it once."""
    answer = post(browser, f"/console/hooks/{hook_id}/rotate")
    assert (answer.status_code, answer.headers["Location"]) == (302, f"/console/hooks/{hook_id}/secret")
    return browser.get(answer.headers["Location"]).content.decode()


def test_rotating_shows_the_new_secret_once(browser, hook_id):
    secret = SECRET.search(rotated(browser, hook_id)).group(0)
    reloaded = browser.get(f"/console/hooks/{hook_id}/secret").content.decode()

    again = SECRET.search(rotated(browser, hook_id)).group(0)

    assert not SECRET.search(reloaded) and "was shown already" in reloaded
    assert secret != again
    assert not SECRET.search(browser.get(f"/console/hooks/{hook_id}").content.decode())


def test_a_hook_the_api_would_refuse_is_a_400_page_naming_the_field(browser):
    answer = post(browser, "/console/hooks/new", {"target_url": "ftp://example.com/in"})

    assert answer.status_code == 400
    assert "validation_error" in answer.content.decode() and "target_url" in answer.content.decode()


def test_a_failed_delivery_is_retried_from_the_hooks_page(browser, acme, hook_id, receiver):
    receiver.answer = status(410)
    with moto_patches.applied():
        handler.handle_stream(stream_of("acme"))
        handler.run_due()
    [failed] = acme.get(f"/v1/hooks/{hook_id}/deliveries").json()["deliveries"]
    assert failed["status"] == "failed"
    page = browser.get(f"/console/hooks/{hook_id}?status=failed").content.decode()
    assert f"/console/hooks/{hook_id}/deliveries/{failed['id']}/retry" in page
    post(browser, f"/console/hooks/{hook_id}/edit", {"status": "active"})
    receiver.answer = status(200)

    retried = post(browser, f"/console/hooks/{hook_id}/deliveries/{failed['id']}/retry")

    assert retried.status_code == 302
    [done] = acme.get(f"/v1/hooks/{hook_id}/deliveries").json()["deliveries"]
    assert (done["status"], done["attempts"]) == ("succeeded", 2)
    again = post(browser, f"/console/hooks/{hook_id}/deliveries/{failed['id']}/retry")
    assert again.status_code == 409 and "succeeded" in again.content.decode()


def test_a_failed_event_is_retried_from_its_page(browser, acme, create_event, settings):
    event_id = create_event(acme)
    settings.MAX_ATTEMPTS = 0
    event_claim(tenant_id="acme", limit=1)
    assert acme.get(f"/v1/events/{event_id}").json()["status"] == "failed"

    retried = post(browser, f"/console/events/{event_id}/retry")

    assert (retried.status_code, retried.headers["Location"]) == (302, f"/console/events/{event_id}")
    assert acme.get(f"/v1/events/{event_id}").json()["status"] == "undelivered"


def test_the_replay_form_replays_the_range_and_says_how_many(browser, acme, create_event):
    ids = [create_event(acme) for _ in range(2)]
    claimed = acme.post("/v1/events/claim", {"limit": 2}, format="json").json()["events"]
    assert acme.post("/v1/events/ack", {"ids": [e["id"] for e in claimed]}, format="json").status_code == 200
    now = datetime.now(UTC).replace(tzinfo=None)
    since, until = (
        (now - timedelta(minutes=1)).isoformat("T", "seconds"),
        (now + timedelta(minutes=1)).isoformat("T", "seconds"),
    )

    page = post(browser, "/console/replay", {"since": since, "until": until, "statuses": "delivered"}).content.decode()

    assert re.search(r'<b id="replayed">2</b> events replayed', page)
    assert {acme.get(f"/v1/events/{i}").json()["status"] for i in ids} == {"undelivered"}


def test_a_replay_range_the_api_would_refuse_is_a_400_page_saying_what_the_envelope_says(browser):
    range_ = {"since": "2026-12-05T10:00:00", "until": "2026-12-05T09:00:00", "statuses": "delivered"}
    page = post(browser, "/console/replay", range_)

    shown = page.content.decode()
    assert page.status_code == 400 and "validation_error" in shown
    assert "<dt>until</dt><dd><code>[&quot;Must not be before since.&quot;]</code></dd>" in shown
    assert "ErrorDetail" not in shown


def test_a_replay_the_store_did_not_confirm_is_a_503_page_as_the_api_answers(browser, acme, create_event, monkeypatch):
    monkeypatch.setattr(store, "_backoff", lambda attempt: 0)
    create_event(acme)
    claimed = acme.post("/v1/events/claim", {"limit": 1}, format="json").json()["events"]
    assert acme.post("/v1/events/ack", {"ids": [e["id"] for e in claimed]}, format="json").status_code == 200
    fields = {"since": "2000-01-01T00:00:00", "until": "2099-01-01T00:00:00", "statuses": "delivered"}
    token = token_of(browser.get("/console/replay").content.decode())

    with inject("refused", at=1, down=True, operation="UpdateItem"):
        answer = browser.post("/console/replay", {**fields, "csrfmiddlewaretoken": token}, HTTP_ACCEPT="text/html")

    shown = answer.content.decode()
    assert (answer.status_code, answer["Retry-After"]) == (503, "1")
    assert "service_unavailable" in shown and "<dt>write</dt>" in shown


def test_a_rate_limit_that_is_no_number_is_a_400_page_naming_the_field(browser, receiver):
    answer = post(browser, "/console/hooks/new", {"target_url": receiver.url("/in"), "rate_limit": "\u00b2"})

    assert answer.status_code == 400 and "<dt>rate_limit</dt>" in answer.content.decode()


def test_a_secret_page_the_store_could_not_serve_shows_the_secret_on_reload(browser, hook_id, monkeypatch):
    """The rotation is written before its page is drawn: a page that fails must not lose the
    only chance to see the new secret."""
    monkeypatch.setattr(store, "_backoff", lambda attempt: 0)
    answer = post(browser, f"/console/hooks/{hook_id}/rotate")

    with inject("refused", at=1, down=True, operation="GetItem"):
        failed = browser.get(answer.headers["Location"], HTTP_ACCEPT="text/html")
    shown = browser.get(answer.headers["Location"]).content.decode()

    assert failed.status_code == 503 and not SECRET.search(failed.content.decode())
    assert SECRET.search(shown)


def test_an_edit_left_blank_clears_the_description_and_the_rate_limit_as_the_apis_null_does(browser, acme, hook_id):
    acme.patch(f"/v1/hooks/{hook_id}", {"description": "orders", "rate_limit": 5}, format="json")
    target = acme.get(f"/v1/hooks/{hook_id}").json()["target_url"]

    post(
        browser,
        f"/console/hooks/{hook_id}/edit",
        {"target_url": target, "description": "", "rate_limit": "", "event_types": ""},
    )
    post(browser, f"/console/hooks/{hook_id}/edit", {"status": "disabled"})  # a form without them changes neither

    shown = acme.get(f"/v1/hooks/{hook_id}").json()
    assert (shown["description"], shown["rate_limit"], shown["status"]) == (None, None, "disabled")


def test_a_replay_with_no_status_ticked_is_refused_as_the_api_refuses_an_empty_list(browser, acme, create_event):
    create_event(acme)
    fields = {"since": "2026-12-05T09:00:00", "until": "2026-12-05T10:00:00"}

    answer = post(browser, "/console/replay", fields)

    assert answer.status_code == 400 and "<dt>statuses</dt>" in answer.content.decode()


@pytest.mark.parametrize(
    "typed, ms",
    [
        ("2026-01-01T00:00:00", 1767225600000),  # a datetime-local field: UTC, as the form says
        ("2026-01-01T02:00:00+02:00", 1767225600000),  # an offset named is kept
        ("2026-01-01T00:00", 1767225600000),
        ("yesterday", "yesterday"),  # left for the serializer to refuse, naming the field
    ],
)
def test_the_replay_forms_times_are_utc_unless_they_name_their_offset(typed, ms):
    assert _epoch_ms(typed) == ms
