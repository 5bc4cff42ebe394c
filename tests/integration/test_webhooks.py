"""Push delivery through the real stack: the API under gunicorn, the local store, and
`run_deliveries` as a process, posting to a threaded receiver in this process. Every
signature is verified with the `standardwebhooks` library. The operator's metrics are read
from both processes' output, as CloudWatch would read them."""

import json
import signal
import sys
import time
from collections import Counter

import pytest
from standardwebhooks import Webhook

from devstack import processes
from devstack.processes import Api, Child, hooks_env, manage, start_api
from tests.emf import documents_in, problems, total, values
from tests.hooks.receiver import Receiver, hang, hang_up, status
from tests.integration.store_proxy import StoreProxy

DEADLINE_SECONDS = 60
TIMEOUT_SECONDS = 2
# Claims of an event before the next one fails it (the stats test fails one).
MAX_ATTEMPTS = 2


@pytest.fixture(scope="module")
def stack(dynamodb_url):
    """Tables of their own, the API, and a `run_deliveries` process, with local targets
    allowed and a short attempt timeout (so that the timeout case and a killed attempt's
    claim end quickly)."""
    env = hooks_env(dynamodb_url, HOOKS_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS), MAX_ATTEMPTS=str(MAX_ATTEMPTS))
    manage(env, "create_tables")
    api, url = start_api(env)
    deliveries = start_deliveries(env)
    yield env, url, deliveries, api
    deliveries[0].stop()
    api.stop()


def start_deliveries(env) -> list[Child]:
    child = Child([sys.executable, "manage.py", "run_deliveries"], env, r"Delivering from")
    child.wait_ready()
    return [child]


def tenant(stack, name: str | None = None) -> Api:
    env, url, *_ = stack
    key = json.loads(manage(env, "issue_key", name or f"t{time.monotonic_ns()}", "--json"))["key"]
    return Api(url, key)


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def subscribe(api: Api, target_url: str, **body) -> dict:
    response = api.post("/v1/hooks", json={"target_url": target_url, **body})
    assert response.status_code == 201, response.text
    return response.json()


def ingest(api: Api, *payloads: dict) -> list[str]:
    ids = []
    for payload in payloads:
        response = api.post("/v1/events", json=payload)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def wait_for(condition, what: str):
    return processes.wait_for(condition, what, DEADLINE_SECONDS)


def arrived(receiver: Receiver, path: str) -> list:
    return [r for r in receiver.requests if r.path == path]


def deliveries(api: Api, hook_id: str, **query) -> list[dict]:
    return api.get(f"/v1/hooks/{hook_id}/deliveries", params=query).json()["deliveries"]


def test_every_event_arrives_signed_at_every_matching_hook_and_nowhere_else(stack, receiver):
    acme, globex = tenant(stack), tenant(stack)
    every = subscribe(acme, receiver.url("/every"))
    paid = subscribe(acme, receiver.url("/paid"), event_types=["order.paid"])
    other = subscribe(globex, receiver.url("/globex"))
    types = ["order.paid", "order.refunded", None]
    ids = ingest(acme, *({"n": n, **({"event_type": types[n % 3]} if types[n % 3] else {})} for n in range(30)))
    globex_ids = ingest(globex, *({"m": m} for m in range(5)))
    paid_ids = ids[::3]

    wait_for(lambda: len(receiver.requests) >= 30 + 10 + 5, "45 deliveries")
    for path, hook, expected in [("/every", every, ids), ("/paid", paid, paid_ids), ("/globex", other, globex_ids)]:
        got = arrived(receiver, path)
        assert sorted(r.headers["webhook-id"] for r in got) == sorted(expected), path
        for request in got:
            Webhook(hook["secret"]).verify(request.body, request.headers)
            body = json.loads(request.body)
            assert body["id"] == request.headers["webhook-id"]
            assert request.headers["user-agent"] == "triggerapi-webhooks/1"
    sample = json.loads(arrived(receiver, "/paid")[0].body)
    assert sample == acme.get(f"/v1/events/{sample['id']}").json()
    assert len(receiver.requests) == 45
    assert {d["status"] for d in deliveries(acme, every["id"])} == {"succeeded"}


def test_a_500_then_200_is_retried_and_succeeds(stack, receiver):
    api = tenant(stack)
    hook = subscribe(api, receiver.url("/flaky"))
    answers = iter([status(500, body=b"busy"), status(200, body=b"thanks")])
    receiver.answer = lambda handler: next(answers)(handler)
    [event_id] = ingest(api, {"n": 1})
    [done] = wait_for(lambda: deliveries(api, hook["id"], status="succeeded"), "a succeeded delivery")
    assert (done["event_id"], done["attempts"], done["last_status_code"]) == (event_id, 2, 200)
    first, second = arrived(receiver, "/flaky")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == event_id
    # the schedule's first delay: 5 s ± 20 %
    assert 4 <= int(second.headers["webhook-timestamp"]) - int(first.headers["webhook-timestamp"]) <= 7
    # every attempt kept, each with the receiver's answer, written with its outcome
    attempts = api.get(f"/v1/hooks/{hook['id']}/deliveries/{done['id']}/attempts")
    assert attempts.status_code == 200, attempts.text
    kept = attempts.json()["attempts"]
    assert [(a["attempt"], a["status_code"], a["error"], a["response_body_excerpt"]) for a in kept] == [
        (1, 500, None, "busy"),
        (2, 200, None, "thanks"),
    ]
    assert [a["started_at"] // 1000 for a in kept] == [int(r.headers["webhook-timestamp"]) for r in (first, second)]
    assert kept[1]["started_at"] + kept[1]["duration_ms"] == done["succeeded_at"]
    # and the event's history tells it, with its ingest
    story = wait_for(lambda: history_with(api, event_id, "delivery_succeeded"), "the delivery in the history")
    assert [(e["what"], e.get("status_code")) for e in story] == [
        ("ingested", None),
        ("delivery_attempt", 500),
        ("delivery_attempt", 200),
        ("delivery_succeeded", None),
    ]
    assert {e.get("delivery_id") for e in story[1:]} == {done["id"]}


def history_with(api: Api, event_id: str, what: str) -> list[dict] | None:
    entries = api.get(f"/v1/events/{event_id}/history").json()["history"]
    return entries if what in [e["what"] for e in entries] else None


def test_a_410_disables_the_hook_and_nothing_more_is_attempted(stack, receiver):
    api = tenant(stack)
    hook = subscribe(api, receiver.url("/gone"))
    receiver.answer = status(410)
    ingest(api, {"n": 1})
    shown = wait_for(
        lambda: (h := api.get(f"/v1/hooks/{hook['id']}").json())["status"] == "disabled" and h, "hook disabled"
    )
    assert shown["disabled_reason"] == "gone"
    [failed] = deliveries(api, hook["id"])
    assert (failed["status"], failed["last_status_code"], failed["attempts"]) == ("failed", 410, 1)
    ingest(api, {"n": 2})
    assert len(arrived(receiver, "/gone")) == 1


def test_a_410_is_told_signed_to_the_hooks_naming_hook_disabled_and_is_no_event(stack, receiver):
    api = tenant(stack)
    gone = subscribe(api, receiver.url("/gone"))
    told = subscribe(api, receiver.url("/told"), event_types=["triggerapi.hook.disabled"])
    every = subscribe(api, receiver.url("/every"))
    receiver.answer = lambda handler: status(410 if handler.path == "/gone" else 200)(handler)
    [event_id] = ingest(api, {"n": 1})

    [sent] = wait_for(lambda: arrived(receiver, "/told"), "the notice")
    Webhook(told["secret"]).verify(sent.body, sent.headers)
    notice = json.loads(sent.body)
    assert notice["payload"] == {"event_type": "triggerapi.hook.disabled", "hook_id": gone["id"], "reason": "gone"}
    assert notice["id"] == sent.headers["webhook-id"] != event_id
    # made before it was sent: a delivery of it to the catch-all hook would be listed by now
    assert [d["event_id"] for d in deliveries(api, every["id"])] == [event_id]
    assert [e["id"] for e in api.get("/v1/events").json()["events"]] == [event_id]
    assert api.get(f"/v1/events/{notice['id']}").status_code == 404
    wait_for(lambda: deliveries(api, told["id"], status="succeeded"), "the notice's delivery succeeded")
    wait_for(lambda: deliveries(api, every["id"], status="succeeded"), "the event at the catch-all hook")
    assert [r.headers["webhook-id"] for r in arrived(receiver, "/every")] == [event_id]


@pytest.mark.parametrize(
    ("answer", "code", "error"),
    [
        (lambda receiver: status(429, Retry_After="3600"), 429, None),
        (lambda receiver: hang(receiver), None, "timed out"),
        (lambda receiver: hang_up, None, "closed"),
        (lambda receiver: status(302, Location="/elsewhere"), 302, None),
        (lambda receiver: status(500), 500, None),
    ],
    ids=["429-retry-after", "timeout", "closed-connection", "redirect", "500"],
)
def test_a_failed_first_attempt_is_recorded_and_scheduled(stack, receiver, answer, code, error):
    api = tenant(stack)
    hook = subscribe(api, receiver.url("/failing"))
    receiver.answer = answer(receiver)
    ingest(api, {"n": 1})
    [pending] = wait_for(
        # counted when it starts, recorded when it ends: with its status code or its error
        lambda: [
            d for d in deliveries(api, hook["id"]) if d["attempts"] == 1 and (d["last_status_code"] or d["last_error"])
        ],
        "the first attempt recorded",
    )
    assert (pending["status"], pending["last_status_code"]) == ("pending", code)
    if error:
        assert error in pending["last_error"].lower()
    wait = pending["next_attempt_at"] - (pending["created_at"])
    if code == 429:
        assert 3600_000 <= wait <= 3600_000 + 30_000  # Retry-After beats the 5 s the schedule says
    else:
        assert 3_000 <= wait <= 6_000 + (TIMEOUT_SECONDS + 1) * 1000
    assert arrived(receiver, "/elsewhere") == []  # a redirect is not followed
    assert len(arrived(receiver, "/failing")) == 1


def test_deliveries_killed_mid_batch_resume_after_a_restart_losing_nothing(stack, receiver):
    """SIGKILL while attempts are on the wire: after a restart every event is delivered;
    the only events that arrive twice are ones whose attempt was in flight at the kill."""
    env, _, current, _ = stack
    api = tenant(stack)
    hook = subscribe(api, receiver.url("/slow"))
    released = receiver.released

    def slow(handler):
        released.wait(0.3)
        status(200)(handler)

    receiver.answer = slow
    ids = ingest(api, *({"n": n} for n in range(40)))
    wait_for(lambda: len(arrived(receiver, "/slow")) >= 5, "the first attempts")
    current[0].process.send_signal(signal.SIGKILL)
    current[0].wait(timeout=30)
    before_kill = {r.headers["webhook-id"] for r in arrived(receiver, "/slow")}
    states = {d["event_id"]: d for d in deliveries(api, hook["id"], limit=100)}
    in_flight = {i for i in before_kill if states.get(i, {}).get("status") != "succeeded"}
    current[0] = start_deliveries(env)[0]

    wait_for(lambda: len(deliveries(api, hook["id"], status="succeeded", limit=100)) == 40, "40 succeeded")
    counts = Counter(r.headers["webhook-id"] for r in arrived(receiver, "/slow"))
    assert set(counts) == set(ids)
    twice = {i for i, n in counts.items() if n > 1}
    assert twice <= in_flight, (twice, in_flight)
    # whatever the restart handed over again, each event counted once
    settles_to(api, {"undelivered": 40, "failed": 0, "ingested": 40, "delivered": 0})
    print(f"SIGKILL: {len(in_flight)} attempts in flight at the kill, {len(twice)} events delivered twice")


def test_a_receiver_sees_what_the_test_endpoint_sends(stack, receiver):
    api = tenant(stack)
    hook = subscribe(api, receiver.url("/test"))
    result = api.post(f"/v1/hooks/{hook['id']}/test").json()
    assert result["status_code"] == 200 and result["error"] is None
    [request] = arrived(receiver, "/test")
    Webhook(hook["secret"]).verify(request.body, request.headers)
    assert json.loads(request.body)["event_type"] == "triggerapi.test"


def test_both_processes_write_metrics_of_what_the_tenant_did(stack, receiver):
    """Embedded Metric Format lines in the API's output (at the end of each request) and in
    run_deliveries' (every second): counts per tenant, attempts and latencies per hook."""
    _, _, current, api_process = stack
    name = f"m{time.monotonic_ns()}"
    api = tenant(stack, name)
    hook = subscribe(api, receiver.url("/metrics"))
    ingest(api, *({"n": n} for n in range(5)))
    assert api.post("/v1/events/batch", json={"events": [{"n": n} for n in range(5, 8)]}).status_code == 201
    claimed = [event["id"] for event in api.post("/v1/events/claim", json={"limit": 6}).json()["events"]]
    assert api.post("/v1/events/ack", json={"ids": claimed[:4]}).json()["acknowledged"] == claimed[:4]

    def written() -> list[dict] | None:
        found = [d for d in documents_in(api_process.lines + current[0].lines) if d.get("tenant") == name]
        done = total(found, "DeliveryAttempts", hook=hook["id"], outcome="succeeded") == 8
        return found if done and total(found, "Acked") else None

    mine = wait_for(written, "the metrics of 8 deliveries and the acks")
    assert [problem for document in mine for problem in problems(document)] == []
    assert (total(mine, "Ingested"), total(mine, "Claimed"), total(mine, "Acked")) == (8, 6, 4)
    assert total(mine, "DeliveryAttempts") == 8  # all succeeded at their first attempt
    latencies = values(mine, "DeliveryLatency", hook=hook["id"])
    assert len(latencies) == 8 and all(0 <= ms < DEADLINE_SECONDS * 1000 for ms in latencies), latencies


# What a tenant sees (the events table's stream read by run_deliveries; OBSERVE.md): counts
# correct within 5 s of what was done.
STATS_SECONDS = 5


def counts(api: Api) -> dict:
    events = api.get("/v1/stats").json()["events"]
    return {
        "undelivered": events["undelivered"],
        "failed": events["failed"],
        "ingested": events["ingested"]["1h"],
        "delivered": events["delivered"]["1h"],
    }


def settles_to(api: Api, expected: dict) -> None:
    """The tenant's counts are `expected` within 5 s (the pytest diff says how not)."""
    try:
        processes.wait_for(lambda: counts(api) == expected, f"stats {expected}", STATS_SECONDS)
    except AssertionError:
        assert counts(api) == expected


def claim_one(api: Api, **query) -> dict:
    [leased] = api.post("/v1/events/claim", json={"limit": 1, **query}).json()["events"]
    return leased


def test_stats_move_by_exactly_what_was_done_within_5_seconds(stack):
    api, other = tenant(stack), tenant(stack)
    ids = ingest(api, *({"n": n} for n in range(4)), {"event_type": "doomed"})
    ingest(other, {"n": 0}, {"n": 1})
    claim_one(other)
    acked = claim_one(api)
    assert api.post(f"/v1/events/{acked['id']}/ack").status_code == 200
    for _ in range(MAX_ATTEMPTS):  # the doomed event's attempts used up: the next claim fails it
        leased = claim_one(api, event_type="doomed")
        assert api.post(f"/v1/events/{leased['id']}/release", json={"lease_id": leased["lease_id"]}).ok
    assert api.post("/v1/events/claim", json={"event_type": "doomed"}).json()["events"] == []
    settles_to(api, {"undelivered": 3, "failed": 1, "ingested": 5, "delivered": 1})

    failed = api.get("/v1/events", params={"status": "failed"}).json()["events"][0]["id"]
    assert api.post(f"/v1/events/{failed}/retry").status_code == 200
    assert api.delete(f"/v1/events/{ids[3]}").status_code == 204
    assert api.post("/v1/events/replay", json={"since": 0, "until": 2**41, "statuses": ["delivered"]}).ok
    settles_to(api, {"undelivered": 4, "failed": 0, "ingested": 5, "delivered": 1})
    assert counts(other) == {"undelivered": 2, "failed": 0, "ingested": 2, "delivered": 0}


def items_read(operation: str, answer: bytes) -> int:
    """What the store read to answer: a query's ScannedCount (a filter's drops included),
    the items a get returned."""
    body = json.loads(answer or b"{}")
    if operation in ("Query", "Scan"):
        return body.get("ScannedCount", 0)
    if operation == "BatchGetItem":
        return sum(len(items) for items in body.get("Responses", {}).values())
    return 1 if body.get("Item") else 0


def test_stats_of_a_tenant_with_10000_events_read_no_event_but_the_oldest(stack, dynamodb_url):
    """Three store calls and under a hundred items read, where a COUNT query over the
    tenant's events would read all 10,000: the API here talks to the store through a proxy
    that sees every answer. (The rate limiter's call, every request's, is left out.)"""
    env, *_ = stack
    name = f"big{time.monotonic_ns()}"
    api = tenant(stack, name)
    manage(env, "set_limits", name, "--rate", "100000", "--burst", "1000000")
    for start in range(0, 10_000, 100):
        batch = api.post("/v1/events/batch", json={"events": [{"n": n} for n in range(start, start + 100)]})
        assert batch.status_code == 201, batch.text
    wait_for(lambda: counts(api)["undelivered"] == 10_000, "10,000 events counted")
    proxy = StoreProxy(dynamodb_url)
    proxied, url = start_api({**env, "DYNAMODB_HOST": proxy.url}, workers=1, threads=4)
    try:
        seen = Api(url, api.session.headers["Authorization"].removeprefix("Bearer "))
        assert seen.get("/v1/stats").status_code == 200  # the key read and cached
        reads: list[tuple[str, int]] = []

        def observe(operation: str, request: bytes, answer: bytes) -> None:
            # The rate limiter's token (the Limits table) is every request's, not the stats'.
            if not json.loads(request).get("TableName", "").endswith("-Limits"):
                reads.append((operation, items_read(operation, answer)))

        proxy.observe = observe
        body = seen.get("/v1/stats").json()
        proxy.observe = None
    finally:
        proxied.stop()
        proxy.stop()

    assert Counter(operation for operation, _ in reads) == {"BatchGetItem": 1, "Query": 2}
    assert sum(n for _, n in reads) <= 1 + 60 + 24 + 10  # counters, minutes, hours, the oldest
    assert body["events"]["undelivered"] == 10_000 and body["events"]["ingested"]["24h"] == 10_000
