"""Handlers the worker tests load by dotted path (`--handler`)."""

import logging
import os
import threading
import time

logger = logging.getLogger("tests.handlers")
calls: list[tuple[str, str]] = []
_count = 0


def record(event: dict) -> None:
    """Append the event id to the file $HANDLED_LOG (O_APPEND: safe from several processes)."""
    global _count
    with open(os.environ["HANDLED_LOG"], "a") as log:
        log.write(event["id"] + "\n")
    _count += 1
    logger.warning("recorded #%d %s", _count, event["id"])


def record_slowly(event: dict) -> None:
    """A handler that takes a while, as real work does, so a signal can land mid-batch."""
    record(event)
    time.sleep(0.1)


def count_by_thread(event: dict) -> None:
    """In-process: which tenant's thread handled which event."""
    calls.append((threading.current_thread().name.removeprefix("worker-"), event["id"]))


def fail_marked(event: dict) -> None:
    count_by_thread(event)
    if event["payload"].get("fail"):
        raise RuntimeError(f"cannot handle {event['id']}")


def record_after_5_seconds(event: dict) -> None:
    """Work that outlasts a 4 s lease: the heartbeat must keep it."""
    time.sleep(5)
    record(event)
