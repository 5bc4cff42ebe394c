"""Log lines as JSON, one object a line, so CloudWatch Logs Insights (or jq) can filter and
aggregate on fields. The project's one idiom is the standard library's own:
`log.info("delivery attempt", extra={"hook_id": ..., "status_code": ...})`; every key of
`extra` becomes a field of the line. Nothing here decides what is logged; the callers keep
keys and payloads out (tests/integration/test_logs.py)."""

import json
import logging
from datetime import UTC, datetime

# Where a line was logged from (a walk up the stack), and which thread, asyncio task or
# multiprocessing process logged it, are looked up for every record unless switched off (the
# logging HOWTO's "Optimization"): no line of ours shows them, and a request logs two.
# (The process id stays: gunicorn's own lines show it.)
logging._srcfile = None
logging.logThreads = False
logging.logMultiprocessing = False
logging.logAsyncioTasks = False

# What every LogRecord carries by itself; anything else on a record came from `extra`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
}


def fields_of(record: logging.LogRecord) -> dict:
    """The fields a caller passed with `extra=`."""
    return {name: value for name, value in vars(record).items() if name not in _RECORD_ATTRIBUTES}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
            **fields_of(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)
