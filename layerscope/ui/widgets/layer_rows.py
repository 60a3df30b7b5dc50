"""The rows of the layer stack, laid out for the width they are given.

A row is a Rich renderable, not a fixed string: the layer stack renders it at
its current width, so the same row reads well at 80 and at 200 columns.
Columns (index, size, one per change class) are as wide as the widest value
of the image and a class no layer has takes no room, so the command gets what
is left. Every row shows its command, as dive does: what a layer *is* matters
more than its counts, so when the counts would leave the command less than
``WIDE_COMMAND`` cells (an 80- or 120-column terminal) they go (the Details
pane has them, and the highlighted row, below its command) and the command
gets their room. The highlighted layer shows
its whole command (up to ``max_lines``), wrapped below its row.

A layer ``ci`` refuses (``Image.layer_damage``) says so before its command,
in words (``DAMAGED``), or ``!`` when the pane is very narrow.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from rich.cells import cell_len, chop_cells
from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from ...fmt import human_size, short_command
from ...model import LAYER_DAMAGED, Image, Layer, LayerCounts
from ...textsafe import safe
from ..format import short_count
from ..palette import COUNT_COLUMNS, count_style

MIN_COMMAND = 10  # below this many cells a command column says nothing: show it below instead
WIDE_COMMAND = 40  # the count columns show only when they leave the command this many cells
LONG_WORD = 24  # a word this long (a digest, a long path) is cut at a line's end rather than moved below
INDENT = 4  # the wrapped command of the highlighted layer starts here
BASE_MARK = "b"


def class_count(c: LayerCounts, mark: str) -> int:
    """The number a count column shows (type changes count with modifications)."""
    return {
        "+": c.added,
        "~": c.modified + c.type_changed,
        "m": c.metadata,
        "=": c.rewritten,
        "-": c.deleted,
    }[mark]


@dataclass(frozen=True)
class Columns:
    """Widths every row of one image shares, so the stack reads as a table."""

    index: int
    size: int
    counts: tuple[tuple[str, int], ...]  # (mark, width) of each class some layer has
    gutter: bool  # a base-layer gutter (the image has base layers)

    @property
    def fixed(self) -> int:
        """Cells before the command column."""
        width = self.index + 1 + self.size + 1
        width += sum(w + 1 for _m, w in self.counts)
        return width + (2 if self.gutter else 0)

    def fit(self, width: int) -> Columns:
        """These columns in a row ``width`` cells wide: without the counts when
        they would leave the command less than ``WIDE_COMMAND`` cells."""
        if self.counts and width - self.fixed < WIDE_COMMAND:
            return replace(self, counts=())
        return self


def columns_for(image: Image, loaded: bool, base: int = 0) -> Columns:
    layers = image.layers
    index = max((len(la.label) for la in layers), default=2)
    size = max((len(human_size(_size(la, loaded))) for la in layers), default=5)
    counts: list[tuple[str, int]] = []
    if loaded:
        for mark, _cls in COUNT_COLUMNS:
            widths = [
                1 + len(short_count(class_count(la.counts, mark))) for la in layers if class_count(la.counts, mark)
            ]
            if widths:
                counts.append((mark, max(widths)))
    return Columns(index, size, tuple(counts), base > 0)


def _size(layer: Layer, loaded: bool) -> int:
    return layer.size_bytes if loaded else layer.compressed_bytes


def take_line(text: str, width: int, min_cut: int | None = None) -> tuple[str, str]:
    """The first line of ``text`` in ``width`` cells, and the rest. It breaks at the
    last space after ``min_cut`` cells (default: a third of the width, so a long
    digest does not leave short lines), else inside the word."""
    if cell_len(text) <= width:
        return text, ""
    head = chop_cells(text, max(1, width))[0]
    cut = head.rfind(" ")
    if cut > (width // 3 if min_cut is None else min_cut):
        head = head[:cut]
    return head, text[len(head) :].lstrip(" ")


def wrap_cells(text: str, width: int, max_lines: int) -> list[str]:
    """``text`` in at most ``max_lines`` lines of ``width`` cells; a last line
    that does not hold the rest ends with ``…``."""
    width = max(2, width)
    lines: list[str] = []
    rest = text
    while rest and len(lines) < max_lines:
        line, rest = take_line(rest, width)
        lines.append(line)
    if rest and lines:
        lines[-1] = chop_cells(lines[-1], width - 1)[0] + "…" if cell_len(lines[-1]) >= width else lines[-1] + "…"
    return lines


class LayerRow:
    """One layer: gutter, index, size, change counts, damage, command."""

    def __init__(
        self,
        layer: Layer,
        loaded: bool,
        cols: Columns,
        base: bool = False,
        expanded: bool = False,
        max_lines: int = 4,
        damage: str | None = None,
    ) -> None:
        self.layer = layer
        self.loaded = loaded
        self.cols = cols
        self.base = base
        self.expanded = expanded
        self.max_lines = max_lines
        self.damage = damage  # LAYER_DAMAGED, LAYER_UNVERIFIED or None (Image.layer_damage)
        self._drawn: dict[int, Text] = {}  # width -> the row's text at that width

    def head(self, width: int = 200) -> Text:
        """The fixed columns, as they fit in ``width`` cells."""
        la, cols = self.layer, self.cols.fit(width)
        t = Text(no_wrap=True, overflow="ellipsis")
        if cols.gutter:
            t.append(BASE_MARK if self.base else " ", style="dim")
            t.append(" ")
        t.append(la.label.ljust(cols.index), style="dim bold" if self.base else "bold")
        t.append(" ")
        t.append(human_size(_size(la, self.loaded)).rjust(cols.size), style="cyan" if self.loaded else "dim")
        t.append(" ")
        if not self.loaded:
            t.append("…", style="dim")
            t.append(" ")
        for mark, w in cols.counts:
            n = class_count(la.counts, mark)
            t.append((f"{mark}{short_count(n)}" if n else "").ljust(w), style=count_style(mark))
            t.append(" ")
        if self.damage:
            # a word while the command keeps MIN_COMMAND cells, else its first letter's alarm
            room = width - cell_len(t.plain) - len(self.damage) - 1
            word = self.damage if room >= MIN_COMMAND else "!"
            style = "bold red reverse" if self.damage == LAYER_DAMAGED else "bold yellow reverse"
            t.append(word, style=style)
            t.append(" ")
        return t

    def lines(self, width: int) -> list[Text]:
        head = self.head(width)
        command = short_command(self.layer.command) or "(no history)"
        room = width - cell_len(head.plain)
        out = [head]
        rest = command
        if room >= MIN_COMMAND or cell_len(command) <= room:
            if not self.expanded and cell_len(command) > room:
                head.append(chop_cells(command, room - 1)[0] + "…")
                return out
            # the rest has wide lines below: break at a space, unless the word
            # after it is a long token (a digest: cut, it still reads as one)
            first, rest = take_line(command, room, min_cut=0)
            if cell_len(rest.split(" ", 1)[0]) > LONG_WORD:
                first = chop_cells(command, room)[0]
                rest = command[len(first) :]
            head.append(first)
        elif not self.expanded and room >= 2:
            head.append(chop_cells(command, room - 1)[0] + "…")  # what fits: never nothing
            return out
        if self.expanded and rest:
            # the rest of the command, below the row (the details pane has it too)
            for line in wrap_cells(rest, width - INDENT, self.max_lines):
                out.append(Text(" " * INDENT + line, no_wrap=True, overflow="ellipsis"))
        if self.expanded and self.cols.counts and not self.cols.fit(width).counts:
            out.append(self.counts_line())  # the counts the narrow rows leave out, for this layer
        return out

    def counts_line(self) -> Text:
        """``    +1 ~2 -3``: the highlighted layer's counts when the rows have no count columns."""
        t = Text(" " * INDENT, no_wrap=True, overflow="ellipsis")
        for mark, _w in self.cols.counts:
            n = class_count(self.layer.counts, mark)
            if n:
                t.append(f"{mark}{short_count(n)}", style=count_style(mark))
                t.append(" ")
        t.rstrip()
        return t

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # A row is measured, then drawn, and drawn again in another style (the
        # cursor or the mouse on it): its text for a width is made once.
        width = options.max_width
        joined = self._drawn.get(width)
        if joined is None:
            joined = self._drawn[width] = next(_join(self.lines(width)))
        yield joined.copy()

    def __str__(self) -> str:
        return "\n".join(t.plain for t in self.lines(200))


class StepRow:
    """An empty history step (ENV, LABEL…): it belongs to no layer."""

    def __init__(self, command: str, cols: Columns) -> None:
        self.command = short_command(command) or "(empty step)"
        self.cols = cols

    def lines(self, width: int) -> list[Text]:
        cols = self.cols.fit(width)
        lead = (2 if cols.gutter else 0) + cols.index
        t = Text(no_wrap=True, overflow="ellipsis")
        # under the layers' commands when they have a column, else right after the index
        at = cols.fixed if width - cols.fixed >= MIN_COMMAND else lead + 1
        t.append("·".rjust(lead) + " " * (at - lead), style="dim")
        t.append(self.command, style="dim italic")
        return [t]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from _join(self.lines(options.max_width))

    def __str__(self) -> str:
        return self.lines(200)[0].plain


class BaseRule:
    """The line between the base image's layers and the image's own:
    ``── base image: L0–L4 name ──`` (``L0`` alone for one layer; ``base`` > 0)."""

    def __init__(self, base: int, ref: str | None) -> None:
        span = "L0" if base <= 1 else f"L0–L{base - 1}"
        self.text = f" base image: {span}" + (f" {ref} " if ref else " ")

    def lines(self, width: int) -> list[Text]:
        label = safe(self.text)
        fill = max(0, width - 2 - cell_len(label))
        return [Text("──" + label + "─" * fill, style="dim", no_wrap=True, overflow="ellipsis")]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from _join(self.lines(options.max_width))

    def __str__(self) -> str:
        return self.lines(60)[0].plain


def _join(lines: Iterable[Text]) -> Iterator[Text]:
    """The lines as one text: a row is one renderable, however many lines it has."""
    yield Text("\n", no_wrap=True, overflow="ellipsis").join(lines)
