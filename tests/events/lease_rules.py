"""The state machine's rules for leases by id and replay (issue 10's calls): extend and
release with the current lease, a stale one or one that never was, and replay of a time
range. Mixed into TwoTenants (two_tenants.py), whose clients, models and clock they use."""

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, rule

from tests import tally
from tests.events.sequences import TENANT

LEASE_PICKS = st.sampled_from(["current", "current", "stale", "never"])


def _lease_id(event, pick: str) -> str:
    if event is not None and pick == "current" and event.lease_id:
        return event.lease_id
    if event is not None and pick == "stale" and event.old_leases:
        return event.old_leases[-1]
    return "never-a-lease"


def _without_lease_id(body: dict) -> dict:
    return {name: value for name, value in body.items() if name != "lease_id"}


class LeaseRules:
    events = Bundle("events")

    @rule(tenant=TENANT, event_id=events, pick=LEASE_PICKS, lease_seconds=st.sampled_from([1, 30, 3600, 43200]))
    @tally.counted("state machine steps")
    def extend(self, tenant, event_id, pick, lease_seconds):
        model = self.models[tenant]
        lease_id = _lease_id(model.events.get(event_id), pick)
        body = {"lease_id": lease_id, "lease_seconds": lease_seconds}

        response = self.clients[tenant].post(f"/v1/events/{event_id}/extend", body, format="json")

        assert response.status_code == model.extend(self.now, event_id, lease_id, lease_seconds), response.content
        if response.status_code == 200:
            assert response.json()["lease_id"] == lease_id
            assert _without_lease_id(response.json()) == model.events[event_id].as_json()

    @rule(tenant=TENANT, event_id=events, pick=LEASE_PICKS, delay_seconds=st.sampled_from([0, 30]))
    @tally.counted("state machine steps")
    def release_by_lease(self, tenant, event_id, pick, delay_seconds):
        model = self.models[tenant]
        lease_id = _lease_id(model.events.get(event_id), pick)
        body = {"lease_id": lease_id, "delay_seconds": delay_seconds}

        response = self.clients[tenant].post(f"/v1/events/{event_id}/release", body, format="json")

        assert response.status_code == model.release(self.now, event_id, delay_seconds, lease_id), response.content
        if response.status_code == 200:
            assert response.json() == model.events[event_id].as_json()

    @rule(tenant=TENANT, since=st.integers(0, 1800), span=st.integers(0, 3600))
    @tally.counted("state machine steps")
    def replay(self, tenant, since, span):
        since_ms = self.start + since * 1000
        body = {"since": since_ms, "until": since_ms + span * 1000}

        response = self.clients[tenant].post("/v1/events/replay", body, format="json")

        expected = self.models[tenant].replay(self.now, body["since"], body["until"])
        assert (response.status_code, response.json()) == (200, {"replayed": expected, "next_cursor": None})
