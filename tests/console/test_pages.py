"""The console without a browser: Django's client with a session, as a browser keeps one.
Every page renders, every form carries its CSRF token, another tenant's ids are 404 pages,
a key without `hooks` sees no hook forms, and logging out ends the session everywhere.
In Chromium: tests/integration/test_console.py."""

import re

import pytest
from django.test import Client, override_settings

from tests.hooks.receiver import Receiver, status

FORMS = re.compile(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S)


def token_of(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def logged_in(key: str) -> Client:
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/console/login").content.decode()
    answer = browser.post("/console/login", {"api_key": key, "csrfmiddlewaretoken": token_of(page)})
    assert answer.status_code == 302 and answer.headers["Location"] == "/console/"
    return browser


@pytest.fixture
def receiver():
    with Receiver() as running, override_settings(HOOKS_ALLOW_HTTP=True, HOOKS_ALLOW_PRIVATE_TARGETS=True):
        running.answer = status(200)
        yield running


@pytest.fixture
def hook_id(acme, receiver) -> str:
    created = acme.post("/v1/hooks", {"target_url": receiver.url("/in")}, format="json")
    assert created.status_code == 201, created.content
    return created.json()["id"]


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
