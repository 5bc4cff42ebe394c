"""The client's stats, series and history against the app, with the events table's stream
handed to the stream function (tests/activity/conftest.py's pump)."""

import pytest

from tests.activity.conftest import pump  # noqa: F401 (a fixture these tests use)
from triggerapi_client import HistoryEntry, NotFound, Series, Stats


def test_stats_series_and_history_are_typed(connect, pump):  # noqa: F811
    client = connect("acme")
    receipt = client.create_event({"event_type": "order.paid"})
    [leased] = client.claim(limit=1)
    client.ack(leased.id)
    pump()

    stats = client.stats()
    series = client.series("delivered", window="24h")
    history = list(client.event_history(receipt.id, page_size=1))

    assert isinstance(stats, Stats) and stats.hooks == []
    assert (stats.events.undelivered, stats.events.ingested["1h"], stats.events.delivered["24h"]) == (0, 1, 1)
    assert isinstance(series, Series) and series.step_seconds == 900 and len(series.points) == 96
    assert sum(count for _, count in series.points) == 1
    assert [entry.what for entry in history] == ["ingested", "claimed", "acked"]
    assert history[1] == HistoryEntry(
        at=history[1].at, what="claimed", details={"lease_id": leased.lease_id, "attempt": 1}
    )


def test_another_tenants_event_history_is_not_found(connect):
    receipt = connect("globex").create_event({"n": 1})

    with pytest.raises(NotFound):
        connect("acme").history(receipt.id)
