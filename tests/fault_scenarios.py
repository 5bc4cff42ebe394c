"""Every write endpoint as a scenario for the fault matrix: set up a fresh tenant, act once
(the request the fault hits), then check that the answer is the truth about the store."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.cache import cache
from rest_framework.test import APIClient

from events.models import Event
from events.services import event_claim, event_create
from hooks import dispatch, fanout, outcomes, vault
from hooks.models import Delivery, Hook, HookCount
from hooks.services import hook_create
from tenants.selectors import tenant_get_by_api_key
from tenants.services import api_key_issue, api_key_touch
from tests.hooks.api.deliveries_stored import owed, problems, recorded

BATCH = [{"n": i} for i in range(30)]  # two BatchWriteItem calls


@dataclass
class Case:
    client: APIClient
    tenant: str
    ids: list[str]


def new_case(events: int = 0) -> Case:
    """A fresh tenant whose key is cached and recorded as used, so that the action's store
    requests are its own."""
    tenant = f"t{uuid.uuid4().hex[:10]}"
    key = api_key_issue(tenant_id=tenant)[1]
    api_key_touch(principal=tenant_get_by_api_key(api_key=key))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    ids = [event_create(tenant_id=tenant, payload={"n": i}).receipts[0]["id"] for i in range(events)]
    return Case(client, tenant, ids)


def stored(tenant: str) -> dict[str, Event]:
    """The tenant's live events, read straight from the store."""
    now = datetime.now(UTC)
    return {e.event_id: e for e in Event.query(tenant, Event.event_id.startswith("evt_")) if e.is_live(now)}


def write_state(response) -> str | None:
    return response.json()["error"]["details"].get("write") if response.status_code == 503 else None


def _followup(case: Case, method: str, path: str, body=None, **headers):
    return getattr(case.client, method)(path, body, format="json", **headers)


# --- checks: each asserts what the answer says is what the store holds -------------------


def check_create(case: Case, response) -> None:
    events = stored(case.tenant)
    if response.status_code == 201:
        assert list(events) == [response.json()["id"]]
        assert events[response.json()["id"]].payload_object() == {"n": 1}
    elif write_state(response) == "not_applied":
        assert events == {}
    else:
        assert len(events) <= 1


def check_create_idempotent(case: Case, response) -> None:
    check_create(case, response)
    again = _followup(case, "post", "/v1/events", {"n": 1}, HTTP_IDEMPOTENCY_KEY="k")
    assert again.status_code in (200, 201), again.content
    assert list(stored(case.tenant)) == [again.json()["id"]]
    if response.status_code == 201:
        assert (again.status_code, again.json()) == (200, response.json())


def check_batch(case: Case, response) -> None:
    events = stored(case.tenant)
    if response.status_code == 201:
        assert sorted(events) == [r["id"] for r in response.json()["events"]]
    elif write_state(response) == "not_applied":
        assert events == {}
    else:
        assert len(events) >= len(response.json()["error"]["details"].get("stored", []))


def check_batch_idempotent(case: Case, response, clock) -> None:
    check_batch(case, response)
    again = _followup(case, "post", "/v1/events/batch", {"events": BATCH}, HTTP_IDEMPOTENCY_KEY="b")
    if again.status_code == 503:  # the first request's lease still holds the key
        clock.shift(int(again["Retry-After"]) + 1)
        again = _followup(case, "post", "/v1/events/batch", {"events": BATCH}, HTTP_IDEMPOTENCY_KEY="b")
    assert again.status_code in (200, 201), again.content
    assert sorted(stored(case.tenant)) == [r["id"] for r in again.json()["events"]]
    if response.status_code == 201:
        assert again.json() == response.json()


def _statuses(case: Case) -> list[str]:
    events = stored(case.tenant)
    return [events[i].status if i in events else "gone" for i in case.ids]


def check_ack(case: Case, response) -> None:
    if response.status_code == 200:
        assert _statuses(case) == ["delivered"] * len(case.ids)
    elif write_state(response) == "not_applied":
        assert _statuses(case) == ["undelivered"] * len(case.ids)


def check_delete(case: Case, response) -> None:
    if response.status_code == 204:
        assert _statuses(case) == ["gone"]
    elif write_state(response) == "not_applied":
        assert _statuses(case) == ["undelivered"]
    again = case.client.delete(f"/v1/events/{case.ids[0]}")
    assert again.status_code in (204, 404)
    assert _statuses(case) == ["gone"]


def check_release(case: Case, response) -> None:
    leases = [stored(case.tenant)[i].lease_expires_at for i in case.ids]
    if response.status_code == 200:
        assert leases == [None] and response.json()["lease_expires_at"] is None
    elif write_state(response) == "not_applied":
        assert leases[0] is not None


def check_retry(case: Case, response) -> None:
    event = stored(case.tenant)[case.ids[0]]
    if response.status_code == 200:
        assert (event.status, event.attempts) == ("undelivered", 0) == (response.json()["status"], 0)
    elif write_state(response) == "not_applied":
        assert event.status == "failed"


def check_claim(case: Case, response, clock) -> None:
    """Nothing is leased forever: what the claim did not hand out is claimable once any
    lease the store may have taken without telling us has run out."""
    returned = [e["id"] for e in response.json()["events"]] if response.status_code == 200 else []
    assert all(stored(case.tenant)[i].lease_expires_at for i in returned)
    if write_state(response) == "not_applied":
        assert all(stored(case.tenant)[i].lease_expires_at is None for i in case.ids)
    clock.shift(31)
    assert {e.event_id for e in event_claim(tenant_id=case.tenant, limit=10)} == set(case.ids)


# --- hooks: the answer matches the store, and the tenant's hook count matches its hooks ---

HOOK_TARGET = "https://93.184.216.34/in"  # a public address: no DNS in the way


def _hooks(case: Case) -> dict[str, Hook]:
    found = {h.hook_id: h for h in Hook.query(case.tenant, Hook.sk.startswith("hook#"), consistent_read=True)}
    try:
        count = HookCount.get(case.tenant, HookCount.sk.default).count
    except HookCount.DoesNotExist:
        count = 0
    assert count == len(found), (count, list(found))
    return found


def _make_hook(case: Case, settings) -> None:
    created = hook_create(
        tenant_id=case.tenant, target_url=HOOK_TARGET, event_types=[], description="old", created_by="tk_live_faults00"
    )
    case.ids = [created.hook.hook_id]


def check_hook_create(case: Case, response) -> None:
    hooks = _hooks(case)
    if response.status_code == 201:
        assert list(hooks) == [response.json()["id"]]
        assert vault.unseal(hooks[response.json()["id"]].secret) == response.json()["secret"]
    elif write_state(response) == "not_applied":
        assert hooks == {}
    else:
        assert len(hooks) <= 1


def check_hook_update(case: Case, response) -> None:
    description = _hooks(case)[case.ids[0]].description
    if response.status_code == 200:
        assert description == response.json()["description"] == "new"
    elif write_state(response) == "not_applied":
        assert description == "old"


def check_hook_delete(case: Case, response) -> None:
    if response.status_code == 204:
        assert _hooks(case) == {}
    elif write_state(response) == "not_applied":
        assert list(_hooks(case)) == case.ids
    again = case.client.delete(f"/v1/hooks/{case.ids[0]}")
    assert again.status_code in (204, 404), again.content
    assert _hooks(case) == {}


# A target that refuses at once: the retry's attempt is made, and fails fast.
REFUSING_TARGET = "http://127.0.0.1:9/in"


def _failed_delivery(case: Case, settings) -> None:
    """A hook whose one delivery has failed (its event was gone at its first attempt)."""
    settings.HOOKS_ALLOW_HTTP = settings.HOOKS_ALLOW_PRIVATE_TARGETS = True
    hook = hook_create(
        tenant_id=case.tenant, target_url=REFUSING_TARGET, event_types=[], description=None, created_by="tk_live_f"
    ).hook
    event = Event.get(case.tenant, event_create(tenant_id=case.tenant, payload={"n": 1}).receipts[0]["id"])
    made = fanout.deliver_new(hook, event)
    claim = dispatch.claim_due(made.pk, made.event_id, made.due_key, {})
    outcomes.outcome_record(outcomes.Outcome(claim, None, "setup", final=True))
    case.ids = [hook.hook_id, event.event_id]


def check_delivery_retry(case: Case, response) -> None:
    """The retry's claim counts its attempt: a 200 shows it, and a 503 that says nothing
    was written leaves the delivery failed after its one attempt. Its outcome is written
    with the attempt's record (one transaction): every attempt counted but one in flight
    is recorded."""
    hook_id, event_id = case.ids
    stored = Delivery.get(Delivery.pk_for(case.tenant, hook_id), event_id, consistent_read=True)
    assert problems(stored) == []
    assert recorded(stored) == owed(stored)
    if response.status_code == 200:
        assert (response.json()["status"], response.json()["attempts"]) == (stored.status, stored.attempts)
        assert (stored.status, stored.attempts) == ("pending", 2)
    elif write_state(response) == "not_applied":
        assert (stored.status, stored.attempts) == ("failed", 1)
    else:
        assert stored.attempts in (1, 2)


def _retry_delivery(case: Case):
    hook_id, event_id = case.ids
    return case.client.post(f"/v1/hooks/{hook_id}/deliveries/dlv_{event_id[4:]}/retry")


@dataclass
class Scenario:
    name: str
    events: int
    act: Callable
    ok: tuple[int, ...]
    check: Callable
    needs_clock: bool = False
    setup: Callable | None = None


def _fail_it(case: Case, settings) -> None:
    settings.MAX_ATTEMPTS = 0
    event_claim(tenant_id=case.tenant, limit=1)
    settings.MAX_ATTEMPTS = 5


def _lease_it(case: Case, settings) -> None:
    event_claim(tenant_id=case.tenant, limit=1, lease_seconds=300)


def _cold_key(case: Case, settings) -> None:
    cache.clear()


def _post(path: str, body, **headers) -> Callable:
    return lambda c: c.client.post(path, body, format="json", **headers)


def _post_ids(path: str) -> Callable:
    return lambda c: c.client.post(path, {"ids": c.ids}, format="json")


SCENARIOS = [
    Scenario("create", 0, _post("/v1/events", {"n": 1}), (201,), check_create),
    Scenario("create+key", 0, _post("/v1/events", {"n": 1}, HTTP_IDEMPOTENCY_KEY="k"), (201,), check_create_idempotent),
    Scenario("batch", 0, _post("/v1/events/batch", {"events": BATCH}), (201,), check_batch),
    Scenario(
        "batch+key",
        0,
        _post("/v1/events/batch", {"events": BATCH}, HTTP_IDEMPOTENCY_KEY="b"),
        (201,),
        check_batch_idempotent,
        needs_clock=True,
    ),
    Scenario("ack", 1, lambda c: c.client.post(f"/v1/events/{c.ids[0]}/ack"), (200,), check_ack),
    Scenario(
        "ack many", 3, lambda c: c.client.post("/v1/events/ack", {"ids": c.ids}, format="json"), (200,), check_ack
    ),
    Scenario("delete", 1, lambda c: c.client.delete(f"/v1/events/{c.ids[0]}"), (204,), check_delete),
    Scenario(
        "release", 1, lambda c: c.client.post(f"/v1/events/{c.ids[0]}/release"), (200,), check_release, setup=_lease_it
    ),
    Scenario("retry", 1, lambda c: c.client.post(f"/v1/events/{c.ids[0]}/retry"), (200,), check_retry, setup=_fail_it),
    Scenario("claim", 3, _post("/v1/events/claim", {"limit": 3}), (200,), check_claim, needs_clock=True),
    Scenario("hook create", 0, _post("/v1/hooks", {"target_url": HOOK_TARGET}), (201,), check_hook_create),
    Scenario(
        "hook update",
        0,
        lambda c: c.client.patch(f"/v1/hooks/{c.ids[0]}", {"description": "new"}, format="json"),
        (200,),
        check_hook_update,
        setup=_make_hook,
    ),
    Scenario(
        "hook delete",
        0,
        lambda c: c.client.delete(f"/v1/hooks/{c.ids[0]}"),
        (204,),
        check_hook_delete,
        setup=_make_hook,
    ),
    Scenario("delivery retry", 0, _retry_delivery, (200,), check_delivery_retry, setup=_failed_delivery),
    Scenario("auth (cold key)", 1, lambda c: c.client.get("/v1/events"), (200,), lambda c, r: None, setup=_cold_key),
]
