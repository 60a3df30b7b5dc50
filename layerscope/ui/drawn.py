"""Rich renderables drawn once per width.

Textual draws a widget's content again on every refresh of its screen: a
focus change, a popped screen (Textual re-lays out the screen below), a
resize. A Rich ``Table`` costs 2–9 ms a draw (the help table 9 ms, the image
details 8 ms, measured), several times per key. Wrapped in ``Drawn``, a
table is drawn once for each width it is asked for and then replayed.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment


class Drawn:
    """``renderable``, its lines kept per (width, height, justify, overflow, no_wrap)."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable
        self._lines: dict[tuple[object, ...], list[list[Segment]]] = {}

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        key = (options.max_width, options.height, options.justify, options.overflow, options.no_wrap)
        lines = self._lines.get(key)
        if lines is None:
            lines = console.render_lines(self.renderable, options, pad=False)
            self._lines[key] = lines
        new_line = Segment.line()
        for line in lines:
            yield from line
            yield new_line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.renderable)
