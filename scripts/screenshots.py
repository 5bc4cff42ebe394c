"""`make screenshots`: the README's pictures of the console, taken from the stack `make run`
started (API at $API, default http://127.0.0.1:8000; its store at $DYNAMODB_HOST, default
http://127.0.0.1:8001). A new tenant of its own gets a little of everything: events, some
acked, a hook whose receiver answers 200 and one whose receiver fails, both served by a
receiver in this process; then headless Chromium logs in to the console and saves
docs/screenshots/console-*.png (or $SCREENSHOTS_DIR). The hooks are disabled at the end,
so the stack stops calling a receiver that is gone."""

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(os.environ.get("SCREENSHOTS_DIR", ROOT / "docs" / "screenshots"))
API = os.environ.get("API", "http://127.0.0.1:8000")
STORE = os.environ.get("DYNAMODB_HOST", "http://127.0.0.1:8001")
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1200, "height": 720}


class Answers(BaseHTTPRequestHandler):
    """/ok answers 200 after a short pause (a latency to show); /flaky answers 503."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ok = self.path == "/ok"
        time.sleep(0.04 if ok else 0)
        body = b'{"received": true}' if ok else b'{"error": "database is down for maintenance"}'
        self.send_response(200 if ok else 503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def issue_key(tenant: str) -> str:
    env = {**os.environ, "DYNAMODB_HOST": STORE}
    command = [sys.executable, "manage.py", "issue_key", tenant, "--json"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"make screenshots: issue_key failed against {STORE}: {done.stderr.strip()[-300:]}")
    return json.loads(done.stdout)["key"]


def wait_for(condition, what: str, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    sys.exit(f"make screenshots: no {what} within {seconds} s (is run_deliveries running in make run?)")


def hook(api: requests.Session, made: list[str], **body) -> str:
    answer = api.post(f"{API}/v1/hooks", json=body)
    answer.raise_for_status()
    made.append(answer.json()["id"])
    return made[-1]


def fill(api: requests.Session, receiver: str, hooks: list[str]) -> dict:
    """The tenant's events and hooks (their ids into `hooks` as they are made); what the
    pictures open."""
    hook(api, hooks, target_url=f"{receiver}/ok", description="Order fulfilment")
    crm_id = hook(api, hooks, target_url=f"{receiver}/flaky", event_types=["customer.created"], description="CRM sync")
    payloads = [{"event_type": "order.created", "order_id": f"ord_{1000 + n}", "total": 1999 + n} for n in range(24)]
    payloads += [{"event_type": "customer.created", "email": f"user{n}@example.com", "plan": "pro"} for n in range(6)]
    api.post(f"{API}/v1/events/batch", json={"events": payloads}).raise_for_status()
    claimed = api.post(f"{API}/v1/events/claim", json={"limit": 18}).json()["events"]
    api.post(f"{API}/v1/events/ack", json={"ids": [e["id"] for e in claimed]}).raise_for_status()
    wait_for(lambda: api.get(f"{API}/v1/stats").json()["events"]["ingested"]["1h"] == 30, "counts")
    wait_for(lambda: api.get(f"{API}/v1/hooks/{crm_id}/deliveries").json()["deliveries"], "deliveries")
    newest = api.get(f"{API}/v1/events", params={"event_type": "customer.created", "limit": 1}).json()["events"][0]
    return {"crm": crm_id, "event": newest["id"]}


def shoot(key: str, made: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{API}/console/login")
        page.fill("#id_api_key", key)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{API}/console/")
        for name, path in (
            ("overview", "/console/"),
            ("event", f"/console/events/{made['event']}"),
            ("hooks", "/console/hooks"),
            ("hook", f"/console/hooks/{made['crm']}"),
        ):
            page.goto(f"{API}{path}")
            page.screenshot(path=OUT / f"console-{name}.png")
            print(f"  {OUT / f'console-{name}.png'}")
        browser.close()


def main() -> None:
    try:
        requests.get(f"{API}/health", timeout=3).raise_for_status()
    except requests.RequestException:
        sys.exit(f"make screenshots: nothing answers at {API}: start `make run` first (or set API).")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver = f"http://127.0.0.1:{server.server_address[1]}"
    key = issue_key(f"demo-{datetime.now(UTC):%H%M%S}")
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {key}"
    hooks: list[str] = []
    try:
        shoot(key, fill(api, receiver, hooks))
    finally:  # whatever happened, the stack stops calling a receiver that is gone
        for hook_id in hooks:
            api.patch(f"{API}/v1/hooks/{hook_id}", json={"status": "disabled"})
        server.shutdown()


if __name__ == "__main__":
    main()
