"""`make run`: an embedded DynamoDB (unless DYNAMODB_HOST is set), the tables, the demo
tenants (keys printed once), and the API on http://127.0.0.1:8000. Ctrl-C stops it all."""

import os
import signal
import subprocess
import sys
import time

STORE_PORT = os.environ.get("LOCAL_DYNAMODB_PORT", "8001")
API_ADDRESS = f"127.0.0.1:{os.environ.get('PORT', '8000')}"


def _start_store() -> tuple[subprocess.Popen, str]:
    store = subprocess.Popen(
        [sys.executable, "-m", "triggerapi.localstore", "--port", STORE_PORT],
        stdout=subprocess.PIPE,
        text=True,
    )
    first_line = store.stdout.readline().strip()
    if not first_line.startswith("listening on "):
        store.wait()
        sys.exit(f"The embedded DynamoDB did not start (is port {STORE_PORT} free? set LOCAL_DYNAMODB_PORT).")
    return store, first_line.removeprefix("listening on ")


def main() -> None:
    # A plain `kill` should clean up like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    started = time.monotonic()
    children: list[subprocess.Popen] = []
    try:
        if not os.environ.get("DYNAMODB_HOST"):
            store, url = _start_store()
            children.append(store)
            os.environ["DYNAMODB_HOST"] = url
            print(f"Embedded DynamoDB (moto) at {url}: its data lasts until Ctrl-C.")
            print(f"  To use manage.py against it from another shell: export DYNAMODB_HOST={url}")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggerapi.settings")
        import django
        from django.core.management import call_command

        django.setup()
        call_command("create_tables")
        call_command("seed_tenants")
        elapsed = time.monotonic() - started
        print(f"\nStore ready in {elapsed:.1f}s; starting the API on http://{API_ADDRESS} (Ctrl-C stops everything)\n")
        sys.stdout.flush()
        server = subprocess.Popen([sys.executable, "manage.py", "runserver", API_ADDRESS])
        children.append(server)
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
            child.wait()


if __name__ == "__main__":
    main()
