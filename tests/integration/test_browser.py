"""A person using the browsable API in a real (headless) Chromium, against gunicorn and a
moto server: log in with a key, create, ack and delete events from the pages, log out."""

import re

from playwright.sync_api import expect

from devstack.processes import Api
from tests.test_openapi import CONTRACT, HOOKS, OBSERVE


def log_in(page, live_url: str, key: str) -> None:
    page.goto(f"{live_url}/v1/events")
    page.locator("#login-hint a").click()
    page.fill("#id_api_key", key)
    page.click("#login-submit")


def response_info(page):
    return page.locator(".response-info pre")


def create_from_the_form(page, payload: str) -> str:
    """Posts the list page's raw-data form; returns the new event's id."""
    page.fill("#id__content", payload)
    page.locator("#post-generic-content-form button", has_text="POST").click()
    expect(response_info(page)).to_contain_text("HTTP 201 Created")
    return re.search(r'"id": "(evt_\w+)"', response_info(page).inner_text()).group(1)


def test_a_tenant_logs_in_creates_an_event_acks_it_sees_it_delivered_and_logs_out(page, live_url, new_key, screenshot):
    tenant, key = new_key("acme")
    log_in(page, live_url, key)
    expect(page).to_have_url(f"{live_url}/v1/events")
    expect(response_info(page)).to_contain_text("HTTP 200 OK")
    expect(page.locator(".navbar")).to_contain_text(tenant)

    event_id = create_from_the_form(page, '{"event_type": "customer.created", "email": "alice@acme.com"}')
    page.locator(".response-info a", has_text=f"/v1/events/{event_id}").click()
    expect(response_info(page)).to_contain_text('"status": "undelivered"')
    screenshot("event-detail")
    page.click("#ack-button")
    expect(response_info(page)).to_contain_text(f'"id": "{event_id}",\n    "status": "acknowledged"')

    page.goto(f"{live_url}/v1/events")
    page.select_option("#event-filters select[name=status]", "delivered")
    page.click("#apply-filters")
    expect(page).to_have_url(f"{live_url}/v1/events?status=delivered")
    expect(response_info(page)).to_contain_text(f'"id": "{event_id}",')
    expect(response_info(page)).to_contain_text('"status": "delivered"')
    screenshot("event-list-delivered")

    page.locator(".navbar .dropdown-toggle").click()
    page.locator(".navbar a", has_text="Log out").click()
    expect(page.locator("#login-form")).to_be_visible()
    page.goto(f"{live_url}/v1/events")
    expect(response_info(page)).to_contain_text("HTTP 401 Unauthorized")


def test_a_tenant_deletes_an_event_from_its_page(page, live_url, new_key):
    _, key = new_key()
    event_id = Api(live_url, key).post("/v1/events", json={"n": 1}).json()["id"]
    log_in(page, live_url, key)

    page.goto(f"{live_url}/v1/events/{event_id}")
    page.locator("button", has_text="DELETE").first.click()
    page.locator("#deleteModal button", has_text="Delete").click()

    expect(response_info(page)).to_contain_text("HTTP 204 No Content")
    assert Api(live_url, key).get(f"/v1/events/{event_id}").status_code == 404


def test_a_wrong_key_shows_an_error_on_the_login_page(page, live_url, screenshot):
    log_in(page, live_url, "tk_live_" + "x" * 43)

    expect(page.locator("#login-error")).to_have_text("Unknown or revoked API key.")
    expect(page).to_have_url(re.compile(r"/auth/login"))
    screenshot("login-wrong-key")


def test_another_tenants_event_url_shows_404(page, live_url, new_key, screenshot):
    _, owner_key = new_key()
    _, stranger_key = new_key()
    event_id = Api(live_url, owner_key).post("/v1/events", json={"secret": True}).json()["id"]
    log_in(page, live_url, stranger_key)

    page.goto(f"{live_url}/v1/events/{event_id}")

    expect(response_info(page)).to_contain_text("HTTP 404 Not Found")
    expect(response_info(page)).to_contain_text('"code": "not_found"')
    expect(response_info(page)).not_to_contain_text("secret")
    screenshot("other-tenants-event-404")


def test_swagger_ui_renders_every_operation_without_leaving_the_site(page, live_url, screenshot):
    requested_hosts = set()
    page.on("request", lambda request: requested_hosts.add(request.url.split("/")[2]))

    page.goto(f"{live_url}/v1/docs/")

    expect(page.locator(".opblock")).to_have_count(len(CONTRACT | HOOKS | OBSERVE))
    expect(page.locator(".opblock-summary-path", has_text="/v1/events/{event_id}/ack")).to_be_visible()
    expect(page.locator(".btn.authorize")).to_be_visible()
    assert requested_hosts == {live_url.split("/")[2]}
    screenshot("swagger-ui")


def test_swagger_ui_tries_out_a_call_with_the_bearer_key(page, live_url, new_key):
    _, key = new_key()
    page.goto(f"{live_url}/v1/docs/")
    page.click(".btn.authorize")
    page.fill(".modal-ux input", key)
    page.click(".modal-ux .btn.authorize")
    page.click(".modal-ux .btn-done")

    operation = page.locator("#operations-events-events_list")
    operation.locator(".opblock-summary").click()
    operation.locator(".try-out__btn").click()
    operation.locator(".execute").click()

    expect(operation.locator(".live-responses-table tbody .response-col_status")).to_have_text("200")
    expect(operation.locator(".live-responses-table tbody .microlight").first).to_contain_text('"has_more": false')


def test_every_page_runs_under_its_content_security_policy_without_a_violation(page, live_url, new_key):
    """Chromium reports each thing a CSP blocks on the console; the pages must need none."""
    violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    _, key = new_key()
    event_id = Api(live_url, key).post("/v1/events", json={"n": 1}).json()["id"]

    page.goto(f"{live_url}/")
    expect(page.locator("#index-links a")).to_have_count(7)
    log_in(page, live_url, key)
    expect(response_info(page)).to_contain_text("HTTP 200 OK")
    page.goto(f"{live_url}/v1/events/{event_id}")
    expect(page.locator("#ack-button")).to_be_visible()
    page.goto(f"{live_url}/v1/docs/")
    expect(page.locator(".opblock").first).to_be_visible()
    page.goto(f"{live_url}/v1/events")
    page.locator(".navbar .dropdown-toggle").click()
    page.locator(".navbar a", has_text="Log out").click()
    expect(page.locator("#login-form")).to_be_visible()

    assert violations == []
