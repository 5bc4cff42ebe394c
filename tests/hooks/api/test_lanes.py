"""Lanes (hooks/lanes.py): the hooks with work in the ready index, oldest first, never lost
to a notice that lands while the dispatcher looks; attempts in flight to a hook capped by
one conditional write, a dead holder's place dropped once its time is up."""

import pytest

from hooks.lanes import (
    LANE_KEY,
    Lane,
    in_flight_release,
    in_flight_take,
    lane_notify,
    lane_requeue,
    lane_set_aside,
    lanes_ready,
    ready_shard_for,
)

NOW = 1_800_000_000_000


def lane_get(*, tenant_id: str, hook_id: str) -> Lane:
    return Lane.get(Lane.key_for(tenant_id, hook_id), LANE_KEY, consistent_read=True)


def shard_of(tenant_id: str, hook_id: str) -> int:
    return int(ready_shard_for(tenant_id, hook_id).removeprefix("ready#"))


def ready(tenant_id: str = "acme", hook_id: str = "hook_a", now: int = NOW) -> list[tuple[str, str]]:
    return [(r.tenant_id, r.hook_id) for r in lanes_ready(shard=shard_of(tenant_id, hook_id), now_ms=now)]


def test_a_lane_is_ready_from_the_time_its_delivery_is_due_and_not_before():
    lane_notify(tenant_id="acme", hook_id="hook_a", due_ms=NOW + 5_000)

    assert ready(now=NOW + 4_999) == []
    assert ready(now=NOW + 5_000) == [("acme", "hook_a")]


def test_an_earlier_notice_moves_the_lane_forward_and_a_later_one_leaves_it():
    lane_notify(tenant_id="acme", hook_id="hook_a", due_ms=NOW + 5_000)
    lane_notify(tenant_id="acme", hook_id="hook_a", due_ms=NOW)
    lane_notify(tenant_id="acme", hook_id="hook_a", due_ms=NOW + 60_000)

    assert ready(now=NOW) == [("acme", "hook_a")]
    assert lane_get(tenant_id="acme", hook_id="hook_a").version == 3


def test_the_index_tells_the_version_a_lane_had():
    lane_notify(tenant_id="acme", hook_id="hook_a", due_ms=NOW)
    lane_notify(tenant_id="acme", hook_id="hook_a", due_ms=NOW)

    [found] = lanes_ready(shard=shard_of("acme", "hook_a"), now_ms=NOW)

    assert found.version == 2


def test_a_full_lane_says_when_its_first_place_is_free_at_the_latest():
    in_flight_take(tenant_id="acme", hook_id="hook_a", attempt_ids=["a"], until_ms=NOW + 7_000, cap=2, now_ms=NOW)
    in_flight_take(tenant_id="acme", hook_id="hook_a", attempt_ids=["b"], until_ms=NOW + 9_000, cap=2, now_ms=NOW)

    places = in_flight_take(
        tenant_id="acme", hook_id="hook_a", attempt_ids=["c"], until_ms=NOW + 20_000, cap=2, now_ms=NOW
    )

    assert (places.taken, places.first_free_ms) == ([], NOW + 7_000)


def test_a_lane_served_goes_behind_the_lanes_that_waited_longer():
    hooks = [f"hook_{n}" for n in range(40)]
    crowded = [h for h in hooks if shard_of("acme", h) == shard_of("acme", hooks[0])]
    assert len(crowded) >= 2, "two hooks in one shard"
    first, second = crowded[:2]
    lane_notify(tenant_id="acme", hook_id=first, due_ms=NOW)
    lane_notify(tenant_id="acme", hook_id=second, due_ms=NOW + 1)
    served = lane_get(tenant_id="acme", hook_id=first)

    assert lane_requeue(tenant_id="acme", hook_id=first, version=served.version, next_due_ms=NOW + 2)

    assert [h for _, h in ready("acme", first, now=NOW + 2)][:2] == [second, first]


def test_a_lane_with_nothing_pending_leaves_the_index():
    lane_notify(tenant_id="acme", hook_id="hook_a", due_ms=NOW)
    seen = lane_get(tenant_id="acme", hook_id="hook_a")

    assert lane_requeue(tenant_id="acme", hook_id="hook_a", version=seen.version, next_due_ms=None)

    assert ready(now=NOW + 10**9) == []


def test_a_notice_that_lands_while_the_dispatcher_looks_keeps_the_lane_ready():
    lane_notify(tenant_id="acme", hook_id="hook_a", due_ms=NOW)
    seen = lane_get(tenant_id="acme", hook_id="hook_a")
    lane_notify(tenant_id="acme", hook_id="hook_a", due_ms=NOW)  # a new delivery, same time

    assert not lane_requeue(tenant_id="acme", hook_id="hook_a", version=seen.version, next_due_ms=None)

    assert ready(now=NOW) == [("acme", "hook_a")]


def test_lanes_of_other_shards_and_tenants_are_not_read():
    lane_notify(tenant_id="globex", hook_id="hook_a", due_ms=NOW)
    other_shard = next(
        h for h in (f"hook_{n}" for n in range(40)) if shard_of("acme", h) != shard_of("globex", "hook_a")
    )
    lane_notify(tenant_id="acme", hook_id=other_shard, due_ms=NOW)

    assert ready("globex", "hook_a") == [("globex", "hook_a")]


def take(*attempt_ids: str, cap: int = 2, until: int = NOW + 20_000, now: int = NOW) -> list[str]:
    return in_flight_take(
        tenant_id="acme", hook_id="hook_a", attempt_ids=list(attempt_ids), until_ms=until, cap=cap, now_ms=now
    ).taken


@pytest.mark.parametrize("noticed", [True, False], ids=["lane made by a notice", "no lane yet"])
def test_at_most_cap_attempts_are_in_flight_and_an_ended_one_frees_its_place(noticed):
    if noticed:
        lane_notify(tenant_id="acme", hook_id="hook_a", due_ms=NOW)

    assert [take("a1"), take("a2"), take("a3")] == [["a1"], ["a2"], []]
    in_flight_release(tenant_id="acme", hook_id="hook_a", attempt_ids=["a1"], now_ms=NOW)
    assert take("a3") == ["a3"]
    assert set(lane_get(tenant_id="acme", hook_id="hook_a").holders.as_dict()) == {"a2", "a3"}


def test_a_lane_set_aside_for_want_of_a_place_is_woken_when_one_is_given_back():
    lane_notify(tenant_id="acme", hook_id="hook_a", due_ms=NOW)
    take("a1", "a2")
    seen = lane_get(tenant_id="acme", hook_id="hook_a")
    assert lane_set_aside(tenant_id="acme", hook_id="hook_a", version=seen.version, until_ms=NOW + 20_000)
    assert ready(now=NOW + 19_999) == []

    in_flight_release(tenant_id="acme", hook_id="hook_a", attempt_ids=["a1"], now_ms=NOW + 5)

    assert ready(now=NOW + 5) == [("acme", "hook_a")]


def test_several_places_are_taken_at_once_as_far_as_the_cap_allows():
    assert take("a1", "a2", "a3", cap=4) == ["a1", "a2", "a3"]

    assert take("b1", "b2", "b3", cap=4) == ["b1"]
    assert take("c1", cap=4) == []


def test_a_dead_holders_place_is_dropped_once_its_time_is_up():
    assert take("dead", until=NOW + 1_000) and take("alive", until=NOW + 20_000)

    assert take("new", now=NOW + 999) == []
    assert take("new", now=NOW + 1_000) == ["new"]
    assert set(lane_get(tenant_id="acme", hook_id="hook_a").holders.as_dict()) == {"alive", "new"}


def test_a_take_whose_answer_was_lost_recognises_its_own_place():
    assert take("a1", cap=1) == ["a1"]

    assert take("a1", cap=1) == ["a1"]  # the same write again: its place is there
    assert take("a2", cap=1) == []


def test_places_do_not_disturb_the_lanes_readiness():
    lane_notify(tenant_id="acme", hook_id="hook_a", due_ms=NOW)
    version = lane_get(tenant_id="acme", hook_id="hook_a").version
    take("a1")
    in_flight_release(tenant_id="acme", hook_id="hook_a", attempt_ids=["a1"], now_ms=NOW)

    assert ready(now=NOW) == [("acme", "hook_a")]
    assert lane_get(tenant_id="acme", hook_id="hook_a").version == version
