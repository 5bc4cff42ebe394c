"""A tenant's own limits: kept in the store, defaults from settings, set_limits, and a change
seen by every process within LIMITS_CACHE_SECONDS (moved clock, no sleeps)."""

import datetime

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import CommandError, call_command

from limits.selectors import Limits, tenant_limits
from limits.services import tenant_limits_set

DEFAULTS = Limits(rate=100, burst=200, waiting_claims=10, deliveries_per_second=50)


def test_a_tenant_without_its_own_limits_gets_the_settings_defaults(settings):
    settings.TENANT_RATE_LIMIT = 9

    assert tenant_limits(tenant_id="quiet") == Limits(rate=9, burst=200, waiting_claims=10, deliveries_per_second=50)


def test_own_values_replace_the_defaults_they_name_and_reset_goes_back():
    assert tenant_limits_set(tenant_id="acme", changes={"rate": 5, "burst": 6}) == Limits(5, 6, 10, 50)
    assert tenant_limits_set(tenant_id="acme", changes={"waiting_claims": 2}) == Limits(5, 6, 2, 50)
    assert tenant_limits_set(tenant_id="acme", changes={}, reset=True) == DEFAULTS
    assert tenant_limits(tenant_id="globex") == DEFAULTS


def test_another_process_sees_a_change_within_the_cache_time(settings):
    assert tenant_limits(tenant_id="acme") == DEFAULTS  # this process now holds the defaults
    start = datetime.datetime.now(datetime.UTC)
    with time_machine.travel(start, tick=False) as clock:
        tenant_limits_set(tenant_id="acme", changes={"rate": 3})
        # Another process: its copy is the one cached before the change.
        cache.set("limits:acme", DEFAULTS, settings.LIMITS_CACHE_SECONDS)
        assert tenant_limits(tenant_id="acme").rate == 100
        clock.shift(settings.LIMITS_CACHE_SECONDS + 1)
        assert tenant_limits(tenant_id="acme").rate == 3
    assert settings.LIMITS_CACHE_SECONDS <= 60


@pytest.mark.parametrize("changes", [{"rate": 0}, {"burst": -1}, {"waiting_claims": 10_001}])
def test_a_limit_out_of_range_is_refused_naming_it(changes):
    with pytest.raises(Exception) as refused:
        tenant_limits_set(tenant_id="acme", changes=changes)

    assert list(changes) == list(refused.value.detail)


def test_set_limits_prints_what_applies_and_where_it_comes_from(capsys):
    call_command("set_limits", "acme", "--rate", "20", "--waiting-claims", "3")
    printed = capsys.readouterr().out.splitlines()

    assert printed == [
        "Limits of acme:",
        "  rate                         20  (set for this tenant)",
        "  burst                       200  (default)",
        "  waiting_claims                3  (set for this tenant)",
        "  deliveries_per_second        50  (default)",
    ]


def test_set_limits_refuses_a_bad_value_in_one_line():
    with pytest.raises(CommandError, match="^rate must be 1 to 100000.$"):
        call_command("set_limits", "acme", "--rate", "0")
