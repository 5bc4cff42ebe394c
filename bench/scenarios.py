"""Each API operation under load through the real stack, paired with its floor (measured
right before it), one row of the table each."""

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from bench.floor import PAGE, Floor
from bench.harness import CONCURRENCY, SMOKE, Measured, load

BATCH = 100  # events per batch ingest (the most a batch takes)
CLAIM = 10  # claim limit (run_worker's default)


@dataclass
class Row:
    name: str
    measured: Measured
    unit: str
    floor: float | None
    ratio: float | None
    target: float | None
    met: str
    note: str


class Scenarios:
    def __init__(self, url: str, floor: Floor):
        self.url, self.floor = url, floor
        self.rows: list[Row] = []
        self.errors: list[str] = []
        self.claims: dict[str, int] = {}  # request id -> events the claim answered

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

    # -- rows ---------------------------------------------------------------------------
    def row(self, name, measured: Measured, floor: float | None, target: float | None, unit="req/s", note=""):
        ratio = measured.rate / floor if floor else None
        met = "" if target is None or ratio is None else ("yes" if ratio >= target else "NO")
        self.rows.append(Row(name, measured, unit, floor, ratio, target, met, note))
        self.errors += [f"{name}: {e}" for e in measured.errors]
        print(
            f"  {name}: {measured.rate:.0f} {unit}, p50 {measured.p50:.1f} ms, p99 {measured.p99:.1f} ms"
            + (f", floor {floor:.0f}, ratio {ratio:.2f}" if floor else "")
            + (f"  ({len(measured.errors)} errors)" if measured.errors else ""),
            flush=True,
        )

    def floor_row(self, name, measured: Measured):
        self.row(f"floor: {name}", measured, None, None, unit="calls/s")

    # -- scenarios ----------------------------------------------------------------------
    def health(self) -> Measured:
        def make(n):
            session = requests.Session()
            return lambda: session.get(f"{self.url}/health", timeout=30).raise_for_status() or 1

        measured = load(make)
        self.row("client check: GET /health", measured, None, None, note="no store call: the client's ceiling")
        return measured

    def single_ingest(self) -> Measured:
        floor = self.floor.put()
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

    def batch_ingest(self, single: Measured) -> None:
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

    def get(self) -> None:
        floor = self.floor.get(self.floor.keys())
        self.floor_row("get_item", floor)
        _, key = self.tenant("get")
        ids = self.seed(key, 200)
        size = self.floor.size(200)

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
        size = self.floor.size(200)
        floor = self.floor.query(tenant)
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
        size = self.floor.size(per_tenant)
        update = self.floor.update(self.floor.keys())
        self.floor_row("update_item", update)
        query = self.floor.query(tenants[0][0])
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
        floor = self.floor.update(self.floor.keys())
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
