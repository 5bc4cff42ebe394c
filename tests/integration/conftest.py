"""Real parts: a moto server process on a free loopback port, the management commands run
against it as a user would run them, and the app served by gunicorn over HTTP."""

import json
import sys
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from devstack.processes import ROOT, Api, Child, hooks_env, manage, server_env, start_api, start_store

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-artifacts" / "browser"
# Two shared cores: give the page time to answer before an expectation gives up.
expect.set_options(timeout=15_000)


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def dynamodb_url():
    """The store every live test shares, left out of `make test`'s coverage (which measures
    each child process that inherits COVERAGE_PROCESS_CONFIG): it serves them all one request
    at a time, and coverage's tracer slows every line it runs, moto's too, on Python 3.13.
    Traced, it lost the 1 s leases of test_heartbeats.py. Its own module is measured where
    tests start it for themselves."""
    with pytest.MonkeyPatch.context() as unmeasured:
        unmeasured.delenv("COVERAGE_PROCESS_CONFIG", raising=False)
        store, url = start_store()
    yield url
    store.stop()


@pytest.fixture(scope="session")
def live_env(dynamodb_url) -> dict:
    env = server_env(dynamodb_url)
    manage(env, "create_tables")
    return env


@pytest.fixture(scope="session")
def live_url(live_env):
    api, url = start_api(live_env)
    yield url
    api.stop()


@pytest.fixture(scope="session")
def new_key(live_env):
    """Runs `issue_key --json` against the store; each call is a new tenant unless named."""

    def issue(tenant: str | None = None, scopes: str = "ingest,consume,hooks") -> tuple[str, str]:
        tenant = tenant or f"t-{uuid.uuid4().hex[:12]}"
        return tenant, json.loads(manage(live_env, "issue_key", tenant, "--scopes", scopes, "--json"))["key"]

    return issue


@pytest.fixture
def api_for(live_url, new_key):
    def make(tenant: str | None = None) -> Api:
        return Api(live_url, new_key(tenant)[1])

    return make


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright (whose own browser download is not
    used). Per module, so no event loop outlives the browser tests."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    """Saves what the page shows under test-artifacts/browser/ (kept out of git)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> None:
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)

    return take


@pytest.fixture(scope="module")
def delivering_stack(dynamodb_url):
    """Tables of the module's own, the API, and `run_deliveries` beside it, webhooks to this
    machine allowed (as `make run` has them): (env, url, the deliveries process)."""
    env = hooks_env(dynamodb_url)
    manage(env, "create_tables")
    api, url = start_api(env)
    deliveries = Child([sys.executable, "manage.py", "run_deliveries"], env, r"Delivering from")
    deliveries.wait_ready()
    yield env, url, deliveries
    deliveries.stop()
    api.stop()
