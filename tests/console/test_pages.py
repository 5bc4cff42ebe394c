"""The console without a browser: Django's client with a session, as a browser keeps one.
Every page renders, every form carries its CSRF token, another tenant's ids are 404 pages,
a key without `hooks` sees no hook forms, and logging out ends the session everywhere.
In Chromium: tests/integration/test_console.py."""

import re

from django.core.cache import cache
from django.test import Client

from limits.services import tenant_limits_set
from tests.console.session import FORMS, logged_in, token_of
from tests.faults import inject
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


def test_another_tenants_event_and_hook_are_404_pages(issue_key, globex, create_event, hook_id):
    other_event = create_event(globex)
    browser = logged_in(issue_key("globex"))

    for path in (f"/console/hooks/{hook_id}", "/console/events/evt_01JD7Z8X4Q2N3M5P6R7S8T9V0W"):
        answer = browser.get(path)
        assert answer.status_code == 404 and "not_found" in answer.content.decode(), path
    assert browser.get(f"/console/events/{other_event}").status_code == 200


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


def test_a_hooks_secret_is_shown_once_on_create(issue_key, receiver):
    browser = logged_in(issue_key("acme"))
    token = token_of(browser.get("/console/hooks").content.decode())

    created = browser.post("/console/hooks/new", {"target_url": receiver.url("/in"), "csrfmiddlewaretoken": token})
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", created.content.decode()).group(0)
    hook_id = re.search(r"hook_[0-9A-Z]{26}", created.content.decode()).group(0)

    assert secret not in browser.get(f"/console/hooks/{hook_id}").content.decode()
    assert secret not in browser.get("/console/hooks").content.decode()


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
