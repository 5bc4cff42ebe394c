"""A tenant's operator using the console in a real (headless) Chromium, against gunicorn, the
local store and `run_deliveries` (so the counts and histories come from the stream, as in
production), with a webhook receiver in this process: log in with a key, read the overview's
numbers and a chart, find an event and open it, create a hook, retry a failed delivery,
replay a range, log out; no page breaks its Content-Security-Policy."""

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from devstack.processes import ROOT, Api, manage, wait_for
from tests.hooks.receiver import Receiver, status

SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")


@pytest.fixture(scope="module")
def stack(delivering_stack):
    env, url, _ = delivering_stack
    return env, url


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def tenant(stack, scopes: str = "ingest,consume,hooks") -> tuple[str, Api]:
    env, url = stack
    name = f"t-{datetime.now(UTC):%H%M%S%f}"
    key = json.loads(manage(env, "issue_key", name, "--scopes", scopes, "--json"))["key"]
    return key, Api(url, key)


def log_in(page, url: str, key: str) -> None:
    page.goto(f"{url}/console/")
    expect(page).to_have_url(re.compile(r"/console/login\?next=/console/"))
    page.fill("#id_api_key", key)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{url}/console/")


def counted(api: Api, **expected: int):
    """The stats once the stream has counted what the test did (within seconds)."""

    def check():
        body = api.get("/v1/stats").json()
        return body if all(body["events"][name] == value for name, value in expected.items()) else None

    return wait_for(check, f"stats {expected}")


def test_an_operator_finds_an_event_fixes_a_hook_retries_and_replays(page, stack, receiver, screenshot):
    _, url = stack
    key, api = tenant(stack)
    ids = [api.post("/v1/events", json={"event_type": "order.created", "order": n}).json()["id"] for n in range(3)]
    [acked] = api.post("/v1/events/claim", json={"limit": 1}).json()["events"]
    assert api.post(f"/v1/events/{acked['id']}/ack").status_code == 200
    counted(api, undelivered=2)

    violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    log_in(page, url, key)
    expect(page.locator("#undelivered")).to_have_text("2")
    expect(page.locator("#ingested")).to_have_text("3")
    chart = page.locator("svg.metric-ingested")
    expect(chart.locator("rect")).to_have_count(60)
    assert any(
        float(height) > 0
        for height in chart.locator("rect").evaluate_all("rs => rs.map(r => r.getAttribute('height'))")
    )
    screenshot("console-overview")

    page.get_by_role("link", name="Events").click()
    page.fill("input[name=event_type]", "order.created")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name=ids[1]).click()
    expect(page.locator("pre.payload")).to_contain_text('"order": 1')
    expect(page.locator(".timeline li").first).to_contain_text("ingested")
    screenshot("console-event")

    page.get_by_role("link", name="Hooks").click()
    page.fill("input[name=target_url]", receiver.url("/in"))
    page.fill("textarea[name=event_types]", "order.paid")
    page.get_by_role("button", name="Create the hook").click()
    secret = SECRET.search(page.locator("#secret").inner_text()).group(0)
    page.get_by_role("link", name="To the hook").click()
    hook_id = page.url.rsplit("/", 1)[1]
    assert secret not in page.content()

    receiver.answer = status(410)  # the receiver is gone: the delivery fails, the hook is disabled
    [paid] = [api.post("/v1/events", json={"event_type": "order.paid"}).json()["id"]]
    wait_for(
        lambda: api.get(f"/v1/hooks/{hook_id}/deliveries", params={"status": "failed"}).json()["deliveries"],
        "a failed delivery",
    )
    page.goto(f"{url}/console/hooks/{hook_id}?status=failed")
    row = page.locator("table.deliveries tbody tr", has_text=paid)
    expect(row).to_contain_text("answered 410")
    page.get_by_role("button", name="Enable").click()
    receiver.answer = status(200)
    page.goto(f"{url}/console/hooks/{hook_id}?status=failed")
    page.locator("table.deliveries tbody tr", has_text=paid).get_by_role("button", name="Retry").click()
    page.get_by_role("link", name="succeeded").click()
    expect(page.locator("table.deliveries tbody tr", has_text=paid)).to_contain_text("answered 200")
    screenshot("console-hook")

    page.get_by_role("link", name="Replay").click()
    now = datetime.now(UTC)
    page.fill("input[name=since]", (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S"))
    page.fill("input[name=until]", (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S"))
    page.uncheck("input[name=statuses][value=failed]")
    page.get_by_role("button", name="Replay").click()
    expect(page.locator("#replayed")).to_have_text("1")
    assert api.get(f"/v1/events/{acked['id']}").json()["status"] == "undelivered"

    assert violations == []  # every page above ran under the console's CSP (no inline style)
    cookies = page.context.cookies()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{url}/console/login")
    stolen = page.context.browser.new_context()
    stolen.add_cookies(cookies)
    old = stolen.new_page()
    old.goto(f"{url}/console/events")
    expect(old).to_have_url(re.compile(r"/console/login\?next=/console/events"))
    stolen.close()


def test_make_screenshots_takes_the_consoles_pictures_from_a_running_stack(stack, tmp_path):
    env, url = stack

    done = subprocess.run(
        [sys.executable, "-m", "scripts.screenshots"],
        cwd=ROOT,
        env={**env, "API": url, "SCREENSHOTS_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    taken = sorted(path.name for path in tmp_path.iterdir())
    assert taken == ["console-event.png", "console-hook.png", "console-hooks.png", "console-overview.png"]
    assert all(path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for path in tmp_path.iterdir())
