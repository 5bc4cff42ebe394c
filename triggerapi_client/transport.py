"""One keep-alive session per tenant key, when a failed request is worth repeating, and
the pieces every endpoint's method is built from."""

import random
import time
from collections.abc import Callable, Iterator

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from triggerapi_client.errors import BY_STATUS, ApiError, TransportError


def _error(response: requests.Response) -> ApiError:
    try:
        body = response.json()["error"]
        code, message, details = body["code"], body["message"], body.get("details") or {}
    except (ValueError, KeyError, TypeError):
        code, message, details = "http_error", response.reason or "no error body", {}
    try:
        retry_after = max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        retry_after = None
    cls = BY_STATUS.get(response.status_code, ApiError)
    request_id = response.headers.get("X-Request-ID")
    return cls(response.status_code, code, message, details, retry_after=retry_after, request_id=request_id)


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request could not even connect, so the API never saw it."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0].reason if exc.args and isinstance(exc.args[0], MaxRetryError) else None
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


class Transport:
    """A 429 or 503 is repeated after its Retry-After (up to `retries` times) when the
    caller says repeating the request is safe, and any write the 503 says was not applied.
    Otherwise the error is raised: an ApiError subclass with the envelope's code, message
    and details."""

    def __init__(self, api_url: str, api_key: str, *, timeout: tuple[float, float], retries: int):
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {api_key}", "Accept": "application/json"})

    def close(self) -> None:
        self.session.close()

    def call(self, method: str, path: str, *, repeatable: bool, read_timeout=None, body=None, **kwargs):
        """One request, repeated as the class docstring says; the response if it is a 2xx."""
        timeout = (self.timeout[0], read_timeout or self.timeout[1])
        if body is not None:
            kwargs["json"] = body
        attempt = 0
        while True:
            try:
                response = self.session.request(method, self.api_url + path, timeout=timeout, **kwargs)
            except requests.RequestException as exc:
                error: ApiError = TransportError(f"{type(exc).__name__}: {exc}", sent=not _never_sent(exc))
                wait = None
            else:
                if response.status_code < 400:
                    return response
                error = _error(response)
                wait = error.retry_after
            if attempt == self.retries or not self._worth_repeating(error, repeatable):
                raise error
            time.sleep(wait if wait is not None else random.uniform(0, 0.5 * 2**attempt))
            attempt += 1

    @staticmethod
    def _worth_repeating(error: ApiError, repeatable: bool) -> bool:
        if isinstance(error, TransportError):
            return repeatable or not error.sent
        if error.status not in (429, 503):
            return False
        return repeatable or error.write == "not_applied"


def without_none(**values) -> dict:
    """A query or body with only the values given: the API's defaults apply to the rest."""
    return {name: value for name, value in values.items() if value is not None}


def every(list_page: Callable, items: str, page_size: int) -> Iterator:
    """Every item of a list endpoint once, following the cursor page by page."""
    cursor = None
    while True:
        page = list_page(limit=page_size, cursor=cursor)
        yield from getattr(page, items)
        if not page.has_more:
            return
        cursor = page.next_cursor
