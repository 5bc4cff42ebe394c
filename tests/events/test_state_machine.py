"""Model-based test of the contract: the state machine in tests/events/two_tenants.py runs
random sequences of create (with and without Idempotency-Key), batch, get, list (walking
cursors), claim, ack, batch ack, release, retry, delete, and extend, release by lease id and
replay (tests/events/lease_rules.py), and any of them refused over the tenant's request rate
(tests/events/rate_rules.py), for two tenants, moving the clock for leases instead of
sleeping, and compares every answer with a model of the contract."""

import hypothesis
from hypothesis.stateful import run_state_machine_as_test

from devstack import moto_patches
from events import ids
from tests.events.two_tenants import MAX_ATTEMPTS, TwoTenants

# About 400 steps (the summary at the end of a run says how many): about 20 s on two shared
# cores. Long runs rather than many: events need several steps to run out of attempts.
RUNS = hypothesis.settings(
    max_examples=10,
    stateful_step_count=40,
    deadline=None,
    database=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)


def test_two_tenants_behave_like_the_model_of_the_contract(time_machine, settings, monkeypatch):
    settings.MAX_ATTEMPTS = MAX_ATTEMPTS
    monkeypatch.setattr(ids, "_last", 0)

    # The stream function writes two tenants' counts side by side: moto as the local store runs it.
    with moto_patches.applied():
        run_state_machine_as_test(lambda: TwoTenants(time_machine), settings=RUNS)
