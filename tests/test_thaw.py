"""Safe to thaw (triggerapi/thaw.py): a SnapStart snapshot taken and restored twice in this
process, as Lambda's runtime does it, from the hooks in `snapshot_restore_py`'s registry: the
before-snapshot hooks, then the after-restore hooks once per restored instance. The second
instance first gets back what the snapshot holds of the state the hooks make right (`Memory`),
since a real copy resumes from the snapshot, not from the first copy's memory."""

import json
import random
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import ulid
from rest_framework.test import APIClient
from snapshot_restore_py import get_after_restore, get_before_snapshot

import activity.deliveries  # noqa: F401  (registers its hooks, as importing it on Lambda does)
from devstack.processes import ROOT
from events import ids
from events.ids import EVENT_PREFIX, created_at_of, new_event_ids
from events.models import Event
from events.services import common
from hooks import fanout, handler
from hooks.ids import new_hook_id
from limits.buckets import BUCKETS
from limits.gcra import Shape
from limits.models import LIMITS_KEY, TenantLimits
from limits.selectors import tenant_limits
from tenants.services import api_key_revoke
from tests.store_hooks import store_calls
from triggerapi import store, writes
from triggerapi.store import now_ms

SNAPSHOT_AT = datetime.fromisoformat("2026-11-22 12:00:00+00:00")


@dataclass(frozen=True)
class Memory:
    """What the snapshot holds of the state the hooks make right. `ulid`: python-ulid's
    generator's last millisecond and bits, which `ULID()` continues from."""

    random: tuple
    last_event_id: int
    ulid: tuple[int, bytes]


def snapshot() -> Memory:
    """The runtime's before-snapshot hooks (last registered first), then the snapshot."""
    for hook, args, kwargs in reversed(get_before_snapshot()):
        hook(*args, **kwargs)
    policy = ulid.default_generator.policy
    return Memory(random.getstate(), ids._last, (policy.prev_timestamp, policy.prev_randomness))


def restore(memory: Memory | None = None) -> None:
    """An instance resumed from the snapshot (with `memory`, one that is not this process's
    first): the runtime's after-restore hooks (first registered first)."""
    if memory is not None:
        random.setstate(memory.random)
        ids._last = memory.last_event_id
        policy = ulid.default_generator.policy
        policy.prev_timestamp, policy.prev_randomness = memory.ulid
    for hook, args, kwargs in get_after_restore():
        hook(*args, **kwargs)


def test_each_restored_copy_draws_its_own_random_numbers_not_the_snapshots():
    memory = snapshot()
    restore()
    first = [random.random() for _ in range(3)]
    restore(memory)
    second = [random.random() for _ in range(3)]

    cloned = random.Random()
    cloned.setstate(memory.random)
    assert first != second
    assert [cloned.random() for _ in range(3)] not in (first, second)


def test_event_ids_differ_between_copies_whose_clocks_are_behind_the_snapshots(time_machine):
    time_machine.move_to(SNAPSHOT_AT, tick=False)
    new_event_ids(3)
    memory = snapshot()
    time_machine.move_to(SNAPSHOT_AT - timedelta(seconds=1), tick=False)

    restore()
    first = new_event_ids(3)
    restore(memory)
    second = new_event_ids(3)

    continued = [EVENT_PREFIX + str(ulid.ULID.from_int(memory.last_event_id + n)) for n in (1, 2, 3)]
    assert set(first) & set(second) == set()
    assert set(continued) & set(first + second) == set()
    assert {created_at_of(event_id) for event_id in first + second} == {now_ms()}


def test_hook_ids_differ_between_copies_restored_in_the_snapshots_millisecond(time_machine):
    time_machine.move_to(SNAPSHOT_AT, tick=False)
    new_hook_id()
    memory = snapshot()

    restore()
    first = new_hook_id()
    restore(memory)
    second = new_hook_id()

    assert first != second


def test_each_restore_drops_the_store_connections_and_the_next_requests_are_served(acme, create_event):
    """A connection pool made before the snapshot (moto answers in process, so none is opened
    by the requests: one is put there) is gone after each restore; the clients stay."""
    event_id = create_event(acme)
    read = acme.get(f"/v1/events/{event_id}")
    client = store.client(Event)
    pools = client._endpoint.http_session._manager.pools
    memory = snapshot()

    for copy in (None, memory):
        client._endpoint.http_session._manager.connection_from_url("http://store.invalid:8000")
        assert len(pools) == 1
        restore(copy)
        assert len(pools) == 0 and store.client(Event) is client
        again = acme.get(f"/v1/events/{event_id}")
        batch = acme.post("/v1/events/batch", {"events": [{"n": 1}, {"n": 2}]}, format="json")
        assert (again.status_code, again.json()) == (200, read.json())
        assert batch.status_code == 201 and [e["status"] for e in batch.json()["events"]] == ["undelivered"] * 2


def test_a_key_revoked_after_the_snapshot_is_refused_by_each_restored_copy(issue_key):
    key = issue_key("acme")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/v1/events").status_code == 200
    memory = snapshot()
    # From an operator's machine: this process's cache still holds the key as active.
    api_key_revoke(key_or_prefix=key)
    assert client.get("/v1/events").status_code == 200

    for copy in (None, memory):
        restore(copy)
        response = client.get("/v1/events")
        assert (response.status_code, response["WWW-Authenticate"]) == (401, "Bearer")
        assert response.json()["error"]["code"] == "authentication_failed"


def test_limits_set_after_the_snapshot_apply_in_each_restored_copy():
    before = tenant_limits(tenant_id="acme")
    memory = snapshot()
    # `set_limits` from an operator's machine: this process's copy is the old one.
    writes.update(TenantLimits, "acme", LIMITS_KEY, actions=[TenantLimits.rate.set(7)], condition=None, token=None)
    assert tenant_limits(tenant_id="acme") == before

    for copy in (None, memory):
        restore(copy)
        assert tenant_limits(tenant_id="acme").rate == 7


def test_rate_tokens_granted_before_the_snapshot_are_not_spent_by_a_restored_copy(time_machine):
    time_machine.move_to(SNAPSHOT_AT, tick=False)
    shape = Shape(rate=500, burst=1000)
    for _ in range(100):
        BUCKETS.take("thaw", shape)  # the last grant holds tokens still unspent
    with store_calls(apart=True) as held:
        BUCKETS.take("thaw", shape)
    memory = snapshot()

    granted = []
    for copy in (None, memory):
        restore(copy)
        with store_calls(apart=True) as calls:
            BUCKETS.take("thaw", shape)
        granted.append(dict(calls))

    assert dict(held) == {}
    # A grant of its own, from the store; it has seen no shard, so takes the busy one for idle first.
    assert granted == [{"UpdateItem": 2}, {"UpdateItem": 2}]


def test_no_pool_thread_is_in_the_snapshot_and_the_pools_work_after_each_restore():
    pools = [common._pool, fanout._pool, handler.ACTIVITY]
    threads = [pool.submit(threading.current_thread).result() for pool in pools]
    memory = snapshot()

    assert [thread.is_alive() for thread in threads] == [False, False, False]
    for copy in (None, memory):
        restore(copy)
        new = [pool.submit(threading.current_thread).result() for pool in pools]
        assert all(thread.is_alive() for thread in new) and set(new).isdisjoint(threads)


# What Zappa's handler does on a cold start for `app_function` beside `django_settings`
# (zappa/handler.py: the settings module named, the app's module imported), then what the
# first request does (the URLconf, and with it every view's module): the hooks the runtime
# then holds. With `missing`, where snapshot_restore_py is absent.
LOAD = """
import importlib, json, os, sys
if missing:
    sys.modules["snapshot_restore_py"] = None
os.environ["DJANGO_SETTINGS_MODULE"] = "triggerapi.settings"
importlib.import_module("triggerapi.lambda_app")
from django.urls import get_resolver
get_resolver().url_patterns
from events.services import common
assert common._pool.submit(sum, [1, 2]).result() == 3
if missing:
    print(json.dumps(None))
else:
    from snapshot_restore_py import get_after_restore, get_before_snapshot
    def name(hook):
        owner = getattr(hook, "__self__", None)
        if owner is None:
            return f"{hook.__module__}.{hook.__qualname__}"
        home = owner if hasattr(owner, "__qualname__") else type(owner)
        return f"{home.__module__}.{home.__qualname__}.{hook.__name__}"
    registries = (get_before_snapshot(), get_after_restore())
    print(json.dumps([sorted(name(hook) for hook, *_ in registry) for registry in registries]))
"""


def load_like_zappa(*, missing: bool):
    env = {"PATH": "/usr/bin:/bin", "SECRET_KEY": "x", "AWS_REGION": "us-east-1"}
    env["AWS_LAMBDA_FUNCTION_NAME"] = "triggerapi-prod"
    code = f"missing = {missing!r}\n" + LOAD
    run = [sys.executable, "-c", code]
    result = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_zappas_django_set_up_and_first_request_register_every_hook():
    before, after = load_like_zappa(missing=False)

    assert before == [
        "activity.deliveries.flush",
        "triggerapi.metrics.flush",
        "triggerapi.thaw.Pool.renew",
        "triggerapi.thaw.Pool.renew",
    ]
    assert after == [
        "activity.deliveries.Notes.take",
        "events.ids.sequence_restart",
        "hooks.vault._current.cache_clear",
        "hooks.vault._keys.cache_clear",
        "limits.buckets.SharedBuckets.forget",
        "triggerapi.thaw.caches_clear",
        "triggerapi.thaw.random_reseed",
        "triggerapi.thaw.store_reconnect",
    ]


def test_the_app_loads_and_its_pools_work_where_snapshot_restore_py_is_absent():
    assert load_like_zappa(missing=True) is None
