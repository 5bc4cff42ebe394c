"""The fault matrix: every write endpoint, with each kind of store fault at each of its
store requests, once (our retry absorbs it) or for good (the store goes down there).

The answer is always the truth: a 2xx means the write is in the store as answered; a 503
says whether the write may have happened (`details.write`), and a retry then reaches a
consistent end. Never a 500, never a 404/409/422 that the store does not justify. The
matrix of answers is written to test-artifacts/fault-matrix.md."""

from collections import defaultdict

import pytest

from devstack.processes import ROOT
from events import ids
from events.services import ingest
from tests.fault_scenarios import SCENARIOS, Scenario, new_case, stored, write_state
from tests.faults import KINDS, inject, recording
from triggerapi import store

MATRIX: dict[tuple[str, str], set[str]] = defaultdict(set)


@pytest.fixture(autouse=True)
def clock(monkeypatch, time_machine):
    """Retries back off with real sleeps, which the matrix needs none of; ids stay
    monotonic across tests that move the clock, so reset them with it."""
    monkeypatch.setattr(store, "_backoff", lambda attempt: 0)
    monkeypatch.setattr(ingest, "WAIT_FOR_PENDING_SECONDS", 0)
    monkeypatch.setattr(ids, "_last", 0)
    time_machine.move_to("2026-11-22 12:00:00+00:00", tick=False)
    return time_machine


@pytest.fixture(scope="module", autouse=True)
def matrix_report():
    yield
    path = ROOT / "test-artifacts" / "fault-matrix.md"
    path.parent.mkdir(exist_ok=True)
    lines = ["| endpoint | " + " | ".join(KINDS) + " |", "|---" * (len(KINDS) + 1) + "|"]
    for scenario in SCENARIOS:
        cells = [", ".join(sorted(MATRIX[scenario.name, kind])) for kind in KINDS]
        lines.append(f"| {scenario.name} | " + " | ".join(cells) + " |")
    path.write_text("\n".join(lines) + "\n")


def _run(scenario: Scenario, settings, clock, kind: str | None, at: int = 0, down: bool = False):
    case = new_case(scenario.events)
    if scenario.setup:
        scenario.setup(case, settings)
    with inject(kind, at=at, down=down) if kind else recording() as injector:
        response = scenario.act(case)
    label = " ".join(str(part) for part in (response.status_code, write_state(response)) if part)
    assert response.status_code in (*scenario.ok, 503), (scenario.name, kind, at, down, response.content)
    if response.status_code == 503:
        assert response["Retry-After"] and write_state(response) in (None, "not_applied", "unknown", "partial")
        assert response.json()["error"]["code"] == "service_unavailable"
    (scenario.check(case, response, clock) if scenario.needs_clock else scenario.check(case, response))
    return label, injector


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_every_store_fault_at_every_request_gets_a_true_answer(scenario, kind, settings, clock):
    _, clean = _run(scenario, settings, clock, None)
    assert clean.requests, "the scenario made no store request"
    for at in range(1, len(clean.requests) + 1):
        for down in (False, True):
            label, injector = _run(scenario, settings, clock, kind, at, down)
            assert injector.faulted, (scenario.name, kind, at, down)
            MATRIX[scenario.name, kind].add(label)


@pytest.mark.parametrize("kind", KINDS)
def test_a_single_fault_is_absorbed_by_the_retry(kind, settings, clock):
    """One failed request among many: the client never sees it."""
    for scenario in SCENARIOS:
        label, _ = _run(scenario, settings, clock, kind, at=1)
        assert label == str(scenario.ok[0]), (scenario.name, label)


def test_no_store_request_starts_once_the_budget_is_spent(settings, clock):
    settings.STORE_BUDGET_SECONDS = 0
    case = new_case()

    with recording() as injector:
        response = case.client.post("/v1/events", {"n": 1}, format="json")

    assert (response.status_code, write_state(response)) == (503, "not_applied")
    assert injector.requests == []


@pytest.mark.parametrize("kind", ["reset", "lost", "error_500"])
def test_a_fault_on_one_operation_only_hits_that_operation(kind, settings, clock):
    """Throttled or worse only on the settle of a batch's record: the events are stored and
    the answer is 201 all the same (settling is best effort; a retry finishes it)."""
    case = new_case()

    with inject(kind, at=1, down=True, operation="UpdateItem") as injector:
        response = case.client.post("/v1/events/batch", {"events": [{"n": 1}]}, format="json", HTTP_IDEMPOTENCY_KEY="s")

    assert response.status_code == 201, response.content
    assert set(injector.faulted) == {"UpdateItem"}
    assert list(stored(case.tenant)) == [response.json()["events"][0]["id"]]
