"""What a stored delivery must look like in each state (the table in hooks/lifecycle.py), a
stand-in for the HTTP attempt that checks a claim is held while it runs, and the helpers
the delivery lifecycle tests share."""

from types import SimpleNamespace

from events.models import Event
from events.services import event_create
from hooks import dispatch, schedule
from hooks.attempt import AttemptResult
from hooks.attempts import attempts_of_delivery
from hooks.models import DELIVERY_STATUSES, PENDING, SUCCEEDED, Delivery, due_shard_for
from hooks.services import hook_create
from triggerapi.store import now_ms

TARGET = "https://93.184.216.34/in/"  # a public address: no DNS in the way, and never called


def problems(d: Delivery) -> list[str]:
    """What is wrong with a stored delivery, by the table in hooks/lifecycle.py."""
    found = []
    due, claim = (d.due_shard, d.due_key), (d.attempt_id, d.attempt_until)
    indexed, claimed = all(due), all(claim)
    found += ["status not allowed"] * (d.status not in DELIVERY_STATUSES)
    found += ["half of the due keys"] * (any(due) != indexed) + ["half a claim"] * (any(claim) != claimed)
    if indexed != (d.status == PENDING and d.parked_at is None):
        found.append(f"due keys {'present' if indexed else 'absent'} while {d.status}, parked_at {d.parked_at}")
    if indexed and (d.due_shard != due_shard_for(d.pk) or not d.due_key.endswith(f"#{d.pk}#{d.event_id}")):
        found.append("due keys of another delivery")
    if claimed and not indexed:
        found.append(f"a claim while {d.status}, parked_at {d.parked_at}")
    if claimed and indexed and int(d.due_key[:13]) != d.attempt_until:
        found.append("claimed, but not due when the claim runs out")
    if indexed and not claimed and int(d.due_key[:13]) != d.next_attempt_at:
        found.append("waiting, but not due at next_attempt_at")
    found += ["parked but not pending"] * (d.parked_at is not None and d.status != PENDING)
    found += ["succeeded_at does not match the status"] * ((d.status == SUCCEEDED) != (d.succeeded_at is not None))
    found += [f"next_attempt_at while {d.status}"] * (d.status != PENDING and d.next_attempt_at is not None)
    if not 0 <= d.attempts - d.schedule_base <= schedule.MAX_ATTEMPTS:
        found.append(f"attempts {d.attempts} with schedule_base {d.schedule_base}")
    found += ["succeeded with no attempt"] * (d.status == SUCCEEDED and d.attempts < 1)
    return found


def recorded(d: Delivery) -> list[int]:
    """The numbers of the delivery's attempt items (hooks/attempts.py), as the route lists them,
    each keyed by its own number."""
    found = attempts_of_delivery(tenant_id=d.tenant_id, hook_id=d.hook_id, event_id=d.event_id)
    assert [a.sk for a in found] == [f"{d.hook_id}#{a.attempt:04d}" for a in found]
    return [a.attempt for a in found]


def owed(d: Delivery) -> list[int]:
    """The attempts a delivery's items must record: every one it counts but the one in flight."""
    return list(range(1, d.attempts + (0 if d.attempt_id else 1)))


class Sender:
    """Stands in for hooks.attempt.attempt_deliver: answers `answer` at once and records
    (event id, attempt number) of each send, after checking that the attempt is one of the
    schedule's and that the delivery it makes holds a live claim."""

    def __init__(self):
        self.answer = 200
        self.sent: list[tuple[str, int]] = []
        self.pks: dict[str, str] = {}  # target url -> the hook's deliveries' pk

    def __call__(self, *, target_url: str, event_id: str, body: str, secrets, attempt: int, **_) -> AttemptResult:
        assert 1 <= attempt <= schedule.MAX_ATTEMPTS, attempt
        stored = Delivery.get(self.pks[target_url], event_id, consistent_read=True)
        assert stored.attempt_id and stored.attempt_until > now_ms(), "an attempt without a live claim"
        assert attempt == stored.attempts - stored.schedule_base
        self.sent.append((event_id, attempt))
        now = now_ms()
        decision = schedule.decide(attempt=attempt, status_code=self.answer, retry_after=None, now=now)
        return AttemptResult(self.answer, None, 0, b"", now, decision.outcome, decision.next_attempt_at)


def sender(monkeypatch) -> Sender:
    fake = Sender()
    monkeypatch.setattr(dispatch, "attempt_deliver", fake)
    return fake


def subscribe(fake: Sender, tenant_id: str, n: int = 0) -> str:
    """A hook of the tenant's whose attempts `fake` answers; its id."""
    hook = hook_create(
        tenant_id=tenant_id, target_url=f"{TARGET}{n}", event_types=[], description=None, created_by="tk_live_test"
    ).hook
    fake.pks[hook.target_url] = Delivery.pk_for(tenant_id, hook.hook_id)
    return hook.hook_id


def stream_of(tenant_id: str, count: int = 1) -> dict:
    """New events, as the stream hands them to the stream function."""
    records = []
    for n in range(count):
        event_id = event_create(tenant_id=tenant_id, payload={"n": n}).receipts[0]["id"]
        image = Event.get(tenant_id, event_id).serialize()
        records.append({"eventName": "INSERT", "dynamodb": {"NewImage": image, "SequenceNumber": str(n)}})
    return {"Records": records}


def context(remaining_ms: int) -> SimpleNamespace:
    """A Lambda context with this much time left, now and at every later ask."""
    return SimpleNamespace(get_remaining_time_in_millis=lambda: remaining_ms)


def deliveries_of(tenant_id: str, *hook_ids: str) -> list[Delivery]:
    pks = [Delivery.pk_for(tenant_id, hook_id) for hook_id in hook_ids]
    return [d for pk in pks for d in Delivery.query(pk, consistent_read=True)]


def due_entries() -> list[tuple[str, str, str]]:
    """(pk, event id, due key) of every delivery due now, whatever its hook, soonest first."""
    due = [
        (d.pk, d.event_id, d.due_key)
        for d in Delivery.scan(Delivery.due_key.exists())
        if isinstance(d, Delivery) and int(d.due_key[:13]) <= now_ms()
    ]
    return sorted(due, key=lambda entry: entry[2])
