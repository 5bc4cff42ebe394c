"""gunicorn settings for the servers devstack.processes starts (the tests', the benchmark's):
a worker told to stop leaves at once once it is done, without waiting for its idle threads.

A worker's interpreter, on leaving, joins its thread pool; a thread still waiting for the
next request on a connection kept alive (or for the first on a new one) holds the exit for
up to its timeout, up to 5 s, with every answer already sent. So once the worker has
stopped (SIGQUIT, or SIGTERM after its requests ended), its output is flushed and it leaves
with os._exit, which coverage still saves its data on (pyproject.toml's `patch = ["_exit"]`).
A worker that fails to boot leaves as gunicorn has it leave, with its own status.
"""

import logging
import os
import sys


def worker_exit(server, worker) -> None:
    if worker.alive:  # never told to stop: it failed, and its status says how
        return
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
