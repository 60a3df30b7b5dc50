"""Text tables that give way to a narrow screen: number columns keep their
width, commands then paths are truncated, optional columns dropped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ..layout import keep_head, keep_tail

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text


_SEP = 3  # " │ " between two columns of a table without edges


@dataclass
class Column:
    """One column of a text table and how it may give way to a narrow screen.

    ``shrink`` 0: never narrower than its widest cell (numbers, sizes, short
    words); 1: truncated first (commands, details); 2: truncated next (paths),
    down to ``minimum`` cells. An ``optional`` column is left out when even
    its minimum does not fit.
    """

    header: str
    justify: Literal["left", "right"] = "left"
    style: str = ""
    shrink: int = 0
    minimum: int = 0
    tail: bool = False  # truncate from the left (paths)
    optional: bool = False
    cells: list[Text] = field(default_factory=list)


def _table_width(widths: Sequence[int]) -> int:
    shown = [w for w in widths if w]
    return sum(shown) + _SEP * (len(shown) - 1)


def fit_widths(
    natural: Sequence[int],
    shrink: Sequence[int],
    minimum: Sequence[int],
    width: int,
    optional: Sequence[bool] | None = None,
) -> list[int]:
    """Column widths (0: left out) for a table ``width`` cells wide.

    Columns that may shrink give up cells in order of their ``shrink`` rank,
    never below their minimum; if that is not enough, optional columns are
    left out and the room they free goes back to the others. The rest keep
    their natural width, so the table may end up wider than ``width`` rather
    than lose a number.
    """
    widths = list(natural)
    opt = list(optional) if optional is not None else [False] * len(widths)
    ranks = sorted({r for r in shrink if r})
    for rank in ranks:
        for i, r in enumerate(shrink):
            excess = _table_width(widths) - width
            if excess <= 0:
                return widths
            if r == rank:
                widths[i] -= min(excess, max(0, widths[i] - minimum[i]))
    if _table_width(widths) <= width:
        return widths
    for rank in ranks:
        for i, r in enumerate(shrink):
            if r == rank and opt[i] and _table_width(widths) > width:
                widths[i] = 0
    for rank in reversed(ranks):  # give freed room back, last-truncated first
        for i, r in enumerate(shrink):
            room = width - _table_width(widths)
            if r == rank and widths[i] and room > 0:
                widths[i] += min(room, natural[i] - widths[i])
    return widths


def fitted_table(columns: Sequence[Column], width: int) -> tuple[Table, int]:
    """A Rich table whose columns have been given fixed widths by
    :func:`fit_widths`, and the width it needs (more than ``width`` only when
    the unshrinkable columns alone do not fit)."""
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    natural = [max([cell_len(c.header)] + [t.cell_len for t in c.cells]) for c in columns]
    widths = fit_widths(
        natural,
        [c.shrink for c in columns],
        [min(c.minimum, n) for c, n in zip(columns, natural)],
        width,
        [c.optional for c in columns],
    )
    kept = [(c, w) for c, w in zip(columns, widths) if w]
    table = Table(show_edge=False, pad_edge=False, expand=False)
    for c, w in kept:
        table.add_column(c.header, justify=c.justify, style=c.style or None, width=w, no_wrap=True, overflow="ellipsis")
    rows = max((len(c.cells) for c in columns), default=0)
    for r in range(rows):
        cells: list[Text] = []
        for c, w in kept:
            t = c.cells[r]
            if t.cell_len > w:
                cut = keep_tail(t.plain, w) if c.tail else keep_head(t.plain, w)
                t = Text(cut, style=t.style)
            cells.append(t)
        table.add_row(*cells)
    return table, _table_width(widths)


def print_table(console: Console, columns: Sequence[Column]) -> None:
    """Print a fitted table; if even its number columns do not fit, let the
    lines run long (the terminal wraps them) rather than squeeze a number."""
    table, needed = fitted_table(columns, console.width)
    if needed <= console.width:
        console.print(table)
        return
    was = console.width
    console.width = needed
    try:
        console.print(table)
    finally:
        console.width = was
