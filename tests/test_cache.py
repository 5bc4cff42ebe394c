"""The process's cache holds the values themselves (triggerapi/cache.py): the object set is
the object read, until it expires; only immutable values go in."""

from dataclasses import dataclass

import pytest
from django.core.cache import cache, caches

from limits.selectors import Limits
from tenants.keys import Principal
from triggerapi.cache import ObjectCache


@dataclass(frozen=True)
class Frozen:
    name: str
    tags: frozenset


@dataclass
class Thawed:
    name: str


def principal() -> Principal:
    return Principal(tenant_id="acme", scopes=frozenset({"ingest"}), key_prefix="tk_x", key_hash="h", last_used_at=None)


def test_the_project_cache_is_an_object_cache():
    assert isinstance(caches["default"], ObjectCache)


def test_a_value_read_is_the_value_set():
    value = principal()
    cache.set("k", value, 60)
    assert cache.get("k") is value
    assert cache.get("missing", "default") == "default"


def test_a_value_expires_with_its_timeout(monkeypatch):
    cache.set("k", principal(), 60)
    now = __import__("time").time()
    monkeypatch.setattr("django.core.cache.backends.locmem.time.time", lambda: now + 61)
    assert cache.get("k") is None
    assert cache.add("k", "again", 60)


def test_add_keeps_what_is_there():
    assert cache.add("k", "first", 60)
    assert not cache.add("k", "second", 60)
    assert cache.get("k") == "first"


def test_what_the_project_caches_goes_in():
    cache.set("p", principal(), 60)
    cache.set("l", Limits.defaults(), 60)
    cache.set("f", Frozen("x", frozenset({1, 2})), 60)
    cache.set("s", "unknown", 60)


@pytest.mark.parametrize("value", [{"a": 1}, [1], Thawed("x"), Frozen("x", (1, [2]))])
def test_a_value_that_could_change_is_refused(value):
    with pytest.raises(TypeError, match="immutable"):
        cache.set("k", value, 60)
    with pytest.raises(TypeError, match="immutable"):
        cache.add("k", value, 60)
    assert cache.get("k") is None


def test_delete_and_clear():
    cache.set("a", "1", 60)
    cache.set("b", "2", 60)
    cache.delete("a")
    assert cache.get("a") is None
    cache.clear()
    assert cache.get("b") is None
