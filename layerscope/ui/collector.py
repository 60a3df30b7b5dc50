"""Python's full garbage collections happen between keys, not during them.

Textual makes many short-lived objects per frame, and every so often Python's
collector walks every live object (~50k once the app has run a while): such
a full pass took 11–18 ms and fell on about one key in ten (measured on the
500k-entry image during ``benchmarks/ui.py``); the slowest keys were the ones
it landed on. While the app runs, the full pass is never started by an
allocation: ``tick`` starts it once no key has come for ``QUIET`` seconds and
one would have been due. The young generations are still collected as usual
(well under a millisecond each), so a long burst of keys cannot grow the heap
without bound, and garbage without cycles is freed at once either way.
"""

from __future__ import annotations

import gc
import time

QUIET = 0.5  # seconds without a key before a due full collection runs
NEVER = 1 << 30  # a gen-2 threshold no count reaches


class IdleCollector:
    """Hold back full collections while keys come in; run them when they stop."""

    def __init__(self) -> None:
        self._saved: tuple[int, int, int] | None = None
        self._last_key = 0.0

    def start(self) -> None:
        if self._saved is None:
            self._saved = gc.get_threshold()
            gc.set_threshold(self._saved[0], self._saved[1], NEVER)

    def stop(self) -> None:
        """Give the collector its own thresholds back (the app may run inside a longer process)."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def key(self) -> None:
        self._last_key = time.monotonic()

    def tick(self) -> None:
        """Called a few times a second: a due full collection runs once the keys stopped."""
        if self._saved is None or time.monotonic() - self._last_key < QUIET:
            return
        if gc.isenabled() and gc.get_count()[2] >= self._saved[2]:
            gc.collect()
