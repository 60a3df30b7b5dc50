"""A one-line progress display on stderr while a registry image's layers stream in.

Headless commands print nothing until the image is read; from a registry that
can take a while, so when stderr is a terminal a single line shows the bytes
read so far per layer, redrawn at most five times a second and erased at the
end (nothing is left in the output, nothing at all when stderr is a file).
"""

from __future__ import annotations

import shutil
import threading
import time
from typing import TextIO

from .fmt import human_size
from .textsafe import safe

INTERVAL = 0.2  # seconds between redraws


class ProgressLine:
    """The core's progress callback ``(layer index, bytes read)``, drawn on one terminal line."""

    def __init__(self, out: TextIO, label: str = "reading layers") -> None:
        self._label = safe(label)
        self._out = out
        self._read: dict[int, int] = {}
        self._last = 0.0
        self._drawn = False
        self._lock = threading.Lock()

    def __call__(self, index: int, nbytes: int) -> None:
        self._read[index] = nbytes
        now = time.monotonic()
        if now - self._last < INTERVAL or not self._lock.acquire(blocking=False):
            return
        try:
            self._last = now
            self._draw()
        finally:
            self._lock.release()

    def _draw(self) -> None:
        width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)
        total = sum(self._read.values())
        parts = [f"L{i} {human_size(n)}" for i, n in sorted(self._read.items())]
        line = f"{self._label} {human_size(total)}: " + "  ".join(parts)
        if len(line) > width:
            line = line[: width - 1] + "…"
        self._out.write("\r\x1b[K" + line)
        self._out.flush()
        self._drawn = True

    def close(self) -> None:
        """Erase the line (the command's own output follows on a clean terminal)."""
        with self._lock:
            if self._drawn:
                self._out.write("\r\x1b[K")
                self._out.flush()
                self._drawn = False
