"""Two tenants driven through random sequences of every call, on moto's in-process store
through DRF's test client, beside the Python model of the contract (tests/events/model.py):
every answer is the one the model expects, and after every step each tenant sees exactly
its own events as the model has them and the other tenant's ids are 404. Their request
rates are high (the invariants read every page after every step), but on: a rule drops one
to nothing and checks that what it is refused changes nothing (rate_rules.py)."""

import uuid

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)
from rest_framework.test import APIClient

from events import ids
from events.models import STATUSES
from limits.services import tenant_limits_set
from tenants.services import api_key_issue
from tests import tally
from tests.events.lease_rules import LeaseRules
from tests.events.model import TenantModel
from tests.events.rate_rules import HIGH, RateRules
from tests.events.sequences import EVENT_TYPES, KEYS, NOT_AN_ID, PAYLOADS, TENANT, TENANTS, walk
from tests.events.stats_rules import StatsRules
from triggerapi.store import now_ms
from triggerapi.tables import table_models, tables_create

START = "2026-11-22 12:00:00+00:00"
# Low, so that events run out of attempts and fail within a short run.
MAX_ATTEMPTS = 2


class TwoTenants(LeaseRules, RateRules, StatsRules, RuleBasedStateMachine):
    """`self.clients[t]` talks to the API as tenant t; `self.models[t]` says what it should see."""

    events = Bundle("events")

    def __init__(self, clock):
        """Fresh tables (moto's queries slow down as a table grows) and tenants, on a stopped
        clock; ids restart their sequence with it."""
        super().__init__()
        tally.count("state machine runs")
        for model in table_models():
            model.delete_table()
        tables_create()
        ids._last = 0
        clock.move_to(START, tick=False)
        self.open_stream()  # on the moved clock: moto reads a stream from LATEST by time
        self.clock, self.now = clock, now_ms()
        self.start = self.now
        self.clients, self.models, self.sent, self.tenant_ids = {}, {}, [], {}
        for name in TENANTS:
            self.tenant_ids[name] = f"{name}-{uuid.uuid4().hex[:8]}"
            tenant_limits_set(tenant_id=self.tenant_ids[name], changes=HIGH)
            key = api_key_issue(tenant_id=self.tenant_ids[name], scopes=("ingest", "consume"))[1]
            self.clients[name] = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}")
            self.models[name] = TenantModel(MAX_ATTEMPTS)

    def _ingest(self, tenant: str, kind: str, body, key: str | None) -> list[str]:
        """Sends a create or batch as the model expects it to be answered: a new event (201),
        the original answer again (200) or 422; returns the ids of new events."""
        model = self.models[tenant]
        expected, original = model.expected_ingest(kind, body, key)
        path, payloads = ("/v1/events/batch", body["events"]) if kind == "batch" else ("/v1/events", [body])
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        response = self.clients[tenant].post(path, body, format="json", **headers)
        assert response.status_code == expected, response.content
        if key is not None:
            self.sent.append((kind, body, key))
        if expected == 422:
            return []
        receipts = response.json()["events"] if kind == "batch" else [response.json()]
        if original is not None:
            assert (receipts, response["Idempotent-Replayed"]) == (original, "true")
            return []
        model.stored(kind, body, key, receipts, payloads)
        return [receipt["id"] for receipt in receipts]

    @initialize(target=events, payloads=st.lists(PAYLOADS, min_size=2, max_size=4))
    def stock(self, payloads):
        """Both tenants start with a few events, so that claims find some."""
        return multiple(*(i for tenant in TENANTS for i in self._ingest(tenant, "batch", {"events": payloads}, None)))

    @rule(target=events, tenant=TENANT, payload=PAYLOADS, key=KEYS)
    @tally.counted("state machine steps")
    def create(self, tenant, payload, key):
        return multiple(*self._ingest(tenant, "event", payload, key))

    @rule(target=events, tenant=TENANT, payloads=st.lists(PAYLOADS, min_size=1, max_size=4), key=KEYS)
    @tally.counted("state machine steps")
    def batch(self, tenant, payloads, key):
        return multiple(*self._ingest(tenant, "batch", {"events": payloads}, key))

    @precondition(lambda self: self.sent)
    @rule(target=events, tenant=TENANT, pick=st.integers(0, 2**16))
    @tally.counted("state machine steps")
    def resend(self, tenant, pick):
        """A request sent again with its Idempotency-Key, by its tenant (answered again) or the other."""
        kind, body, key = self.sent[pick % len(self.sent)]
        return multiple(*self._ingest(tenant, kind, body, key))

    @rule(tenant=TENANT, event_id=events | st.just(NOT_AN_ID))
    @tally.counted("state machine steps")
    def get(self, tenant, event_id):
        response = self.clients[tenant].get(f"/v1/events/{event_id}")
        event = self.models[tenant].events.get(event_id)
        expected = (200, event.as_json()) if event else (404, "not_found")
        assert (response.status_code, response.json() if event else response.json()["error"]["code"]) == expected

    @rule(tenant=TENANT, status=st.sampled_from([None, *STATUSES]), event_type=EVENT_TYPES, limit=st.integers(1, 4))
    @tally.counted("state machine steps")
    def list_every_page(self, tenant, status, event_type, limit):
        query = {k: v for k, v in {"status": status, "event_type": event_type}.items() if v}
        short_pages = self.models[tenant].pages_may_be_short(status, event_type)
        seen = walk(self.clients[tenant], {**query, "limit": limit}, short_pages=short_pages)
        assert seen == self.models[tenant].listed(status, event_type)

    def _claim(self, tenant: str, limit: int, lease_seconds: int, event_type: str | None) -> None:
        body = {"limit": limit, "lease_seconds": lease_seconds, **({"event_type": event_type} if event_type else {})}
        response = self.clients[tenant].post("/v1/events/claim", body, format="json")
        model = self.models[tenant]
        expected = model.claim(self.now, limit, lease_seconds, event_type)
        assert response.status_code == 200
        claimed = response.json()["events"]
        assert [{k: v for k, v in e.items() if k != "lease_id"} for e in claimed] == [
            model.events[i].as_json() for i in expected
        ]
        assert len({event["lease_id"] for event in claimed}) == len(claimed)
        for event in claimed:
            model.leased(event["id"], event["lease_id"])

    @rule(
        tenant=TENANT,
        limit=st.integers(1, 5),
        lease_seconds=st.integers(1, 120),
        event_type=st.sampled_from([None, None, None, "a"]),
    )
    @tally.counted("state machine steps")
    def claim(self, tenant, limit, lease_seconds, event_type):
        self._claim(tenant, limit, lease_seconds, event_type)

    @rule(tenant=TENANT, limit=st.integers(1, 5), lease_seconds=st.integers(1, 60))
    @tally.counted("state machine steps")
    def claim_and_crash(self, tenant, limit, lease_seconds):
        """A worker claims and dies: nobody acks, and time passes until its lease has ended."""
        self._claim(tenant, limit, lease_seconds, None)
        self._move_the_clock(lease_seconds)

    @rule(tenant=TENANT, event_id=events | st.just(NOT_AN_ID))
    @tally.counted("state machine steps")
    def ack(self, tenant, event_id):
        response = self.clients[tenant].post(f"/v1/events/{event_id}/ack")
        assert response.status_code == self.models[tenant].ack(self.now, event_id)
        if response.status_code == 200:
            assert response.json() == {"id": event_id, "status": "acknowledged"}

    @rule(tenant=TENANT, event_ids=st.lists(events | st.just(NOT_AN_ID), min_size=1, max_size=4))
    @tally.counted("state machine steps")
    def ack_many(self, tenant, event_ids):
        response = self.clients[tenant].post("/v1/events/ack", {"ids": event_ids}, format="json")
        outcomes = {event_id: self.models[tenant].ack(self.now, event_id) for event_id in dict.fromkeys(event_ids)}
        acked, not_found = ([i for i, status in outcomes.items() if status == s] for s in (200, 404))
        assert (response.status_code, response.json()) == (200, {"acknowledged": acked, "not_found": not_found})

    @rule(tenant=TENANT, event_id=events, delay_seconds=st.sampled_from([0, 0, 30, 600]))
    @tally.counted("state machine steps")
    def release(self, tenant, event_id, delay_seconds):
        body = {"delay_seconds": delay_seconds} if delay_seconds else None
        response = self.clients[tenant].post(f"/v1/events/{event_id}/release", body, format="json")
        assert response.status_code == self.models[tenant].release(self.now, event_id, delay_seconds)
        if response.status_code == 200:
            assert response.json() == self.models[tenant].events[event_id].as_json()

    @rule(tenant=TENANT, event_id=events, a_failed_one=st.booleans())
    @tally.counted("state machine steps")
    def retry(self, tenant, event_id, a_failed_one):
        """Any event, or one the model says has failed (few events fail, so a random pick rarely finds one)."""
        failed = [e.id for e in self.models[tenant].events.values() if e.status == "failed"]
        if a_failed_one and failed:
            event_id = failed[0]
        response = self.clients[tenant].post(f"/v1/events/{event_id}/retry")
        assert response.status_code == self.models[tenant].retry(self.now, event_id)
        if response.status_code == 200:
            assert response.json() == self.models[tenant].events[event_id].as_json()

    @rule(tenant=TENANT, event_id=consumes(events))
    @tally.counted("state machine steps")
    def delete(self, tenant, event_id):
        response = self.clients[tenant].delete(f"/v1/events/{event_id}")
        assert response.status_code == self.models[tenant].delete(event_id)

    @rule(seconds=st.integers(1, 300))
    @tally.counted("state machine steps")
    def move_the_clock(self, seconds):
        self._move_the_clock(seconds)

    def _move_the_clock(self, seconds: int) -> None:
        """Leases and release delays end because time passes, not because the test sleeps."""
        self.clock.shift(seconds)
        self.now += seconds * 1000

    @invariant()
    def each_tenant_sees_exactly_its_own_events_as_the_model_has_them(self):
        self.note_created()
        for tenant, model in self.models.items():
            seen = walk(
                self.clients[tenant], {"limit": 100}, full=True, short_pages=model.pages_may_be_short(None, None)
            )
            assert seen == [model.events[i].as_json() for i in model.listed(None, None)]

    @invariant()
    def the_other_tenants_ids_are_404(self):
        for tenant, other in zip(TENANTS, reversed(TENANTS), strict=True):
            for event_id in list(self.models[other].events)[-1:]:
                assert self.clients[tenant].get(f"/v1/events/{event_id}").status_code == 404
