"""This process's cache: Django's LocMemCache (its expiry, its LRU, its lock), holding the
values themselves rather than pickles of them.

LocMemCache pickles a value when it is set and unpickles it at every read, so that no
caller can change what the next one reads. What we cache cannot be changed: an API key's
`Principal` and a tenant's `Limits` are frozen dataclasses (of strings, numbers and a
frozenset). A warm request reads both, and the two round trips through pickle, with the
key checked character by character for memcached's sake, were about 2 % of its CPU.
Only for immutable values: `set` refuses anything else."""

from dataclasses import fields, is_dataclass

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache

_IMMUTABLE = (str, bytes, int, float, bool, type(None), frozenset, tuple)


def _immutable(value) -> bool:
    if is_dataclass(value) and not isinstance(value, type):
        return value.__dataclass_params__.frozen and all(_immutable(getattr(value, f.name)) for f in fields(value))
    if isinstance(value, (frozenset, tuple)):
        return all(_immutable(item) for item in value)
    return isinstance(value, _IMMUTABLE)


def _checked(value):
    if not _immutable(value):
        raise TypeError(f"ObjectCache keeps immutable values only, not {type(value).__name__}")
    return value


class ObjectCache(LocMemCache):
    def get(self, key, default=None, version=None):
        key = self.make_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                return default
            value = self._cache[key]
            self._cache.move_to_end(key, last=False)
        return value

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_key(key, version=version)
        with self._lock:
            self._set(key, _checked(value), timeout)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_key(key, version=version)
        with self._lock:
            if not self._has_expired(key):
                return False
            self._set(key, _checked(value), timeout)
            return True

    def incr(self, key, delta=1, version=None):
        raise NotImplementedError("nothing counts in this cache")
