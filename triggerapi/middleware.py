"""Every response carries X-Request-ID, and every log line written while serving it names it."""

import contextvars
import logging
import re
import time
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
access_log = logging.getLogger("triggerapi.access")

# A client's own id is echoed only when it is safe to put in a header and a log line.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


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
        request.request_id = sent if _CLIENT_ID.match(sent) else uuid.uuid4().hex
        token = request_id_var.set(request.request_id)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.request_id
            access_log.info(
                "%s %s %s %.1fms tenant=%s",
                request.method,
                request.path,
                response.status_code,
                (time.perf_counter() - started) * 1000,
                getattr(getattr(request, "user", None), "tenant_id", "-"),
            )
            return response
        finally:
            request_id_var.reset(token)
