"""What the browsable API's pages offer a logged-in tenant: filters and page links on the
list, an Ack button on an event, and a way to log in when not."""

import re
from datetime import UTC, datetime
from html import unescape
from urllib.parse import urlencode

import time_machine
from rest_framework.test import APIClient


def html(client, path: str) -> str:
    response = client.get(path, HTTP_ACCEPT="text/html")
    assert response["Content-Type"] == "text/html; charset=utf-8"
    return unescape(response.content.decode())


def link(page: str, element_id: str) -> str | None:
    match = re.search(rf'<a href="([^"]*)" id="{element_id}">', page)
    return match and match.group(1)


def test_the_list_links_to_the_next_page_with_the_same_filters(browser_for, acme, create_event):
    for n in range(3):
        create_event(acme, {"event_type": "a", "n": n})
    client, _ = browser_for("acme")
    query = "/v1/events?status=undelivered&limit=2"
    # A cursor is signed with the time: both requests must sign it in the same second.
    with time_machine.travel(datetime.now(UTC), tick=False):
        cursor = client.get(query, HTTP_ACCEPT="application/json").json()["next_cursor"]
        page = html(client, query)

    assert link(page, "next-page") == "/v1/events?" + urlencode({"status": "undelivered", "limit": 2, "cursor": cursor})
    assert link(page, "first-page") is None
    assert '<option value="undelivered" selected>' in page


def test_a_later_page_links_back_to_the_first_and_not_on_past_the_last(browser_for, acme, create_event):
    for n in range(3):
        create_event(acme, {"n": n})
    client, _ = browser_for("acme")
    cursor = client.get("/v1/events?limit=2", HTTP_ACCEPT="application/json").json()["next_cursor"]

    page = html(client, f"/v1/events?limit=2&cursor={cursor}")

    assert link(page, "first-page") == "/v1/events?limit=2"
    assert link(page, "next-page") is None


def test_the_create_form_starts_with_an_example_payload(browser_for):
    client, _ = browser_for("acme")

    page = html(client, "/v1/events")

    assert '"event_type": "customer.created"' in page.split('id="id__content"')[1].split("</textarea>")[0]


def test_an_undelivered_event_has_an_ack_button_and_a_delivered_one_does_not(browser_for, acme, create_event):
    undelivered, delivered = create_event(acme), create_event(acme)
    acme.post(f"/v1/events/{delivered}/ack")
    client, _ = browser_for("acme")

    assert f'action="/v1/events/{undelivered}/ack" data-method="POST"' in html(client, f"/v1/events/{undelivered}")
    assert 'id="ack-button"' not in html(client, f"/v1/events/{delivered}")


def test_pages_name_the_logged_in_tenant_and_offer_logout(browser_for):
    client, key = browser_for("acme")

    page = html(client, "/v1/events")

    assert f"acme ({key[:16]}…)" in page
    assert 'action="/auth/logout?next=/v1/events"' in page


def test_a_page_without_a_key_offers_the_login(acme, create_event):
    page = html(APIClient(), "/v1/events?status=delivered")

    assert "HTTP 401 Unauthorized" in page
    assert '<a href="/auth/login?next=/v1/events%3Fstatus%3Ddelivered">log in</a>' in page
