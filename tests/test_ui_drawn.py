"""``Drawn``: a Rich table drawn once per width, then replayed, unchanged."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table

from layerscope.ui.drawn import Drawn


class Counted:
    """A table that counts how often it is drawn."""

    def __init__(self) -> None:
        self.draws = 0
        self.table = Table("Key", "Action", title="keys")
        for i in range(12):
            self.table.add_row(f"k{i}", "an action with a long description " * (i % 3 + 1))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        self.draws += 1
        yield self.table


def _text(console: Console, renderable: object, width: int) -> str:
    with console.capture() as cap:
        console.print(renderable, width=width)
    return cap.get()


def test_drawn_once_per_width_and_the_same_text() -> None:
    console = Console(width=200, color_system="truecolor", force_terminal=True)
    inner = Counted()
    drawn = Drawn(inner)
    first = _text(console, drawn, 60)
    assert _text(console, drawn, 60) == first and inner.draws == 1
    assert _text(console, inner.table, 60) == first  # what the table itself draws, styles included
    narrow = _text(console, drawn, 40)
    assert inner.draws == 2 and narrow != first
    assert _text(console, drawn, 40) == narrow and inner.draws == 2
