"""What every request no longer pays for: Django's database receivers (there is no
database) and the logging module's look-ups no line of ours shows."""

import logging
import subprocess
import sys


def test_no_database_receiver_runs_at_a_requests_start_or_end():
    """In a fresh interpreter: Django's test client connects close_old_connections again
    after each request it makes."""
    script = (
        "import django; django.setup()\n"
        "from django.core.signals import request_finished, request_started\n"
        "print(sorted(r().__name__ for s in (request_started, request_finished) for _, r, *_ in s.receivers))"
    )
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "reset_queries" not in found and "close_old_connections" not in found
    assert "close_caches" in found  # the others stay


def test_log_records_skip_the_caller_and_thread_look_ups():
    assert logging._srcfile is None
    assert not logging.logThreads and not logging.logMultiprocessing and not logging.logAsyncioTasks
    assert logging.logProcesses  # gunicorn's own lines show the process id
