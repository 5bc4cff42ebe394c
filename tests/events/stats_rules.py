"""The state machine's rule for what a tenant sees (issue 21's routes): after the events
table's stream is handed to the stream function (as run_deliveries does), each tenant's
stats count exactly the model's events in each status and every event it ever created, and
an event's history starts with its ingest, in time order. Mixed into TwoTenants
(two_tenants.py), whose clients and models it uses."""

from hypothesis import strategies as st
from hypothesis.stateful import rule

from events.models import FAILED, UNDELIVERED
from tests import tally
from tests.activity.conftest import Pump
from tests.events.sequences import TENANT


class StatsRules:
    def open_stream(self) -> None:
        """After the machine's tables are made: the stream read from here on."""
        self.pump = Pump()
        self.ever: dict[str, set[str]] = {}

    def note_created(self) -> None:
        for tenant, model in self.models.items():
            self.ever.setdefault(tenant, set()).update(model.events)

    @rule(tenant=TENANT, pick=st.integers(0, 2**16))
    @tally.counted("state machine steps")
    def stats_and_history(self, tenant, pick):
        self.pump()
        model = self.models[tenant]
        events = self.clients[tenant].get("/v1/stats").json()["events"]
        statuses = [event.status for event in model.events.values()]
        assert (events["undelivered"], events["failed"]) == (statuses.count(UNDELIVERED), statuses.count(FAILED))
        assert events["ingested"]["24h"] == len(self.ever.get(tenant, ()))
        if model.events:
            event_id = list(model.events)[pick % len(model.events)]
            history = self.clients[tenant].get(f"/v1/events/{event_id}/history").json()["history"]
            assert history[0]["what"] == "ingested" and [e["at"] for e in history] == sorted(e["at"] for e in history)
