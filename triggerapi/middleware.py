"""Every response carries X-Request-ID, every log line written while serving it names it,
and each request ends with one JSON access line: request id, tenant, method, route (the URL
pattern, never the raw path, which could carry anything), status, latency and store calls."""

import contextvars
import logging
import re
import threading
import time
import uuid

from tenants.keys import KEY_PREFIX

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
access_log = logging.getLogger("triggerapi.access")

# A client's own id is echoed only when it is safe to put in a header and a log line (and
# is not an API key sent in the wrong header).
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_PATH_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


class _Counter:
    def __init__(self):
        self.count = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.count += 1


_store_calls: contextvars.ContextVar[_Counter | None] = contextvars.ContextVar("store_calls", default=None)


def note_store_call() -> None:
    """Counts one DynamoDB request (an attempt: retries count) against the request being
    served; outside a request, nothing. triggerapi.store.call calls it; calls made on the
    store pool count because each runs in a copy of the request's context."""
    counter = _store_calls.get()
    if counter is not None:
        counter.add()


def route_of(request) -> str | None:
    """The URL pattern that served the request (`/v1/events/{event_id}/ack`); None when no
    route matched (unknown paths, static files)."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.url_name == "not-found":
        return None
    route = _PATH_CONVERTER.sub(r"{\1}", _REGEX_GROUP.sub(r"{\1}", match.route))
    return "/" + route.removeprefix("^").removesuffix("$").removesuffix("/?")


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        sent = request.headers.get("X-Request-ID", "")
        safe = _CLIENT_ID.match(sent) and not sent.startswith(KEY_PREFIX)
        request.request_id = sent if safe else uuid.uuid4().hex
        id_token, calls_token = request_id_var.set(request.request_id), _store_calls.set(_Counter())
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.request_id
            _log_access(request, response, started)
            return response
        finally:
            request_id_var.reset(id_token)
            _store_calls.reset(calls_token)


def _log_access(request, response, started: float) -> None:
    method = request.method if request.method in _METHODS else "other"
    route = route_of(request)
    fields = {
        "tenant": getattr(getattr(request, "user", None), "tenant_id", None),
        "method": method,
        "route": route,
        "status": response.status_code,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        "store_calls": _store_calls.get().count,
    }
    access_log.info("%s %s %s", method, route or "(no route)", response.status_code, extra=fields)
