"""The state machine's rule for the request rate (LIMITS.md): a tenant over its rate is
refused whatever it sends, and a refused request changes nothing. The rule drops the
tenant's limits to 1 request a second, spends that one, sends any call and expects the 429,
then gives the tenant back its high limits; the model is left as it was, so the invariants
(each tenant sees exactly its events as the model has them) catch any change. Mixed into
TwoTenants (two_tenants.py), whose clients, tenant ids and models it uses."""

import json

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, rule

from limits.services import tenant_limits_set
from tests import tally
from tests.events.sequences import KEYS, NOT_AN_ID, PAYLOADS, TENANT

# What the state machine's tenants may send otherwise: far more than any run does.
HIGH = {"rate": 100_000, "burst": 1_000_000}
TINY = {"rate": 1, "burst": 1}


def _request(kind: str, event_id: str, payload: dict) -> tuple[str, str, dict | None]:
    """(method, path, body) of each call that changes something when it is taken."""
    return {
        "create": ("POST", "/v1/events", payload),
        "batch": ("POST", "/v1/events/batch", {"events": [payload, payload]}),
        "claim": ("POST", "/v1/events/claim", {"limit": 5}),
        "ack": ("POST", f"/v1/events/{event_id}/ack", None),
        "ack_many": ("POST", "/v1/events/ack", {"ids": [event_id]}),
        "release": ("POST", f"/v1/events/{event_id}/release", None),
        "retry": ("POST", f"/v1/events/{event_id}/retry", None),
        "replay": ("POST", "/v1/events/replay", {"since": 0, "until": 2**41}),
        "delete": ("DELETE", f"/v1/events/{event_id}", None),
    }[kind]


KINDS = st.sampled_from(["create", "batch", "claim", "ack", "ack_many", "release", "retry", "replay", "delete"])


class RateRules:
    events = Bundle("events")

    @rule(tenant=TENANT, kind=KINDS, event_id=events | st.just(NOT_AN_ID), payload=PAYLOADS, key=KEYS)
    @tally.counted("state machine steps")
    def refused_over_its_rate(self, tenant, kind, event_id, payload, key):
        client, tenant_id = self.clients[tenant], self.tenant_ids[tenant]
        tenant_limits_set(tenant_id=tenant_id, changes=TINY)
        try:
            spent = [client.get("/v1/me").status_code for _ in range(2)]
            method, path, body = _request(kind, event_id, payload)
            headers = {"HTTP_IDEMPOTENCY_KEY": key} if key and kind in ("create", "batch") else {}
            content = "" if body is None else json.dumps(body)
            response = client.generic(method, path, content, content_type="application/json", **headers)
        finally:
            tenant_limits_set(tenant_id=tenant_id, changes=HIGH)
        # The bucket's one token may be gone already: the tenant's earlier requests used it.
        assert spent in ([200, 429], [429, 429])
        error = response.json()["error"]
        assert (response.status_code, error["code"], error["details"]) == (429, "rate_limited", {"limit": "requests"})
        assert int(response["Retry-After"]) >= 1
