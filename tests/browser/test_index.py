"""`/` and `/v1/` say where everything is, without a key: JSON for programs, a page of
links for browsers."""

import pytest
from rest_framework.test import APIClient

from tests.store_hooks import store_calls

LINKS = {
    "docs": "http://testserver/v1/docs",
    "schema": "http://testserver/v1/schema",
    "events": "http://testserver/v1/events",
    "hooks": "http://testserver/v1/hooks",
    "login": "http://testserver/auth/login",
    "health": "http://testserver/health",
    "ready": "http://testserver/health/ready",
}


@pytest.mark.parametrize("path", ["/", "/v1/", "/v1"])
def test_the_index_answers_json_with_links_and_how_to_send_a_key(path):
    with store_calls() as calls:
        response = APIClient().get(path)

    assert (response.status_code, response["Content-Type"]) == (200, "application/json")
    assert response.json() == {
        "name": "triggerapi",
        "authentication": "Send your API key as 'Authorization: Bearer <api key>' on every /v1 request.",
        "links": LINKS,
    }
    assert calls.total() == 0


def test_a_browser_gets_the_index_as_a_page_of_links():
    response = APIClient().get("/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    page = response.content.decode()

    assert (response.status_code, response["Content-Type"]) == (200, "text/html; charset=utf-8")
    for url in LINKS.values():
        assert f'href="{url}"' in page
    assert "Authorization: Bearer &lt;api key&gt;" in page


def test_the_index_takes_only_get():
    response = APIClient().post("/", {}, format="json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
