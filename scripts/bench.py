"""`make bench`: every API operation measured against the store's own floor, in one run.

Starts the local store (moto's server, `python -m devstack.localstore`), the app under
gunicorn (BENCH_WORKERS x BENCH_THREADS, 2x8 by default), `run_deliveries` and a webhook
receiver, then measures, printing one table:

1. the floor: raw put_item, get_item, one-page query and update_item straight to the store
   from botocore, at the load's concurrency, each measured just before the API operation it
   is the floor of (moto's speed drifts during a run, and its index queries slow down as
   the table grows, so a floor measured minutes earlier would flatter or wrong the ratio);
2. through the API, with a thread pool of keep-alive sessions (BENCH_CONCURRENCY, 8): single
   ingest, batch ingest, get, list page, claim + batch ack, extend; rate, p50, p99, floor,
   ratio, target;
3. store calls per API operation (the `store_calls` of the server's JSON access lines) and
   the app's CPU per request with the store answering in process (scripts/bench_cpu.py);
4. long-poll wake-up latency and store queries per waited second (scripts/bench_longpoll.py);
5. ingest -> first webhook attempt at 50 events/s and deliveries/s to one hook
   (scripts/bench_webhooks.py);
6. `run_worker --once` drain rate (scripts/bench_drain.py) and, if `dist/triggerapi-prod.zip`
   exists, the packaged Lambda's cold start (scripts/bench_coldstart.py).

Every scenario gets fresh tenants. BENCH_SECONDS (10) is each timed scenario's length;
`make bench BENCH_SECONDS=2` is the smoke run `make test` does (tests/integration/
test_bench_smoke.py). Exit status 1 if any request failed.

    .venv/bin/python scripts/bench.py
"""

import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devstack.processes import ROOT, Api, Child, manage, server_env, start_api, start_store  # noqa: E402
from scripts import bench_drain, bench_longpoll, bench_webhooks  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", 10))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", 8))
WORKERS = int(os.environ.get("BENCH_WORKERS", 2))
THREADS = int(os.environ.get("BENCH_THREADS", 8))
SMOKE = SECONDS < 5
BATCH = 100  # events per batch ingest (the most a batch takes)
PAGE = 20  # list page size
CLAIM = 10  # claim limit (run_worker's default)
DRAIN_PER_TENANT = 30 if SMOKE else 300
FLOOR_SECONDS = 1.0 if SMOKE else SECONDS
ZIP = ROOT / "dist" / "triggerapi-prod.zip"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Measured:
    """`units` per second (events, or requests), requests' latencies in ms."""

    units: int
    requests: int
    seconds: float
    latencies: list[float]
    errors: list[str] = field(default_factory=list)
    client_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.units / self.seconds

    @property
    def request_rate(self) -> float:
        return self.requests / self.seconds

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99)


def load(make_op, seconds: float = SECONDS, concurrency: int = CONCURRENCY) -> Measured:
    """`concurrency` threads, each calling its own `make_op(n)()` (which returns the units
    it did) as fast as answers come, for `seconds` after every thread made one untimed call."""
    ops = [make_op(n) for n in range(concurrency)]
    ready = threading.Barrier(concurrency + 1)
    go = threading.Event()
    box = {}

    def run(n: int):
        op, latencies, units, errors = ops[n], [], 0, []
        try:
            op()  # warm: the connection, the key cache
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))
        ready.wait()
        go.wait()
        while time.monotonic() < box["stop"]:
            started = time.perf_counter()
            try:
                units += op()
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc)[:200])
                continue
            latencies.append((time.perf_counter() - started) * 1000)
        return latencies, units, errors

    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(run, n) for n in range(concurrency)]
        ready.wait()
        cpu, started = time.process_time(), time.monotonic()
        box["stop"] = started + seconds
        go.set()
        results = [f.result() for f in futures]
        elapsed = time.monotonic() - started
        cpu = time.process_time() - cpu
    latencies = [ms for r in results for ms in r[0]]
    return Measured(
        units=sum(r[1] for r in results),
        requests=len(latencies),
        seconds=elapsed,
        latencies=latencies,
        errors=[e for r in results for e in r[2]],
        client_cpu=cpu,
    )


class Bench:
    def __init__(self, url: str, store_url: str, server: Child):
        self.url, self.store_url, self.server = url, store_url, server
        self.rows: list[tuple] = []
        self.errors: list[str] = []
        self.claims: dict[str, int] = {}  # request id -> events the claim answered
        import botocore.session
        from botocore.config import Config

        from events.models import Event

        self.table = Event.Meta.table_name
        self.db = botocore.session.get_session().create_client(
            "dynamodb",
            endpoint_url=store_url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(max_pool_connections=CONCURRENCY * 2, retries={"max_attempts": 0}),
        )

    # -- tenants and clients ------------------------------------------------------------
    def tenant(self, scenario: str) -> tuple[str, str]:
        from tenants.services import api_key_issue

        tenant = f"bench-{scenario}-{uuid.uuid4().hex[:6]}"
        return tenant, api_key_issue(tenant_id=tenant, scopes=("ingest", "consume"))[1]

    def session(self, key: str) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        return session

    def seed(self, key: str, count: int) -> list[str]:
        session, ids = self.session(key), []
        for start in range(0, count, BATCH):
            events = [{"event_type": "bench", "n": n} for n in range(start, min(start + BATCH, count))]
            response = session.post(f"{self.url}/v1/events/batch", json={"events": events}, timeout=30)
            response.raise_for_status()
            ids += [e["id"] for e in response.json()["events"]]
        return ids

    # -- the floor: botocore straight to the store --------------------------------------
    def item(self, tenant: str) -> dict:
        from events.ids import new_event_ids
        from events.lifecycle import new_event

        return new_event(tenant, new_event_ids(1)[0], {"event_type": "bench", "n": 1}).serialize()

    def floor_put(self) -> tuple[Measured, list[dict]]:
        tenant = f"floor-{uuid.uuid4().hex[:6]}"
        keys: list[dict] = []

        def make(n):
            def op():
                item = self.item(tenant)
                self.db.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(sk)")
                keys.append({"tenant_id": item["tenant_id"], "sk": item["sk"]})
                return 1

            return op

        return load(make, FLOOR_SECONDS), keys

    def floor_get(self, keys: list[dict]) -> Measured:
        return load(
            lambda n: lambda: bool(self.db.get_item(TableName=self.table, Key=random.choice(keys))["Item"]),
            FLOOR_SECONDS,
        )

    def floor_query(self, tenant: str) -> Measured:
        def op():
            self.db.query(
                TableName=self.table,
                IndexName="status-index",
                KeyConditionExpression="tenant_status = :t",
                ExpressionAttributeValues={":t": {"S": f"{tenant}#undelivered"}},
                Limit=PAGE + 1,
            )
            return 1

        return load(lambda n: op, FLOOR_SECONDS)

    def floor_update(self, keys: list[dict]) -> Measured:
        def op():
            self.db.update_item(
                TableName=self.table,
                Key=random.choice(keys),
                UpdateExpression="SET lease_expires_at = :l",
                ConditionExpression="attribute_exists(sk)",
                ExpressionAttributeValues={":l": {"N": str(int(time.time() * 1000))}},
            )
            return 1

        return load(lambda n: op, FLOOR_SECONDS)

    def floor_keys(self, count: int = 100) -> list[dict]:
        """Events written straight to the store, in a tenant of their own, for the get and
        update floors (updating the scenarios' own events would change what they read)."""
        tenant, keys = f"floor-{uuid.uuid4().hex[:6]}", []
        for _ in range(count):
            item = self.item(tenant)
            self.db.put_item(TableName=self.table, Item=item)
            keys.append({"tenant_id": item["tenant_id"], "sk": item["sk"]})
        return keys

    def size(self, partition: int) -> str:
        """The table's size (moto's index queries read every item of the table, so it
        matters here) and the tenant's partition."""
        items = self.db.describe_table(TableName=self.table)["Table"]["ItemCount"]
        return f"table {items} items, partition {partition}"

    # -- rows ------------------------------------------------------------------------------
    def row(self, name, measured: Measured, floor: float | None, target: float | None, unit="req/s", note=""):
        ratio = measured.rate / floor if floor else None
        met = "" if target is None or ratio is None else ("yes" if ratio >= target else "NO")
        self.rows.append((name, measured, unit, floor, ratio, target, met, note))
        self.errors += [f"{name}: {e}" for e in measured.errors]
        print(
            f"  {name}: {measured.rate:.0f} {unit}, p50 {measured.p50:.1f} ms, p99 {measured.p99:.1f} ms"
            + (f", floor {floor:.0f}, ratio {ratio:.2f}" if floor else "")
            + (f"  ({len(measured.errors)} errors)" if measured.errors else ""),
            flush=True,
        )

    def floor_row(self, name, measured: Measured):
        self.row(f"floor: {name}", measured, None, None, unit="calls/s")

    # -- scenarios -------------------------------------------------------------------------
    def health(self) -> Measured:
        def make(n):
            session = requests.Session()
            return lambda: session.get(f"{self.url}/health", timeout=30).raise_for_status() or 1

        return load(make)

    def single_ingest(self) -> Measured:
        floor, _ = self.floor_put()
        self.floor_row("put_item", floor)
        _, key = self.tenant("ingest")

        def make(n):
            session = self.session(key)

            def op():
                body = {"event_type": "bench", "n": n}
                session.post(f"{self.url}/v1/events", json=body, timeout=30).raise_for_status()
                return 1

            return op

        measured = load(make)
        self.row("single ingest", measured, floor.rate, 0.85, note="vs put_item; partition 0 at the start")
        return measured

    def batch_ingest(self, single: Measured) -> Measured:
        _, key = self.tenant("batch")
        events = [{"event_type": "bench", "n": n} for n in range(BATCH)]

        def make(n):
            session = self.session(key)

            def op():
                response = session.post(f"{self.url}/v1/events/batch", json={"events": events}, timeout=30)
                response.raise_for_status()
                return len(response.json()["events"])

            return op

        measured = load(make)
        self.row(f"batch ingest ({BATCH}/req)", measured, single.rate, 5.0, unit="events/s", note="vs single ingest")
        return measured

    def get(self) -> None:
        floor = self.floor_get(self.floor_keys())
        self.floor_row("get_item", floor)
        _, key = self.tenant("get")
        ids = self.seed(key, 200)
        size = self.size(200)

        def make(n):
            session = self.session(key)

            def op():
                session.get(f"{self.url}/v1/events/{random.choice(ids)}", timeout=30).raise_for_status()
                return 1

            return op

        self.row("get", load(make), floor.rate, 0.85, note=f"vs get_item; {size}")

    def list_page(self) -> None:
        tenant, key = self.tenant("list")
        self.seed(key, 200)
        size = self.size(200)
        floor = self.floor_query(tenant)
        self.floor_row(f"query ({PAGE + 1} items)", floor)

        def make(n):
            session = self.session(key)

            def op():
                url = f"{self.url}/v1/events?status=undelivered&limit={PAGE}"
                response = session.get(url, timeout=30)
                response.raise_for_status()
                assert len(response.json()["events"]) == PAGE
                return 1

            return op

        self.row(f"list page ({PAGE})", load(make), floor.rate, 0.85, note=f"vs query; {size}")

    def claim_ack(self) -> None:
        """One consumer per tenant (competing consumers of one inbox are another question:
        their lost races are extra writes), each claiming CLAIM and acking them in one call."""
        per_tenant = 30 if SMOKE else 150
        tenants = [self.tenant("claim") for _ in range(CONCURRENCY)]
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(lambda t: self.seed(t[1], per_tenant), tenants))
        size = self.size(per_tenant)
        update = self.floor_update(self.floor_keys())
        self.floor_row("update_item", update)
        query = self.floor_query(tenants[0][0])
        # What one claim + ack of CLAIM events costs at the floor: a query, CLAIM conditional
        # updates for the leases, CLAIM for the acks.
        floor = CLAIM / (1 / query.rate + 2 * CLAIM / update.rate)
        dry = []

        def make(n):
            session = self.session(tenants[n][1])

            def op():
                response = session.post(f"{self.url}/v1/events/claim", json={"limit": CLAIM}, timeout=30)
                response.raise_for_status()
                ids = [e["id"] for e in response.json()["events"]]
                self.claims[response.headers["X-Request-ID"]] = len(ids)
                if not ids:
                    dry.append(n)
                    return 0
                session.post(f"{self.url}/v1/events/ack", json={"ids": ids}, timeout=30).raise_for_status()
                return len(ids)

            return op

        measured = load(make)
        note = f"vs 1 query + 2N update_item; {size}" + (f"; inbox ran dry {len(dry)} times" if dry else "")
        self.row(f"claim {CLAIM} + batch ack", measured, floor, 0.85, unit="events/s", note=note)

    def extend(self) -> None:
        tenants = [self.tenant("extend") for _ in range(CONCURRENCY)]
        leases = []
        for _, key in tenants:
            self.seed(key, CLAIM)
            response = self.session(key).post(
                f"{self.url}/v1/events/claim", json={"limit": CLAIM, "lease_seconds": 3600}, timeout=30
            )
            leases.append([(e["id"], e["lease_id"]) for e in response.json()["events"]])
        floor = self.floor_update(self.floor_keys())
        self.floor_row("update_item", floor)

        def make(n):
            session = self.session(tenants[n][1])

            def op():
                event_id, lease_id = random.choice(leases[n])
                body = {"lease_id": lease_id, "lease_seconds": 3600}
                session.post(f"{self.url}/v1/events/{event_id}/extend", json=body, timeout=30).raise_for_status()
                return 1

            return op

        self.row("extend", load(make), floor.rate, 0.85, note="vs update_item")

    def store_calls(self) -> list[tuple]:
        """Store calls per operation from the server's access lines (warm: the first call of
        each thread was untimed and its line is in here too; the median is the warm figure)."""
        # A few single acks and deletes, which the load scenarios do not make.
        _, key = self.tenant("calls")
        session = self.session(key)
        ids = self.seed(key, 40)
        for event_id in ids[:20]:
            session.post(f"{self.url}/v1/events/{event_id}/ack", timeout=30).raise_for_status()
        for event_id in ids[20:]:
            deleted = session.delete(f"{self.url}/v1/events/{event_id}", timeout=30)
            assert deleted.status_code == 204
        self.server.line_with(deleted.headers["X-Request-ID"], '"triggerapi.access"')
        by_route: dict[tuple, list[int]] = {}
        over = 0
        for line in list(self.server.lines):
            if '"triggerapi.access"' not in line:
                continue
            entry = json.loads(line)
            if entry["status"] >= 400:
                continue
            by_route.setdefault((entry["method"], entry["route"]), []).append(entry["store_calls"])
            if (claimed := self.claims.get(entry["request_id"])) is not None and entry["store_calls"] > 1 + claimed:
                over += 1
        wanted = [
            ("single ingest", "POST", "/v1/events", "1"),
            ("batch ingest", "POST", "/v1/events/batch", f"{BATCH // 25} (BatchWrite of 25)"),
            ("get", "GET", "/v1/events/{event_id}", "1"),
            ("list page", "GET", "/v1/events", "1"),
            ("ack (one)", "POST", "/v1/events/{event_id}/ack", "1"),
            ("ack (batch)", "POST", "/v1/events/ack", "1 per event"),
            ("delete", "DELETE", "/v1/events/{event_id}", "1"),
            ("extend", "POST", "/v1/events/{event_id}/extend", "1"),
            ("claim", "POST", "/v1/events/claim", "<= 1 + N"),
        ]
        table = []
        for name, method, route, target in wanted:
            calls = by_route.get((method, route), [])
            if not calls:
                table.append((name, "-", "-", "-", target))
                continue
            table.append((name, statistics.median(calls), max(calls), len(calls), target))
        claims = len(self.claims)
        table.append(("claims over 1 + N", f"{over}/{claims}", "", "", "0"))
        return table


def fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_table(bench: Bench) -> None:
    print()
    print("| scenario | rate | p50 ms | p99 ms | floor | ratio | target | met? | note |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, m, unit, floor, ratio, target, met, note in bench.rows:
        target_text = f">= {target:g}x" if target else "-"
        print(
            f"| {name} | {m.rate:.0f} {unit} | {m.p50:.1f} | {m.p99:.1f} | {fmt(floor)} | {fmt(ratio, 2)} "
            f"| {target_text} | {met or '-'} | {note} |"
        )


def cpu_section() -> list[str]:
    """scripts/bench_cpu.py in its own interpreter (it patches botocore with moto's mock)."""
    count = "100" if SMOKE else "1000"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_cpu.py"), "--requests", count],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in ("DYNAMODB_HOST", "TABLE_PREFIX")},
    )
    if result.returncode:
        raise RuntimeError("bench_cpu.py failed:\n" + result.stderr[-3000:])
    return result.stdout.splitlines()


def main() -> int:
    print(
        f"make bench: {SECONDS:g} s per scenario, {CONCURRENCY} client threads (requests.Session each), "
        f"gunicorn {WORKERS}x{THREADS} gthread, moto server (localstore); fresh tenants per scenario",
        flush=True,
    )
    store, store_url = start_store()
    env = server_env(store_url, HOOKS_ALLOW_HTTP="true", HOOKS_ALLOW_PRIVATE_TARGETS="true", LOG_LEVEL="INFO")
    manage(env, "create_tables")
    os.environ.update({k: env[k] for k in ("DYNAMODB_HOST", "TABLE_PREFIX", "SECRET_KEY")})
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ["DJANGO_SETTINGS_MODULE"] = "triggerapi.settings"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    server, url = start_api(env, workers=WORKERS, threads=THREADS)
    bench = Bench(url, store_url, server)
    extra: list[str] = []
    try:
        # 5. Webhooks first, while the stream holds nothing else: run_deliveries reads every
        # tenant's records, and left running it would compete for the store during the rest.
        print("\n5. webhooks (run_deliveries, one receiver)", flush=True)
        extra += webhooks(env, url)

        # Then the scenarios that query an index, while the table is small: moto's index
        # queries read every item of the table (DynamoDB's read only the partition's page).
        print("\n1-2. floor and API, paired", flush=True)
        health = bench.health()
        bench.row("client check: GET /health", health, None, None, note="no store call: the client's ceiling")
        bench.list_page()
        bench.claim_ack()
        bench.extend()
        print("\n4. long poll", flush=True)
        extra += longpoll(bench, url, server)
        print("\n6. run_worker --once drain", flush=True)
        extra += drain(env, url, store)
        print("\n1-2. floor and API, paired (key reads and writes)", flush=True)
        bench.get()
        single = bench.single_ingest()
        client_ms = single.client_cpu / max(1, single.requests) * 1000
        bench.batch_ingest(single)
        calls = bench.store_calls()
    finally:
        server.stop()
        store.stop()
        artifacts = ROOT / "test-artifacts" / "bench"
        artifacts.mkdir(parents=True, exist_ok=True)
        (artifacts / "server.log").write_text("".join(server.lines))
    print("\n3b. app CPU per request, store in process (scripts/bench_cpu.py)", flush=True)
    cpu = cpu_section()
    coldstart = coldstart_section()

    print("\n" + "=" * 100)
    print(f"RESULTS ({SECONDS:g} s per scenario, {CONCURRENCY} client threads, gunicorn {WORKERS}x{THREADS})")
    print_table(bench)
    print(
        f"\nload generator: {health.rate:.0f} req/s on /health; {client_ms:.2f} ms of client CPU per single "
        f"ingest ({single.client_cpu / single.seconds * 100:.0f}% of one core during that scenario)"
    )
    print("\n3. store calls per API operation (server access log, successful requests)")
    print("| operation | median | max | requests | target |")
    print("|---|---|---|---|---|")
    for name, median, most, n, target in calls:
        print(f"| {name} | {median} | {most} | {n} | {target} |")
    print("\n3b. app CPU per request (Django test client, moto in process, raw store calls subtracted)")
    for line in cpu:
        print(line)
    for line in extra + coldstart:
        print(line)
    if bench.errors:
        print(f"\n{len(bench.errors)} requests failed; the first: {bench.errors[:3]}")
        return 1
    return 0


def webhooks(env: dict, url: str) -> list[str]:
    lines = []
    with bench_webhooks.pushing_to_a_receiver(env, url, "bench-hooks") as (send, arrived):
        rate = bench_webhooks.RATE
        steady = int(rate * SECONDS)
        latencies, _ = bench_webhooks.measure(arrived, send, steady, workers=8, rate=rate)
        met = "yes" if percentile(latencies, 99) <= 1000 else "NO"
        lines.append(
            f"\n5. ingest -> first webhook attempt at the receiver, {rate} events/s for {SECONDS:g} s: "
            f"{len(latencies)}/{steady} delivered, p50 {percentile(latencies, 50):.0f} ms, "
            f"p99 {percentile(latencies, 99):.0f} ms (target p99 <= 1000 ms: {met})"
        )
        burst = 20 if SMOKE else 200
        latencies, elapsed = bench_webhooks.measure(arrived, send, burst, workers=8)
        lines.append(
            f"   a burst of {burst} from 8 clients: {len(latencies) / elapsed:.0f} deliveries/s to one hook "
            f"(first send to last arrival), p99 {percentile(latencies, 99):.0f} ms"
        )
    for line in lines:
        print(line.strip(), flush=True)
    return lines


def longpoll(bench: Bench, url: str, server: Child) -> list[str]:
    _, key = bench.tenant("longpoll")
    api = Api(url, key)
    api.key = key
    api.get("/v1/me")
    events = 6 if SMOKE else int(SECONDS * 4)
    latencies = bench_longpoll.wake_up_latencies(api, events)
    wait = 2 if SMOKE else 5
    per_second = bench_longpoll.queries_per_waited_second(api, server, wait)
    met = "yes" if percentile(latencies, 99) <= 500 else "NO"
    lines = [
        f"\n4. long-poll wake-up over {len(latencies)}/{events} events trickled into waits: "
        f"p50 {percentile(latencies, 50):.0f} ms, p99 {percentile(latencies, 99):.0f} ms "
        f"(target p99 <= 500 ms: {met})",
        f"   store queries per waited second (an empty {wait} s wait): {per_second:.1f}",
    ]
    print("\n".join(line.strip() for line in lines), flush=True)
    return lines


def drain(env: dict, url: str, store: Child) -> list[str]:
    tenants = json.loads(manage(env, "seed_tenants", "--json"))["tenants"]
    keys = {t["tenant"]: t["key"] for t in tenants}
    bench_drain.post_events(url, keys, DRAIN_PER_TENANT)
    acked, elapsed, store_cpu = bench_drain.run(env, url, keys, 100, store.process.pid)
    return [
        f"\n6. run_worker --once --batch 100, {len(keys)} tenants x {DRAIN_PER_TENANT}: {acked} events in "
        f"{elapsed:.2f} s = {acked / elapsed:.0f} events/s (store CPU {store_cpu:.1f} s; the time includes "
        "the worker's interpreter start)"
    ]


def coldstart_section() -> list[str]:
    if not ZIP.exists():
        return [f"\ncold start: {ZIP.relative_to(ROOT)} not built; `make bench-coldstart` builds it and measures"]
    print("\ncold start (scripts/bench_coldstart.py)", flush=True)
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_coldstart.py"), str(ZIP)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        return [f"\ncold start: bench_coldstart.py failed: {result.stderr[-500:]}"]
    lines = result.stdout.splitlines()
    return ["\n6b. cold start of the packaged Lambda (target <= 300 ms):", *(f"   {line}" for line in lines)]


if __name__ == "__main__":
    sys.exit(main())
