"""The operator's metrics as Embedded Metric Format lines (triggerapi/metrics.py): one JSON
object a line naming each metric it carries under `_aws`, the dimension values at the top
level; counts summed and latencies kept per group of dimension values; what was written
out is gone; adds from many threads all counted; the line is the bare object on stdout."""

import json
import logging
import threading
from datetime import UTC, datetime

import pytest

from tests.emf import problems
from triggerapi import metrics

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def directive(dimensions: list[list[str]], *metric_units: tuple[str, str]) -> dict:
    return {
        "Timestamp": NOW_MS,
        "CloudWatchMetrics": [
            {
                "Namespace": "triggerapi",
                "Dimensions": dimensions,
                "Metrics": [{"Name": name, "Unit": unit} for name, unit in metric_units],
            }
        ],
    }


def test_a_line_is_a_json_object_naming_its_metrics_under_aws_with_the_dimension_values_beside(emitted):
    metrics.count("Ingested", tenant="acme", n=3)
    metrics.count("Claimed", tenant="acme", n=2)

    written = metrics.flush()

    assert written == [
        {
            "_aws": directive([["tenant"]], ("Ingested", "Count"), ("Claimed", "Count")),
            "tenant": "acme",
            "Ingested": 3,
            "Claimed": 2,
        }
    ]
    assert emitted == written
    assert problems(written[0]) == []


def test_counts_are_summed_per_group_of_dimension_values():
    for tenant in ("acme", "globex", "acme"):
        metrics.count("Acked", tenant=tenant)
    metrics.count("RateLimited", tenant="acme", limit="requests")
    metrics.count("RateLimited", tenant="acme", limit="waiting_claims")
    metrics.count("RateLimited", tenant="acme", limit="requests")

    written = metrics.flush()

    assert [{k: v for k, v in line.items() if k != "_aws"} for line in written] == [
        {"tenant": "acme", "Acked": 2},
        {"tenant": "globex", "Acked": 1},
        {"tenant": "acme", "limit": "requests", "RateLimited": 2},
        {"tenant": "acme", "limit": "waiting_claims", "RateLimited": 1},
    ]
    assert written[2]["_aws"] == directive([["tenant", "limit"]], ("RateLimited", "Count"))


def test_delivery_metrics_are_per_tenant_and_per_hook_with_their_own_dimension_in_each_set():
    metrics.count("DeliveryAttempts", tenant="acme", hook="hook_a", outcome="succeeded")
    metrics.count("DeliveryAttempts", tenant="acme", hook="hook_a", outcome="succeeded")
    metrics.count("DeliveryAttempts", tenant="acme", hook="hook_a", outcome="retry")
    metrics.observe("DeliveryLatency", 120, tenant="acme", hook="hook_a")

    attempts, retries, latency = metrics.flush()

    assert attempts == {
        "_aws": directive([["tenant", "outcome"], ["tenant", "hook", "outcome"]], ("DeliveryAttempts", "Count")),
        "tenant": "acme",
        "hook": "hook_a",
        "outcome": "succeeded",
        "DeliveryAttempts": 2,
    }
    assert (retries["outcome"], retries["DeliveryAttempts"]) == ("retry", 1)
    assert latency == {
        "_aws": directive([["tenant"], ["tenant", "hook"]], ("DeliveryLatency", "Milliseconds")),
        "tenant": "acme",
        "hook": "hook_a",
        "DeliveryLatency": [120],
    }


def test_every_latency_is_kept_100_to_a_line():
    for ms in range(250):
        metrics.observe("DeliveryLatency", ms, tenant="acme", hook="hook_a")

    written = metrics.flush()

    assert [line["DeliveryLatency"] for line in written] == [
        list(range(0, 100)),
        list(range(100, 200)),
        list(range(200, 250)),
    ]
    assert all(problems(line) == [] for line in written)


def test_counts_go_on_the_first_of_their_groups_lines_only():
    metrics.count("DeliveryAttempts", tenant="acme", hook="hook_a", outcome="succeeded")
    for ms in range(101):
        metrics.observe("DeliveryLatency", ms, tenant="acme", hook="hook_a")

    _, first, second = metrics.flush()

    assert (len(first["DeliveryLatency"]), second["DeliveryLatency"]) == (100, [100])
    assert [m["Name"] for m in second["_aws"]["CloudWatchMetrics"][0]["Metrics"]] == ["DeliveryLatency"]


def test_a_flush_empties_the_collector(emitted):
    metrics.count("Ingested", tenant="acme")
    metrics.flush()

    assert metrics.flush() == []
    assert len(emitted) == 1


def test_adds_from_many_threads_are_all_counted():
    start = threading.Barrier(8)

    def add() -> None:
        start.wait()
        for n in range(1000):
            metrics.count("Claimed", tenant="acme")
            metrics.observe("DeliveryLatency", n, tenant="acme", hook="hook_a")

    threads = [threading.Thread(target=add) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    claimed, *latencies = metrics.flush()
    assert claimed["Claimed"] == 8000
    assert sorted(v for line in latencies for v in line["DeliveryLatency"]) == sorted(list(range(1000)) * 8)


def test_a_request_scope_writes_its_own_metrics_when_it_ends_and_leaves_the_process_ones(emitted):
    metrics.count("Acked", tenant="globex")
    with metrics.request_metrics():
        metrics.count("Acked", tenant="acme")
        assert emitted == []

    assert [(line["tenant"], line["Acked"]) for line in emitted] == [("acme", 1)]
    assert [(line["tenant"], line["Acked"]) for line in metrics.flush()] == [("globex", 1)]


def test_flushing_writes_at_the_end_of_what_it_wraps(emitted):
    with metrics.flushing(every_seconds=60):
        metrics.count("Ingested", tenant="acme")

    assert [line["Ingested"] for line in emitted] == [1]


def test_a_flushed_function_writes_its_metrics_even_when_it_raises(emitted):
    @metrics.flushed
    def invocation():
        metrics.count("Ingested", tenant="acme")
        raise RuntimeError("store down")

    with pytest.raises(RuntimeError):
        invocation()

    assert [line["Ingested"] for line in emitted] == [1]


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("Ingested", {"hook": "hook_a"}),
        ("DeliveryAttempts", {"hook": "hook_a"}),
        ("DeliveryAttempts", {"outcome": "succeeded"}),
        ("RateLimited", {"limit": "requests", "outcome": "x"}),
    ],
)
def test_a_metric_given_dimensions_it_does_not_have_is_a_bug(name, where):
    with pytest.raises(ValueError):
        metrics.count(name, tenant="acme", **where)


def test_with_metrics_disabled_nothing_is_collected(settings):
    settings.METRICS_ENABLED = False
    metrics.count("Ingested", tenant="acme")

    assert metrics.flush() == []


def test_the_line_on_stdout_is_the_bare_object_not_a_json_log_line():
    logger = logging.getLogger(metrics.__name__)
    # The configured one (pytest adds handlers of its own, to capture what it writes).
    [handler] = [handler for handler in logger.handlers if handler.name == "metrics"]
    record = logger.makeRecord(logger.name, logging.INFO, __file__, 0, '{"_aws":{}}', (), None)

    assert logger.propagate is False
    assert handler.formatter.format(record) == '{"_aws":{}}'
    assert json.loads(handler.formatter.format(record)) == {"_aws": {}}
