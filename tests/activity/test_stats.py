"""GET /v1/stats and /v1/stats/series from the events table's stream (moto's, in process,
handed to the stream function as run_deliveries does). Through the real stack:
tests/integration/test_activity.py."""

import pytest

from activity.views import PER_HOOK
from hooks import handler
from tests.hooks.api.deliveries_stored import TARGET, sender, subscribe
from tests.store_hooks import store_calls
from triggerapi.store import now_ms


def stats(client) -> dict:
    response = client.get("/v1/stats")
    assert response.status_code == 200, response.content
    return response.json()


def events_of(client) -> dict:
    body = stats(client)["events"]
    return {
        "undelivered": body["undelivered"],
        "failed": body["failed"],
        "ingested": body["ingested"]["1h"],
        "delivered": body["delivered"]["1h"],
    }


def claim(client, limit: int = 1) -> list[dict]:
    response = client.post("/v1/events/claim", {"limit": limit}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["events"]


def test_a_new_tenants_stats_are_zeros_with_no_oldest_event(acme):
    body = stats(acme)

    windows = {"1m": 0, "1h": 0, "24h": 0}
    assert body == {
        "as_of": body["as_of"],
        "events": {
            "undelivered": 0,
            "failed": 0,
            "oldest_undelivered_age_ms": None,
            "ingested": windows,
            "delivered": windows,
        },
        "hooks": [],
    }


def test_stats_move_by_exactly_what_was_done(acme, create_event, pump, settings):
    settings.MAX_ATTEMPTS = 1
    ids = [create_event(acme) for _ in range(4)]
    pump()
    assert events_of(acme) == {"undelivered": 4, "failed": 0, "ingested": 4, "delivered": 0}
    assert stats(acme)["events"]["oldest_undelivered_age_ms"] >= 0

    [first] = claim(acme)
    assert acme.post(f"/v1/events/{first['id']}/ack").status_code == 200
    pump()
    assert events_of(acme) == {"undelivered": 3, "failed": 0, "ingested": 4, "delivered": 1}

    [second] = claim(acme)
    release = acme.post(f"/v1/events/{second['id']}/release", {"lease_id": second["lease_id"]}, format="json")
    assert release.status_code == 200
    assert claim(acme, limit=10)  # the second has used its one attempt: this claim fails it
    pump()
    assert events_of(acme)["failed"] == 1

    assert acme.post(f"/v1/events/{second['id']}/retry").status_code == 200
    assert acme.delete(f"/v1/events/{ids[3]}").status_code == 204
    replay = {"since": 0, "until": now_ms() + 1000, "statuses": ["delivered"]}
    assert acme.post("/v1/events/replay", replay, format="json").status_code == 200
    pump()
    # 4 ingested, the first acked then replayed, the second failed then retried, the last deleted
    assert events_of(acme) == {"undelivered": 3, "failed": 0, "ingested": 4, "delivered": 1}


def test_another_tenants_work_does_not_move_a_tenants_stats(acme, globex, create_event, pump):
    create_event(acme)
    pump()
    before = events_of(acme)

    for _ in range(3):
        create_event(globex)
    claim(globex)
    pump()

    assert events_of(acme) == before
    assert events_of(globex)["ingested"] == 3


def test_a_batch_handed_over_twice_is_counted_once(acme, create_event, pump):
    event_id = create_event(acme)
    claim(acme)
    assert acme.post(f"/v1/events/{event_id}/ack").status_code == 200
    pump()

    for batch in pump.handed:
        handler.handle_stream(batch)

    assert events_of(acme) == {"undelivered": 0, "failed": 0, "ingested": 1, "delivered": 1}


def test_stats_take_three_store_calls_whatever_the_tenants_size(acme, create_event, pump):
    for _ in range(30):
        create_event(acme)
    pump()
    acme.get("/v1/stats")  # the key's cache warm

    with store_calls() as calls:
        assert stats(acme)["events"]["undelivered"] == 30

    assert dict(calls) == {"BatchGetItem": 1, "Query": 2}


def test_the_series_has_every_step_with_the_current_one_last(acme, create_event, pump):
    for _ in range(2):
        create_event(acme)
    pump()

    for window, step, points in (("1h", 60, 60), ("24h", 900, 96), ("7d", 3600, 168)):
        body = acme.get(f"/v1/stats/series?metric=ingested&window={window}").json()
        assert body["metric"] == "ingested" and body["step_seconds"] == step
        starts = [start for start, _ in body["points"]]
        assert len(starts) == points and all(b - a == step * 1000 for a, b in zip(starts, starts[1:], strict=False))
        assert all(start % (step * 1000) == 0 for start in starts)
        assert sum(count for _, count in body["points"]) == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "metric"),
        ("metric=nope", "metric"),
        ("metric=ingested&window=2h", "window"),
        ("metric=failed&hook_id=", "hook_id"),
        ("metric=ingested&window=", "window"),
    ],
)
def test_a_bad_series_query_is_400_naming_the_field(acme, query, field):
    response = acme.get(f"/v1/stats/series?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["details"]


def test_another_tenants_hook_in_a_series_is_404(acme, globex):
    hook = globex.post("/v1/hooks", {"target_url": TARGET}, format="json")
    assert hook.status_code == 201, hook.content

    for metric in ("attempts_failed", "ingested"):
        response = acme.get(f"/v1/stats/series?metric={metric}&hook_id={hook.json()['id']}")

        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_a_hook_with_an_event_metric_is_400(acme):
    hook = acme.post("/v1/hooks", {"target_url": TARGET}, format="json").json()["id"]

    response = acme.get(f"/v1/stats/series?metric=ingested&hook_id={hook}")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"hook_id": [PER_HOOK]}


def test_a_hooks_deliveries_are_counted_as_they_end(acme, create_event, pump, monkeypatch):
    fake = sender(monkeypatch)
    hook_id = subscribe(fake, "acme")
    create_event(acme)
    pump()
    assert [h["pending"] for h in stats(acme)["hooks"]] == [1]

    handler.run_due()
    fake.answer = 500
    create_event(acme)
    pump()
    handler.run_due()

    [hook] = stats(acme)["hooks"]
    assert hook["id"] == hook_id and hook["status"] == "active" and hook["pending"] == 1
    assert hook["succeeded"] == {"1h": 1, "24h": 1} and hook["failed"] == {"1h": 0, "24h": 0}
    assert hook["latency_ms"]["p50"] is not None and hook["latency_ms"]["p99"] >= hook["latency_ms"]["p50"]
    series = f"/v1/stats/series?metric=attempts_failed&hook_id={hook_id}"
    assert sum(count for _, count in acme.get(series).json()["points"]) == 1


def test_stats_need_the_consume_scope(client_for):
    response = client_for("acme", scopes=("ingest",)).get("/v1/stats")

    assert response.status_code == 403
