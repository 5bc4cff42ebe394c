"""The console without a browser: Django's client with a session, as a browser keeps one.
Every page renders, every form carries its CSRF token, another tenant's ids are 404 pages,
a key without `hooks` sees no hook forms, and logging out ends the session everywhere.
In Chromium: tests/integration/test_console.py."""

import re

import pytest
from django.core.cache import cache
from django.test import Client

from devstack import moto_patches
from hooks import handler, vault
from hooks.models import Hook
from limits.services import tenant_limits_set
from tests.console.session import FORMS, logged_in, token_of
from tests.faults import inject
from tests.hooks.api.deliveries_stored import stream_of
from tests.hooks.receiver import status
from triggerapi import store


def test_a_page_without_a_session_goes_to_the_login(client):
    answer = client.get("/console/events")

    assert (answer.status_code, answer.headers["Location"]) == (302, "/console/login?next=/console/events")


def test_a_wrong_key_is_refused_on_the_login_page(client):
    page = Client(enforce_csrf_checks=True)
    token = token_of(page.get("/console/login").content.decode())

    answer = page.post("/console/login", {"api_key": "tk_live_" + "x" * 43, "csrfmiddlewaretoken": token})

    assert answer.status_code == 200 and "Unknown or revoked API key." in answer.content.decode()


def test_every_page_renders_never_cached_with_csrf_on_every_form(issue_key, acme, create_event, hook_id):
    event_id = create_event(acme)
    browser = logged_in(issue_key("acme"))

    for path in (
        "/console/",
        "/console/?window=7d",
        "/console/events",
        f"/console/events/{event_id}",
        "/console/hooks",
        f"/console/hooks/{hook_id}",
        "/console/replay",
    ):
        answer = browser.get(path)
        page = answer.content.decode()
        assert answer.status_code == 200, path
        assert "no-store" in answer.headers["Cache-Control"], path
        forms = FORMS.findall(page)
        assert forms and all("csrfmiddlewaretoken" in form for form in forms), path
        assert "<script" not in page, path


def test_another_tenants_event_and_hook_are_404_pages_to_every_page_and_form(issue_key, acme, create_event, hook_id):
    event_id = create_event(acme)
    delivery_id = "dlv_" + event_id.removeprefix("evt_") + hook_id.removeprefix("hook_")[:8]
    browser = logged_in(issue_key("globex"))
    token = token_of(browser.get("/console/").content.decode())
    hook_before = acme.get(f"/v1/hooks/{hook_id}").json()

    pages = [f"/console/events/{event_id}", f"/console/hooks/{hook_id}", f"/console/hooks/{hook_id}/secret"]
    forms = [
        f"/console/events/{event_id}/retry",
        f"/console/events/{event_id}/delete",
        f"/console/hooks/{hook_id}/edit",
        f"/console/hooks/{hook_id}/rotate",
        f"/console/hooks/{hook_id}/test",
        f"/console/hooks/{hook_id}/deliveries/{delivery_id}/retry",
    ]
    answers = {path: browser.get(path) for path in pages}
    answers |= {path: browser.post(path, {"csrfmiddlewaretoken": token, "status": "disabled"}) for path in forms}

    assert {path: a.status_code for path, a in answers.items()} == dict.fromkeys(pages + forms, 404)
    assert all("not_found" in a.content.decode() for a in answers.values())
    assert acme.get(f"/v1/events/{event_id}").json()["status"] == "undelivered"
    assert acme.get(f"/v1/hooks/{hook_id}").json() == hook_before


def test_a_key_without_hooks_sees_no_hook_forms(issue_key, acme, hook_id):
    browser = logged_in(issue_key("acme", ("ingest", "consume")))

    overview = browser.get("/console/").content.decode()
    hooks = browser.get("/console/hooks")

    assert 'action="/console/hooks/new"' not in overview
    assert hooks.status_code == 403 and "hooks" in hooks.content.decode()


def test_deleting_an_event_from_its_page_is_the_apis_delete(issue_key, acme, create_event):
    event_id = create_event(acme)
    browser = logged_in(issue_key("acme"))
    token = token_of(browser.get(f"/console/events/{event_id}").content.decode())

    deleted = browser.post(f"/console/events/{event_id}/delete", {"csrfmiddlewaretoken": token})
    again = browser.post(f"/console/events/{event_id}/delete", {"csrfmiddlewaretoken": token})

    assert (deleted.status_code, deleted.headers["Location"]) == (302, "/console/events")
    assert again.status_code == 404
    assert acme.get(f"/v1/events/{event_id}").status_code == 404


def acme_signs_with(hook_id: str, secret: str) -> bool:
    """The secret shown is the one the hook's deliveries are signed with."""
    return vault.unseal(Hook.get("acme", Hook.key_for(hook_id)).secret) == secret


def test_a_hooks_secret_is_shown_once_on_create(issue_key, receiver):
    browser = logged_in(issue_key("acme"))
    token = token_of(browser.get("/console/hooks").content.decode())

    created = browser.post("/console/hooks/new", {"target_url": receiver.url("/in"), "csrfmiddlewaretoken": token})
    hook_id = re.fullmatch(r"/console/hooks/(hook_[0-9A-Z]{26})/secret", created.headers["Location"]).group(1)
    shown = browser.get(created.headers["Location"]).content.decode()
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", shown).group(0)

    assert created.status_code == 302 and "whsec_" not in created.content.decode()
    assert "whsec_" not in browser.get(created.headers["Location"]).content.decode()  # once only
    assert secret not in browser.get(f"/console/hooks/{hook_id}").content.decode()
    assert secret not in browser.get("/console/hooks").content.decode()
    assert acme_signs_with(hook_id, secret)


def test_logging_out_ends_the_session_for_the_console_and_the_browsable_api(issue_key):
    browser = logged_in(issue_key("acme"))
    token = token_of(browser.get("/console/").content.decode())

    assert browser.post("/console/logout", {"csrfmiddlewaretoken": token}).status_code == 302

    assert browser.get("/console/").status_code == 302
    assert browser.get("/v1/events", HTTP_ACCEPT="application/json").status_code == 401


def test_console_pages_allow_no_inline_style_or_script(issue_key):
    browser = logged_in(issue_key("acme"))

    policy = browser.get("/console/").headers["Content-Security-Policy"]

    assert "style-src 'self';" in policy and "script-src 'self';" in policy and "unsafe-inline" not in policy


def test_the_navigation_shows_only_what_the_keys_scopes_allow(issue_key):
    pages = {
        scopes: logged_in(issue_key("acme", scopes)).get("/console/").content.decode()
        for scopes in (("ingest", "consume", "hooks"), ("ingest", "consume"), ("hooks",), ("ingest",))
    }

    def links(page: str) -> list[str]:
        nav = re.search(r'<nav aria-label="Console">(.*?)</nav>', page, re.S).group(1)
        return re.findall(r'href="/console/([a-z]*)"', nav)

    assert {scopes: links(page) for scopes, page in pages.items()} == {
        ("ingest", "consume", "hooks"): ["", "events", "hooks", "replay"],
        ("ingest", "consume"): ["", "events", "replay"],
        ("hooks",): ["", "hooks"],
        ("ingest",): [""],
    }
    assert "no <code>consume</code> scope" in pages["hooks",] and 'href="/console/hooks"' in pages["hooks",]


def test_an_error_is_the_envelope_to_a_program_and_a_page_saying_it_to_a_browser(issue_key):
    browser = logged_in(issue_key("acme"))
    missing = "/console/events/evt_01JD7Z8X4Q2N3M5P6R7S8T9V0W"

    as_json = browser.get(missing, HTTP_ACCEPT="application/json")
    as_page = browser.get(missing, HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")

    assert (as_json.status_code, as_json.json()["error"]["code"]) == (404, "not_found")
    assert as_page.status_code == 404 and as_page["Content-Type"].startswith("text/html")
    assert as_json.json()["error"]["message"] in as_page.content.decode()


def test_a_bad_filter_is_a_400_page_naming_the_field(issue_key):
    browser = logged_in(issue_key("acme"))

    answer = browser.get("/console/events?status=lost")

    assert answer.status_code == 400 and "validation_error" in answer.content.decode()
    assert "status" in answer.content.decode()


def test_a_form_posted_without_its_csrf_token_is_a_403_page(issue_key, acme, create_event):
    event_id = create_event(acme)
    browser = logged_in(issue_key("acme"))

    answer = browser.post(f"/console/events/{event_id}/delete", HTTP_ACCEPT="text/html")

    assert answer.status_code == 403 and answer["Content-Type"].startswith("text/html")
    assert "CSRF check failed" in answer.content.decode()
    assert acme.get(f"/v1/events/{event_id}").status_code == 200


def test_a_method_a_page_does_not_serve_is_a_405_naming_the_ones_it_does(issue_key, acme, create_event):
    event_id = create_event(acme)
    browser = logged_in(issue_key("acme"))

    answer = browser.get(f"/console/events/{event_id}/delete")

    assert (answer.status_code, answer["Allow"], answer.json()["error"]["code"]) == (405, "POST", "method_not_allowed")


def test_the_events_list_is_newest_first_a_page_at_a_time_keeping_its_filters(issue_key, acme, create_event):
    ids = [create_event(acme, {"event_type": "order.created", "n": n}) for n in range(27)]
    create_event(acme, {"event_type": "other"})
    browser = logged_in(issue_key("acme"))

    first = browser.get("/console/events?event_type=order.created").content.decode()
    older = re.search(r'class="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = browser.get(f"/console/events{older}").content.decode()

    listed = re.findall(r'href="/console/events/(evt_\w+)"', first) + re.findall(
        r'href="/console/events/(evt_\w+)"', second
    )
    assert listed == ids[::-1]
    assert "event_type=order.created" in older and 'class="next"' not in second


def test_the_store_down_is_a_503_page_saying_when_to_try_again(issue_key, monkeypatch):
    monkeypatch.setattr(store, "_backoff", lambda attempt: 0)
    browser = logged_in(issue_key("acme"))
    cache.clear()  # the session's key is read from the store again

    with inject("refused", at=1, down=True):
        answer = browser.get("/console/events", HTTP_ACCEPT="text/html")

    assert answer.status_code == 503 and int(answer["Retry-After"]) > 0
    assert "service_unavailable" in answer.content.decode()


def test_a_page_takes_a_token_of_the_tenants_request_rate_as_an_api_request_does(issue_key, acme, time_machine):
    time_machine.move_to("2026-11-22 12:00:00+00:00", tick=False)
    browser = logged_in(issue_key("acme"))
    tenant_limits_set(tenant_id="acme", changes={"rate": 1, "burst": 3})

    statuses = [browser.get("/console/events").status_code for _ in range(3)]
    refused = browser.get("/console/events", HTTP_ACCEPT="text/html")
    api = acme.get("/v1/events")

    assert statuses == [200, 200, 200]
    assert (refused.status_code, refused["Retry-After"], api.status_code) == (429, "1", 429)
    assert "rate_limited" in refused.content.decode() and refused["RateLimit"] == '"tenant";r=0;t=3'


def test_every_console_answer_is_no_store_redirects_405s_and_csrf_failures_included(issue_key, acme, create_event):
    event_id = create_event(acme)
    browser = logged_in(issue_key("acme"))

    answers = {
        "redirect": Client().get("/console/events"),
        "405": browser.get(f"/console/events/{event_id}/delete"),
        "csrf": browser.post(f"/console/events/{event_id}/delete", HTTP_ACCEPT="text/html"),
        "unknown": browser.get("/console/nowhere"),
        "login": Client().get("/console/login"),
    }

    assert {name: a["Cache-Control"] for name, a in answers.items()} == dict.fromkeys(answers, "no-store")


def test_a_key_with_hooks_only_sees_no_stats_and_no_event_links(issue_key, acme, hook_id, receiver):
    receiver.answer = status(500)
    with moto_patches.applied():
        handler.handle_stream(stream_of("acme"))
        handler.run_due()
    browser = logged_in(issue_key("acme", ("hooks",)))

    hooks = browser.get("/console/hooks").content.decode()
    hook = browser.get(f"/console/hooks/{hook_id}").content.decode()

    assert "success, 24 h" not in hooks and "a key with the <code>consume</code> scope shows them" in hooks
    assert "answered <b>500</b>" in hook and 'href="/console/events/' not in hook


def test_the_login_brings_the_browser_back_to_the_page_and_query_it_asked_for(issue_key):
    browser = Client(enforce_csrf_checks=True)
    bounced = browser.get("/console/events?status=failed")
    login = browser.get(bounced.headers["Location"]).content.decode()
    before = browser.cookies["csrftoken"].value

    answer = browser.post(
        bounced.headers["Location"],
        {"api_key": issue_key("acme"), "csrfmiddlewaretoken": token_of(login), "next": "/console/events?status=failed"},
    )

    assert bounced.headers["Location"] == "/console/login?next=/console/events%3Fstatus%3Dfailed"
    assert (answer.status_code, answer.headers["Location"]) == (302, "/console/events?status=failed")
    assert browser.cookies["csrftoken"].value != before  # the login rotates the CSRF token


@pytest.mark.parametrize(
    "elsewhere", ["/console/../v1/events", "/console//evil.example/", "https://evil.example/console/", "/v1/events"]
)
def test_the_login_sends_the_browser_nowhere_outside_the_console(issue_key, elsewhere):
    browser = Client(enforce_csrf_checks=True)
    token = token_of(browser.get("/console/login").content.decode())

    answer = browser.post(
        "/console/login", {"api_key": issue_key("acme"), "csrfmiddlewaretoken": token, "next": elsewhere}
    )

    assert (answer.status_code, answer.headers["Location"]) == (302, "/console/")


def test_an_events_history_pages_with_its_own_cursor(issue_key, acme, create_event, pump):
    event_id = create_event(acme)
    [claimed] = acme.post("/v1/events/claim", {"limit": 1}, format="json").json()["events"]
    assert acme.post(f"/v1/events/{claimed['id']}/ack").status_code == 200
    pump()
    browser = logged_in(issue_key("acme"))

    first = browser.get(f"/console/events/{event_id}?limit=2").content.decode()
    later = re.search(r'class="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = browser.get(f"/console/events/{event_id}{later}&limit=2").content.decode()

    def what(page: str) -> list[str]:
        return re.findall(r"</time>\s*<b>(\w+)</b>", page)

    assert (what(first), what(second)) == (["ingested", "claimed"], ["acked"])
    assert 'class="next"' not in second
