"""The pull side's metrics, written as each request ends (triggerapi/metrics.py): events
ingested, claimed, acked, and failed (out of claims); an idempotent repeat or a second ack
counts nothing new."""

import pytest

from events import ids
from tests.emf import problems, total


@pytest.fixture(autouse=True)
def clock(time_machine, monkeypatch):
    # Ids made on the moved clock must not hold back the ids of the tests after this one.
    monkeypatch.setattr(ids, "_last", 0)
    time_machine.move_to("2027-03-01 12:00:00+00:00", tick=False)
    return time_machine


def without_aws(documents: list[dict]) -> list[dict]:
    assert all(problems(document) == [] for document in documents)
    return [{k: v for k, v in document.items() if k != "_aws"} for document in documents]


def test_each_request_writes_its_own_counts_as_it_ends(acme, emitted):
    batch = acme.post("/v1/events/batch", {"events": [{"n": n} for n in range(3)]}, format="json")
    assert without_aws(emitted) == [{"tenant": "acme", "Ingested": 3}]

    claimed = acme.post("/v1/events/claim", {"limit": 2}, format="json").json()["events"]
    assert without_aws(emitted[1:]) == [{"tenant": "acme", "Claimed": 2}]

    ids = [event["id"] for event in claimed]
    acme.post("/v1/events/ack", {"ids": ids}, format="json")
    acme.post(f"/v1/events/{ids[0]}/ack")  # acked already
    acme.get("/v1/events")

    assert batch.status_code == 201
    assert without_aws(emitted[2:]) == [{"tenant": "acme", "Acked": 2}]


def test_an_idempotent_repeat_is_not_ingested_again(acme, emitted):
    for _ in range(2):
        acme.post("/v1/events", {"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        acme.post("/v1/events/batch", {"events": [{"n": 2}, {"n": 3}]}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    assert total(emitted, "Ingested", tenant="acme") == 3


def test_an_event_out_of_claims_counts_as_failed_when_a_claim_fails_it(acme, create_event, clock, settings, emitted):
    settings.MAX_ATTEMPTS = 1
    create_event(acme)
    create_event(acme)
    acme.post("/v1/events/claim", {"limit": 1, "lease_seconds": 1}, format="json")
    clock.shift(2)
    before = len(emitted)

    acme.post("/v1/events/claim", {"limit": 2}, format="json")  # claims the second, fails the first

    assert without_aws(emitted[before:]) == [{"tenant": "acme", "Claimed": 1, "Failed": 1}]
