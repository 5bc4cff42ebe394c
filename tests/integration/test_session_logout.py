"""Logout over real HTTP, with the sessions table on the moto server: a copy of the session
cookie taken before logout stops working with it."""

import requests


def log_in(live_url: str, key: str) -> requests.Session:
    browser = requests.Session()
    browser.get(f"{live_url}/auth/login", timeout=10)
    form = {"api_key": key, "csrfmiddlewaretoken": browser.cookies["csrftoken"]}
    response = browser.post(f"{live_url}/auth/login", data=form, allow_redirects=False, timeout=10)
    assert response.status_code == 302
    return browser


def test_a_copied_session_cookie_stops_working_when_the_browser_logs_out(live_url, new_key):
    browser = log_in(live_url, new_key()[1])
    copy = requests.Session()
    copy.cookies.set("sessionid", browser.cookies["sessionid"])
    before = copy.get(f"{live_url}/v1/events", timeout=10)

    logout = browser.post(
        f"{live_url}/auth/logout",
        data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=10,
    )
    after = copy.get(f"{live_url}/v1/events", timeout=10)

    assert (before.status_code, before.json()["events"]) == (200, [])
    assert logout.status_code == 302
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "authentication_failed"
