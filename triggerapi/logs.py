"""Log lines as JSON, one object a line, so CloudWatch Logs Insights (or jq) can filter and
aggregate on fields: `extra={"fields": {...}}` adds them to the line. Nothing here decides
what is logged; the callers keep keys and payloads out (tests/integration/test_logs.py)."""

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)
