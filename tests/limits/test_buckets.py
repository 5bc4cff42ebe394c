"""Shared token buckets (limits/buckets.py) on moto's in-process store, on a stopped clock
that the tests move: grants of several tokens in one write, partial grants, refusals that
cost no store call and say when to come back, shards, leases, and the store's faults."""

import logging
from contextlib import contextmanager

import pytest
from botocore import exceptions as boto

from limits.buckets import FAIL_OPEN_SECONDS, SharedBuckets, now_us
from limits.gcra import Shape
from limits.grants import grant_take
from limits.models import BUCKET_KEY, Bucket
from tests.store_hooks import hooked, store_failing
from triggerapi.context import is_limiter_call

START = "2026-11-22 12:00:00+00:00"


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


@contextmanager
def limiter_writes():
    """The limiter's store calls, by operation name."""
    calls: list[str] = []

    def count(model, **kwargs):
        if is_limiter_call():
            calls.append(model.name)

    with hooked("before-call.dynamodb", count):
        yield calls


def take(buckets: SharedBuckets, shape: Shape, times: int, name: str = "b") -> list:
    return [buckets.take(name, shape) for _ in range(times)]


def stored_tats(name: str = "b") -> dict[int, int]:
    return {int(item.pk.rsplit("#", 1)[1]): item.tat for item in Bucket.scan() if item.pk.startswith(f"bucket#{name}#")}


def test_the_shape_of_a_bucket_in_time():
    shape = Shape(rate=20, burst=20)

    assert (shape.shards, shape.interval, shape.tau) == (1, 50_000, 1_000_000)
    assert shape.available(None, 0) == shape.available(-5, 0) == 20
    assert shape.available(400_000, 0) == 12  # 0.4 s of debt: 8 tokens gone
    assert shape.ready_at(400_000, 15) == 150_000  # 3 more tokens: 0.15 s
    assert shape.cost(3) == 150_000


@pytest.mark.parametrize(
    "rate, burst, shards",
    [(20, 20, 1), (500, 1000, 1), (501, 1000, 2), (2000, 2000, 4), (100_000, 10, 5), (100_000, 1_000_000, 64)],
)
def test_a_bucket_has_a_shard_per_500_tokens_a_second_each_holding_two_or_more(rate, burst, shards):
    assert Shape(rate, burst).shards == shards


def test_tokens_come_in_grants_that_grow_with_the_demand_one_write_each():
    buckets, shape = SharedBuckets(), Shape(rate=500, burst=1000)

    with limiter_writes() as writes:
        answers = take(buckets, shape, 100)

    assert all(answer.allowed for answer in answers)
    # 1, 2, 4, ... tokens: a process that has seen no demand takes one.
    assert writes == ["UpdateItem"] * 7
    assert stored_tats() == {0: now_us() + 127 * shape.interval}  # 127 taken, 27 still held here


def test_past_its_burst_a_bucket_refuses_and_says_when_a_retry_would_be_taken(clock):
    buckets, shape = SharedBuckets(), Shape(rate=10, burst=5)

    answers = take(buckets, shape, 6)

    assert [answer.allowed for answer in answers] == [True] * 5 + [False]
    refused = answers[-1]
    # A grant is at most half the burst (2 tokens): they are back 0.2 s from now.
    assert (refused.retry_after, refused.remaining) == (0.2, 0)
    clock.shift(0.19)
    assert not buckets.take("b", shape).allowed
    clock.shift(0.01)
    assert buckets.take("b", shape).allowed


def test_a_refused_process_asks_the_store_nothing_until_its_retry_time(clock):
    buckets, shape = SharedBuckets(), Shape(rate=10, burst=5)
    take(buckets, shape, 6)

    with limiter_writes() as writes:
        answers = take(buckets, shape, 50)

    assert writes == [] and not any(answer.allowed for answer in answers)


def test_processes_draw_on_one_bucket_none_gets_one_of_its_own():
    one, other, shape = SharedBuckets(), SharedBuckets(), Shape(rate=10, burst=30)

    allowed = 0
    for _ in range(100):
        allowed += one.take("b", shape).allowed + other.take("b", shape).allowed

    assert allowed == 30


def test_a_grant_takes_what_is_left_when_less_than_it_asks_for():
    shape, key = Shape(rate=10, burst=10), Bucket.key_for("b", 0)
    now = now_us()
    grant_take(key=key, shape=shape, tokens=7, now=now, idle=True)

    with limiter_writes() as writes:
        grant = grant_take(key=key, shape=shape, tokens=5, now=now, idle=False)

    assert (grant.tokens, grant.tat, writes) == (3, now + 10 * shape.interval, ["UpdateItem", "UpdateItem"])
    assert grant_take(key=key, shape=shape, tokens=1, now=now, idle=False).tokens == 0


def test_a_wrong_guess_of_the_shards_state_costs_one_more_write():
    shape, key = Shape(rate=10, burst=10), Bucket.key_for("b", 0)
    now = now_us()

    with limiter_writes() as writes:
        busy_guess = grant_take(key=key, shape=shape, tokens=2, now=now, idle=False)
        idle_guess = grant_take(key=key, shape=shape, tokens=2, now=now, idle=True)

    assert (busy_guess.tokens, idle_guess.tokens, len(writes)) == (2, 2, 4)
    assert Bucket.get(key, BUCKET_KEY).tat == now + 4 * shape.interval


def test_a_high_rate_spreads_over_shards_and_three_times_it_gets_its_budget(clock):
    """2,000 a second (4 shards of 500), sent 6,000 a second for 1 s by two processes."""
    processes, shape = [SharedBuckets(), SharedBuckets()], Shape(rate=2000, burst=2000)

    allowed = 0
    for n in range(6000):
        allowed += processes[n % 2].take("b", shape).allowed
        clock.shift(1 / 6000)

    budget = 2000 * 1 + 2000
    # What is short is what the processes' last grants hold, or wait to fill, when it ends.
    assert 0.9 * budget <= allowed <= budget
    assert sorted(stored_tats()) == [0, 1, 2, 3]


def test_a_process_that_knows_no_shard_holds_a_grant_refuses_without_asking(clock):
    buckets, shape = SharedBuckets(), Shape(rate=10, burst=20)
    assert all(answer.allowed for answer in take(buckets, shape, 15))  # grants of 1, 2, 4 and 8

    with limiter_writes() as writes:
        answer = buckets.take("b", shape)

    # 5 tokens left in the store, and a grant is now 10 (16 asked for this second; half the burst).
    assert (answer.allowed, answer.retry_after, writes) == (False, 0.5, [])


def test_unspent_tokens_are_dropped_when_their_lease_ends(clock):
    buckets, shape = SharedBuckets(), Shape(rate=100, burst=100)
    take(buckets, shape, 4)  # grants of 1, 2 and 4 tokens: 3 still held

    clock.shift(2.0)  # a grant of 4 at 4 a second lasts 2 s at most
    with limiter_writes() as writes:
        buckets.take("b", shape)

    assert writes == ["UpdateItem"]


def test_a_changed_shape_starts_this_process_view_afresh():
    buckets = SharedBuckets()
    take(buckets, Shape(rate=100, burst=100), 4)

    with limiter_writes() as writes:
        answer = buckets.take("b", Shape(rate=100, burst=10))

    assert answer.allowed and writes  # a grant, not a token held from the old shape


def test_when_the_store_fails_the_bucket_lets_requests_through_for_a_second_and_says_so(clock, caplog):
    buckets, shape = SharedBuckets(), Shape(rate=1, burst=1)
    caplog.set_level(logging.WARNING, logger="limits.buckets")

    with limiter_writes() as writes, store_failing("ProvisionedThroughputExceededException", {"UpdateItem"}):
        answers = take(buckets, shape, 5)
        clock.shift(FAIL_OPEN_SECONDS)
        answers.append(buckets.take("b", shape))

    assert all(answer.allowed for answer in answers)
    assert writes == ["UpdateItem", "UpdateItem"]  # one attempt each: no retries
    assert [record.bucket for record in caplog.records] == ["b", "b"]


def test_a_store_that_does_not_answer_in_time_lets_the_request_through(settings):
    def hang(model, **kwargs):
        if is_limiter_call():
            raise boto.ReadTimeoutError(endpoint_url="http://store.invalid")

    with hooked("before-call.dynamodb", hang):
        answer = SharedBuckets().take("b", Shape(rate=1, burst=1))

    assert answer.allowed
    config = Bucket._get_connection().connection.client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (settings.LIMITER_TIMEOUT_SECONDS,) * 2


def test_a_refusal_never_asks_to_wait_longer_than_the_burst_takes_to_come_back(clock):
    """Another process's clock may run ahead of this one's and push the bucket further."""
    buckets, shape = SharedBuckets(), Shape(rate=1, burst=2)
    take(buckets, shape, 3)

    clock.shift(-3600)

    assert buckets.take("b", shape).retry_after == 2.0


def test_a_tat_seen_further_ahead_than_a_burst_is_asked_of_the_store_again(clock):
    """This clock went back, or the store lost the item (a table made again): what was
    seen no longer bounds what the bucket holds."""
    buckets, shape = SharedBuckets(), Shape(rate=1, burst=2)
    take(buckets, shape, 3)
    for item in Bucket.scan():
        item.delete()
    clock.shift(-3600)

    with limiter_writes() as writes:
        answer = buckets.take("b", shape)

    assert answer.allowed and writes  # guessed busy, found nothing, took it idle
