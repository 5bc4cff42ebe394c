"""What a real server sends: security headers, no CORS, and no server or framework version
in any header (gunicorn's Server header included)."""

import re

import pytest
import requests

from triggerapi.headers import API_POLICY, PAGE_POLICY

VERSIONED = re.compile(r"(gunicorn|django|python|cpython|wsgiserver|werkzeug|whitenoise)\W*\d", re.IGNORECASE)
PATHS = ["/", "/health", "/v1/events", "/v1/docs/", "/auth/login", "/nowhere", "/static/rest_framework/js/default.js"]


@pytest.fixture(scope="module")
def responses(live_url):
    return {path: requests.get(live_url + path, headers={"Accept": "text/html"}, timeout=10) for path in PATHS}


def test_no_header_names_a_server_or_framework_version(responses):
    for path, response in responses.items():
        assert response.headers.get("Server") == "gunicorn", path
        assert [f"{n}: {v}" for n, v in response.headers.items() if VERSIONED.search(v)] == [], path
        assert "X-Powered-By" not in response.headers


def test_every_response_carries_the_security_headers(responses):
    for path, response in responses.items():
        is_page = response.headers["Content-Type"].startswith("text/html")
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "same-origin", path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["Content-Security-Policy"] == (PAGE_POLICY if is_page else API_POLICY), path


def test_a_preflight_from_another_origin_is_refused_and_nothing_allows_cross_origin_reads(live_url, api_for):
    origin = {"Origin": "https://elsewhere.example"}
    preflight = requests.options(
        f"{live_url}/v1/events",
        headers={**origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"},
        timeout=10,
    )
    listing = api_for().get("/v1/events", headers=origin)

    assert (preflight.status_code, preflight.json()["error"]["code"]) == (403, "permission_denied")
    assert listing.status_code == 200
    for response in (preflight, listing):
        assert [name for name in response.headers if name.lower().startswith("access-control-")] == []
