"""Every response carries X-Request-ID, every log line written while serving it names it,
and each request ends with one JSON access line: request id, tenant, method, route (the URL
pattern, never the raw path, which could carry anything), status, latency, its store calls and
the rate limiter's (counted apart)."""

import logging
import re
import time
import uuid
from functools import lru_cache

from django.conf import settings

from triggerapi import metrics
from triggerapi.context import StoreCallCounter, budget, request_id_var, request_scope
from triggerapi.registry import declared

access_log = logging.getLogger("triggerapi.access")

# A client's own id is echoed only when it is safe to put in a header and a log line (and
# is not a secret sent in the wrong header: one that starts as an app says its secrets do).
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_PATH_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def route_of(request) -> str | None:
    """The URL pattern that served the request (`/v1/events/{event_id}/ack`); None when no
    route matched (unknown paths, static files)."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.url_name == "not-found":
        return None
    return _route_named(match.route)


@lru_cache(maxsize=256)  # one per URL pattern
def _route_named(pattern: str) -> str:
    route = _PATH_CONVERTER.sub(r"{\1}", _REGEX_GROUP.sub(r"{\1}", pattern))
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
        safe = _CLIENT_ID.match(sent) and not sent.startswith(tuple(declared("secret_prefixes")))
        request.request_id = sent if safe else uuid.uuid4().hex
        with request_scope(request.request_id) as store_calls:
            response = self.get_response(request)
            response["X-Request-ID"] = request.request_id
            _log_access(request, response, started, store_calls)
            return response


class MetricsMiddleware:
    """The metrics the request wrote, written out as it ends (on Lambda the invocation ends
    with the answer: nothing is left for later)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with metrics.request_metrics():
            return self.get_response(request)


class BudgetMiddleware:
    """Every request gets STORE_BUDGET_SECONDS of store time, then answers (503 if need be)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with budget(settings.STORE_BUDGET_SECONDS):
            return self.get_response(request)


def _log_access(request, response, started: float, store_calls: StoreCallCounter) -> None:
    method = request.method if request.method in _METHODS else "other"
    route = route_of(request)
    fields = {
        "tenant": getattr(getattr(request, "user", None), "tenant_id", None),
        "method": method,
        "route": route,
        "status": response.status_code,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        "store_calls": store_calls.count,
        "limiter_calls": store_calls.limiter,
    }
    access_log.info("%s %s %s", method, route or "(no route)", response.status_code, extra=fields)
