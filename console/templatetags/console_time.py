"""Times as a person reads them: the store keeps epoch milliseconds, the pages say when (UTC,
to the second) and how long."""

from datetime import UTC, datetime

from django import template

register = template.Library()

UNITS = (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000))


@register.filter
def when(ms: int | None) -> str:
    """`1796498189062` → `2026-12-05 19:16:29 UTC`; nothing for no time."""
    if ms in (None, ""):
        return ""
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@register.filter
def iso(ms: int | None) -> str:
    """The same instant for a `<time datetime>` attribute."""
    if ms in (None, ""):
        return ""
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC).isoformat(timespec="milliseconds")


@register.filter
def age(ms: int | None) -> str:
    """A duration in its two largest units: `850 ms`, `5.4 s`, `3 min 20 s`, `2 h 5 min`."""
    if ms in (None, ""):
        return "–"
    ms = int(ms)
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    big = next(n for n, (_, size) in enumerate(UNITS) if ms >= size)
    (unit, size), (small_unit, small_size) = UNITS[big], (*UNITS, ("s", 1000))[big + 1]
    return f"{ms // size} {unit} {(ms % size) // small_size} {small_unit}"
