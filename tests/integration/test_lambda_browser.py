"""The browser login as Lambda serves it: through Zappa's handler on the `prod` stage, over
API Gateway's https, with the cookie flags triggerapi.settings sets on Lambda."""

import re
from urllib.parse import urlencode

import pytest

from devstack.lambda_probe import HOST, rest_event
from tests.integration.lambda_app import lambda_handler, lambda_settings, point_models_at, write_zappa_settings

ON_LAMBDA = ("ALLOWED_HOSTS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")


@pytest.fixture
def send(tmp_path, live_env, settings, monkeypatch):
    write_zappa_settings(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name, value in lambda_settings(*ON_LAMBDA).items():
        setattr(settings, name, value)
    point_models_at(monkeypatch, live_env["DYNAMODB_HOST"], live_env["TABLE_PREFIX"])
    with lambda_handler() as handler:
        yield lambda *args, **kwargs: handler.handler(rest_event(*args, **kwargs), None)


def cookies(response: dict) -> dict[str, str]:
    """Each Set-Cookie, by name: the whole header line (Zappa passes Django's leading space on)."""
    lines = [line.strip() for line in response["multiValueHeaders"].get("Set-Cookie", [])]
    return {line.split("=", 1)[0]: line for line in lines}


def value(cookie_line: str) -> str:
    return re.match(r"[^=]+=([^;]*)", cookie_line).group(1)


def test_logging_in_on_the_prod_stage_sets_secure_httponly_cookies_and_lands_under_the_stage(send, new_key):
    _, key = new_key()
    page = send("GET", "/auth/login")
    csrf = value(cookies(page)["csrftoken"])
    form = urlencode({"api_key": key, "csrfmiddlewaretoken": csrf})
    browser_headers = {"Cookie": f"csrftoken={csrf}", "Origin": f"https://{HOST}"}

    login = send(
        "POST",
        "/auth/login",
        body=form,
        headers={**browser_headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    session = value(cookies(login)["sessionid"])
    listing = send("GET", "/v1/events", headers={"Cookie": f"sessionid={session}", "Accept": "application/json"})

    assert page["statusCode"] == 200 and 'action="/prod/auth/login"' in page["body"]
    assert (login["statusCode"], login["headers"]["Location"]) == (302, "/prod/v1/events")
    for cookie in (cookies(page)["csrftoken"], cookies(login)["sessionid"]):
        assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {part.strip() for part in cookie.split(";")}
    assert (listing["statusCode"], listing["body"]) == (200, '{"events":[],"next_cursor":null,"has_more":false}')


def test_the_console_on_the_prod_stage_keeps_the_stage_in_every_link_and_redirect(send, new_key):
    _, key = new_key()
    bounced = send("GET", "/console/events")
    page = send("GET", "/console/login")
    csrf = value(cookies(page)["csrftoken"])
    form = urlencode({"api_key": key, "csrfmiddlewaretoken": csrf, "next": "/prod/console/events"})
    login = send(
        "POST",
        "/console/login",
        body=form,
        headers={
            "Cookie": f"csrftoken={csrf}",
            "Origin": f"https://{HOST}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    session = value(cookies(login)["sessionid"])
    events = send("GET", "/console/events", headers={"Cookie": f"sessionid={session}", "Accept": "text/html"})
    stylesheet = send("GET", "/static/console/console.css")

    assert (bounced["statusCode"], bounced["headers"]["Location"]) == (
        302,
        "/prod/console/login?next=/prod/console/events",
    )
    assert (login["statusCode"], login["headers"]["Location"]) == (302, "/prod/console/events")
    assert events["statusCode"] == 200 and 'href="/prod/static/console/console.css"' in events["body"]
    assert 'href="/prod/console/hooks"' in events["body"] and 'action="/prod/console/logout"' in events["body"]
    assert stylesheet["statusCode"] == 200 and ".bar" in stylesheet["body"]
