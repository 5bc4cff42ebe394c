"""A browser's session without a browser: Django's test client keeps the cookies, enforces
CSRF, and logs in through the console's own form."""

import re

from django.test import Client

FORMS = re.compile(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S)


def token_of(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def logged_in(key: str) -> Client:
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/console/login").content.decode()
    answer = browser.post("/console/login", {"api_key": key, "csrfmiddlewaretoken": token_of(page)})
    assert answer.status_code == 302 and answer.headers["Location"] == "/console/"
    return browser
