"""What this process's attempts came to, for `run_deliveries` to report (hooks/outcomes.py
counts every outcome here as it records it)."""

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hooks.outcomes import Outcome


@dataclass
class Tally:
    """Receivers' answers apart from attempts that could not be made, which no receiver can
    fix (`run_deliveries` reports them)."""

    succeeded: int = 0
    failed: int = 0
    not_made: Counter = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, outcome: "Outcome") -> None:
        with self._lock:
            if outcome.result is None:
                self.not_made[outcome.error] += 1
            elif outcome.result.succeeded:
                self.succeeded += 1
            else:
                self.failed += 1

    def copy(self) -> "Tally":
        with self._lock:
            return Tally(self.succeeded, self.failed, Counter(self.not_made))

    def since(self, before: "Tally") -> "Tally":
        """The attempts counted here and not in `before`, an earlier copy."""
        now = self.copy()
        return Tally(now.succeeded - before.succeeded, now.failed - before.failed, now.not_made - before.not_made)


TALLY = Tally()
