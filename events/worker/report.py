"""What the worker tells a person: one line per batch, warnings, and a final summary table."""

import threading
import time
from dataclasses import dataclass, field
from typing import TextIO

from triggerapi.text import table


@dataclass
class TenantStats:
    name: str
    claimed: int = 0
    acked: int = 0
    released: int = 0
    failed: int = 0  # handler raised; each of these was also released
    outcome: str = "running"
    key_rejected: bool = False
    gave_up: bool = False  # --max-tries failed claims in a row
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    def rate(self) -> float:
        elapsed = (self.finished or time.monotonic()) - self.started
        return self.acked / elapsed if elapsed > 0 else 0.0


class Reporter:
    def __init__(self, out: TextIO):
        self.out = out
        self._lock = threading.Lock()

    def line(self, text: str) -> None:
        with self._lock:
            self.out.write(text + "\n")
            self.out.flush()

    def batch(self, stats: TenantStats, claimed: int, acked: int, released: int) -> None:
        self.line(
            f"{stats.name:<12} claimed {claimed:>3}  acked {acked:>3}  released {released:>3}"
            f"  | total acked {stats.acked:>6}  {stats.rate():8.1f} events/s"
        )

    def summary(self, tenants: list[TenantStats]) -> None:
        header = ("tenant", "claimed", "acked", "released", "failed", "events/s", "outcome")
        rows = [(t.name, t.claimed, t.acked, t.released, t.failed, f"{t.rate():.1f}", t.outcome) for t in tenants]
        if len(tenants) > 1:
            elapsed = max((t.finished or time.monotonic()) for t in tenants) - min(t.started for t in tenants)
            acked = sum(t.acked for t in tenants)
            totals = [sum(getattr(t, name) for t in tenants) for name in ("claimed", "acked", "released", "failed")]
            rows.append(("total", *totals, f"{acked / elapsed if elapsed > 0 else 0:.1f}", ""))
        self.line("")
        for line in table(header, rows, numeric=(1, 2, 3, 4, 5)):
            self.line(line)
