"""How much the property-based tests ran (cases, steps), printed at the end of the pytest run
by tests/conftest.py: a fuzzer that ran a tenth of what it should is a weaker test, and the
numbers say so."""

import functools
from collections import Counter

counts: Counter = Counter()


def count(name: str, n: int = 1) -> None:
    counts[name] += n


def lines() -> list[str]:
    return [f"{name}: {n}" for name, n in sorted(counts.items())]


def counted(name: str):
    """Counts each call of the decorated function under `name` and `name: function`."""

    def decorator(function):
        @functools.wraps(function)
        def counting(*args, **kwargs):
            count(name)
            count(f"{name}: {function.__name__}")
            return function(*args, **kwargs)

        return counting

    return decorator
