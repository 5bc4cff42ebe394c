import pytest
from django.test import Client

from tests.browser.session import csrf_token


@pytest.fixture
def browser_for(issue_key):
    """A Django test client that enforces CSRF, as a browser meets it, logged in with a new
    key of the tenant through the login form. Returns the client and the key."""

    def log_in(tenant_id: str) -> tuple[Client, str]:
        client, key = Client(enforce_csrf_checks=True), issue_key(tenant_id)
        client.get("/auth/login")
        response = client.post("/auth/login", {"api_key": key, "csrfmiddlewaretoken": csrf_token(client)})
        assert (response.status_code, response["Location"]) == (302, "/v1/events")
        return client, key

    return log_in
