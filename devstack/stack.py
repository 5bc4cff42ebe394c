"""`make run`: an embedded DynamoDB (unless DYNAMODB_HOST is set), the tables, the demo
tenants (keys printed once), the API on http://127.0.0.1:8000 (the console at /console/), and push delivery
(`manage.py run_deliveries`, webhooks to http:// and 127.0.0.1 allowed, for receivers on
this machine). Ctrl-C stops it all.

What can be checked before anything starts is checked first (the ports are free, a
DYNAMODB_HOST answers), so a second `make run` fails in one line instead of printing fresh
keys for a store it then leaves behind."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from devstack.processes import API_THREADS, api_env
from triggerapi.secret_key import KEY_FILE

MANAGE = Path(__file__).resolve().parents[1] / "manage.py"
HOST = "127.0.0.1"
STORE_PORT = int(os.environ.get("LOCAL_DYNAMODB_PORT", "8001"))
API_PORT = int(os.environ.get("PORT", "8000"))


class StackError(Exception):
    """Why make run cannot start, in one line with what to do about it."""


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        # As the servers themselves bind: a port left in TIME_WAIT by the last run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port_after(port: int, taken: set[int]) -> int:
    """A port to suggest: the next hundred up that is free and not one we use already."""
    suggestion = port + 100
    while suggestion in taken or not port_is_free(suggestion):
        suggestion += 100
    return suggestion


def check_ports(store_port: int | None) -> None:
    """The API's port, and the embedded store's when we start one: distinct and free."""
    ports = {"PORT": (API_PORT, "the API")}
    if store_port is not None:
        if store_port == API_PORT:
            raise StackError(
                f"PORT and LOCAL_DYNAMODB_PORT are both {API_PORT}: the API and the embedded DynamoDB "
                f"need a port each, e.g. `LOCAL_DYNAMODB_PORT={free_port_after(API_PORT, {API_PORT})} make run`."
            )
        ports["LOCAL_DYNAMODB_PORT"] = (store_port, "the embedded DynamoDB")
    taken = {port for port, _ in ports.values()}
    for variable, (port, what) in ports.items():
        if not port_is_free(port):
            raise StackError(
                f"port {port} is busy (another make run?), and {what} needs it: "
                f"set {variable}, e.g. `{variable}={free_port_after(port, taken)} make run`."
            )


def check_store_answers(url: str) -> None:
    parts = urlsplit(url)
    if not parts.hostname:
        raise StackError(f"DYNAMODB_HOST={url} is not a URL like http://127.0.0.1:8001.")
    try:
        socket.create_connection((parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)), 2).close()
    except OSError:
        raise StackError(
            f"nothing answers at DYNAMODB_HOST={url}: `unset DYNAMODB_HOST` and make run starts its own "
            "store, or start the store that should answer there."
        ) from None


def start_store() -> tuple[subprocess.Popen, str]:
    store = subprocess.Popen(
        [sys.executable, "-m", "devstack.localstore", "--port", str(STORE_PORT)],
        stdout=subprocess.PIPE,
        text=True,
    )
    first_line = store.stdout.readline().strip()
    if not first_line.startswith("listening on "):
        store.wait()
        raise StackError(f"the embedded DynamoDB did not start on port {STORE_PORT} (set LOCAL_DYNAMODB_PORT).")
    return store, first_line.removeprefix("listening on ")


def prepare_store() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggerapi.settings")
    import django
    from django.core.management import CommandError, call_command

    django.setup()
    try:
        call_command("create_tables")
        call_command("seed_tenants")
    except CommandError as exc:
        raise StackError(str(exc)) from None


def print_how_to_join() -> None:
    """What another shell needs to run manage.py (run_deliveries, issue_key, ...) against
    this stack: its store. The SECRET_KEY that seals hook secrets and signs cursors is the
    checkout's own (.secret_key), which every process started from here reads by itself."""
    print("  To use manage.py against this stack from another shell:")
    print(f"    export DYNAMODB_HOST={os.environ['DYNAMODB_HOST']}")
    if os.environ.get("SECRET_KEY"):
        print("    (and the SECRET_KEY you exported before make run)")
    else:
        print(f"  (no SECRET_KEY to export: every process started from this checkout uses the one in {KEY_FILE})")


def allow_local_hooks() -> None:
    """Webhook targets on this machine (http://127.0.0.1:...): the API must accept them and
    the deliveries reach them. Both refuse them by default (docs: the SSRF checks); a
    developer's own setting still wins."""
    os.environ.setdefault("HOOKS_ALLOW_HTTP", "true")
    os.environ.setdefault("HOOKS_ALLOW_PRIVATE_TARGETS", "true")


def deliver() -> subprocess.Popen:
    """run_deliveries beside the API. In a session of its own: a Ctrl-C at the terminal
    reaches only us, and we stop it with one SIGTERM (a second signal would make it quit
    without finishing the batch in hand)."""
    return subprocess.Popen([sys.executable, str(MANAGE), "run_deliveries"], start_new_session=True)


def serve() -> subprocess.Popen:
    """gunicorn, as in the tests (Django's runserver would put its and Python's versions in
    a Server header), reloading on code changes. The checkout's SECRET_KEY outlives a reload
    (and make run), so browser sessions and cursors stay valid. Threads enough for waiting
    claims and the requests beside them (devstack.processes.API_THREADS; README, "Waiting
    claims")."""
    env = api_env(dict(os.environ), API_THREADS)
    bind = f"{HOST}:{API_PORT}"
    args = ["--bind", bind, "--workers", "1", "--worker-class", "gthread", "--threads", str(API_THREADS), "--reload"]
    # gunicorn's control socket is one path per user (~/.gunicorn): no two servers should share it.
    args.append("--no-control-socket")
    # The longest list URL the schema allows is about 5 KB; gunicorn's default line is 4 KB.
    args += ["--limit-request-line", "8190"]
    return subprocess.Popen([sys.executable, "-m", "gunicorn", "triggerapi.wsgi", *args], env=env)


def run(children: list[subprocess.Popen]) -> int:
    started = time.monotonic()
    own_store = not os.environ.get("DYNAMODB_HOST")
    check_ports(STORE_PORT if own_store else None)
    if own_store:
        store, url = start_store()
        children.append(store)
        os.environ["DYNAMODB_HOST"] = url
        print(f"Embedded DynamoDB (moto) at {url}: its data lasts until Ctrl-C.")
    else:
        check_store_answers(os.environ["DYNAMODB_HOST"])
    print_how_to_join()
    allow_local_hooks()
    prepare_store()
    elapsed = time.monotonic() - started
    print(f"\nStore ready in {elapsed:.1f}s; starting the API on http://{HOST}:{API_PORT} (Ctrl-C stops everything)")
    print(f"  The console: http://{HOST}:{API_PORT}/console/ (log in with one of the keys above)\n")
    sys.stdout.flush()
    server = serve()
    children.append(server)
    children.append(deliver())
    return server.wait()


STOP_SECONDS = 15


def main() -> None:
    # A plain `kill` should clean up like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Ctrl-C stops everything even when we were started with SIGINT ignored (as a shell does
    # for a background job), which Python would otherwise keep.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    children: list[subprocess.Popen] = []
    try:
        sys.exit(run(children))
    except StackError as exc:
        sys.exit(f"make run: {exc}")
    except KeyboardInterrupt:
        pass
    finally:
        stop(children)


def stop(children: list[subprocess.Popen]) -> None:
    """SIGTERM to the API and run_deliveries together, then to the store once they are done
    with it; each group gets STOP_SECONDS, after which a child still running is killed (and
    said so), so that Ctrl-C always ends make run."""
    started_first = children[:1] if children and children[0].args[2:3] == ["devstack.localstore"] else []
    for group in ([c for c in children if c not in started_first], started_first):
        for child in group:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for child in group:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"make run: {' '.join(map(str, child.args[1:4]))} did not stop within {STOP_SECONDS} s: killed.")
                child.kill()
                child.wait()


if __name__ == "__main__":
    main()
