"""`python manage.py ...` for the tests and the benchmark (devstack.processes.manage), each
command in a process of its own, without the second an interpreter and Django take to start
every time: they were a quarter of some live test modules' time (issue_key for each tenant).

A server per environment (`python -m devstack.forked_commands`, started on its first
command) imports Django and sets it up once, then forks a child for each command, which
runs manage.py's main() with the command's arguments, its output to files of the caller's
and its input from /dev/null, and leaves with the status `python manage.py` would have. A
fork starts from the server as it was before any command ran: no command sees another's
state. A command that cannot be run that way (the server did not start) runs as a process
of its own, as before.
"""

import atexit
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[1]
# Servers kept (environments differ by module: tables of their own); the oldest is closed.
KEEP = 3
_servers: OrderedDict[tuple, subprocess.Popen | None] = OrderedDict()
_lock = threading.Lock()


def run(env: dict, args: tuple[str, ...]) -> subprocess.CompletedProcess:
    """The command's status and output, as subprocess.run of `python manage.py *args` gives
    them."""
    with _lock:
        server = _server(env)
        if server is not None:
            with tempfile.TemporaryDirectory() as scratch:
                out, err = Path(scratch, "stdout"), Path(scratch, "stderr")
                server.stdin.write(json.dumps({"args": args, "stdout": str(out), "stderr": str(err)}) + "\n")
                server.stdin.flush()
                if reply := server.stdout.readline():
                    status = json.loads(reply)["status"]
                    return subprocess.CompletedProcess(args, status, out.read_text(), err.read_text())
            _servers[_key(env)] = None  # it died: this environment's commands run as before
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def _key(env: dict) -> tuple:
    return tuple(sorted(env.items()))


def _server(env: dict) -> subprocess.Popen | None:
    key = _key(env)
    if key in _servers:
        _servers.move_to_end(key)
        return _servers[key]
    server = subprocess.Popen(
        [sys.executable, "-m", "devstack.forked_commands"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    if server.stdout.readline() != "ready\n":
        _close(server)
        server = None
    _servers[key] = server
    while len(_servers) > KEEP:
        _close(_servers.popitem(last=False)[1])
    return server


def _close(server: subprocess.Popen | None) -> None:
    """End of input: the server leaves as a process does (its coverage data written)."""
    if server is not None:
        server.stdin.close()
        server.wait(timeout=30)


@atexit.register
def _close_all() -> None:
    while _servers:
        _close(_servers.popitem()[1])


def serve() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggerapi.settings")
    import django
    from django.core.management import get_commands

    django.setup()
    # What every command's child would import again: the commands, and the URLs (with their
    # views) that the system checks load. (Store clients are left to each command: made
    # before the fork, they made each command's first request a second slower.)
    get_commands()
    from django.urls import get_resolver

    assert get_resolver().url_patterns
    import manage

    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        child = os.fork()
        if child == 0:
            _command(request, manage.main)
        print(json.dumps({"status": os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])}), flush=True)


def _command(request: dict, main) -> NoReturn:
    """In the child: manage.py's main() with the request's arguments and output, ended as
    the interpreter ends `python manage.py` (SystemExit's code, or the traceback and 1; the
    threads joined, the atexit functions run, coverage's among them), short of tearing down
    every module the server imported, a tenth of a second."""
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
    sys.argv = ["manage.py", *request["args"]]
    status = 0
    try:
        main()
    except SystemExit as exit:
        if exit.code is None or isinstance(exit.code, int):
            status = exit.code or 0
        else:
            print(exit.code, file=sys.stderr)
            status = 1
    except BaseException:
        sys.excepthook(*sys.exc_info())
        status = 1
    threading._shutdown()  # what the interpreter does first on leaving: join the threads
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    serve()
