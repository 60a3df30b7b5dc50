"""A DataTable whose rows never show the column widths of before they were measured,
and whose text columns take the width the table has.

Textual (8.2) measures the cells of new rows when the table is next idle, but
drops the lines it has already drawn only for rows of automatic height. A
frame painted between ``add_row`` and that moment (the versions pane is
refilled on every cursor move) stays cached, keyed by an update count that
did not change: the pane then shows ``- dele`` and ``abse`` under columns as
narrow as their headers until something else redraws it. So each cell is
measured as it is added (through the columns' public ``content_width``).

Textual sizes every column to its widest cell: a table of short rows leaves
the rest of a wide terminal empty, and one long command pushes the columns
right of it out of view. The ``stretch`` columns (those holding free text:
a command, a path, a description) share what the other columns leave of the
table's width instead: they grow to fill it, and shrink (their cells ending
in an ellipsis) only when there is not room for all of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text
from textual.geometry import Size
from textual.render import measure
from textual.widgets import DataTable
from textual.widgets.data_table import CellType, RowKey

from .steady import SteadyScroll

ROW_LABELS = 0  # these tables have no row labels: the label column takes no width
MIN_STRETCH = 8  # a stretch column is never cut narrower (the table scrolls sideways instead)


def share(natural: Sequence[int], room: int, least: int = MIN_STRETCH) -> list[int]:
    """Widths for columns that want ``natural`` cells, to fill exactly ``room`` if they can.

    The columns come in the order they matter (a path before a command):
    with room to spare the last takes it; without, each in turn keeps as
    much of its width as leaves the ones after it ``least`` cells (or their
    natural width if that is less), so the last ones give way first.
    """
    widths = list(natural)
    if sum(widths) <= room:
        if widths:
            widths[-1] += room - sum(widths)
        return widths
    left = room
    for i, want in enumerate(natural):
        after = sum(min(n, least) for n in natural[i + 1 :])
        widths[i] = max(min(want, left - after), min(want, least))
        left -= widths[i]
    return widths


def text_width(cell: Text, console: Console) -> int:
    """The width Textual's ``measure`` gives a cell, without its cost for a plain ``Text``.

    ``measure`` asks the console for its options (a terminal-size query) and
    ``Text`` measures its words too, ~65 µs a cell: ~10 ms for the 160 cells
    of a versions refill, on every cursor move. A ``Text``'s width is its
    widest line (``Text.__rich_measure__``'s maximum), read here directly;
    anything else (a subclass may measure itself otherwise) goes to ``measure``.
    """
    if type(cell) is Text:
        return max((cell_len(line) for line in cell.plain.splitlines()), default=0)
    return measure(console, cell, 1)


class MeasuredTable(SteadyScroll, DataTable[CellType]):
    # the width is fitted left of the scrollbar: it must not come and go
    DEFAULT_CSS = """
    MeasuredTable {
        scrollbar-gutter: stable;
    }
    """

    def __init__(self, *args: object, stretch: Sequence[str] = (), **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.stretch = tuple(stretch)  # header labels of the columns that take the free width, first first
        self._fitted: tuple[int, int, tuple[int, ...]] = (-1, -1, ())  # (width, fixed, natural) fitted for
        self._unfitted = False  # rows were added since the last measure_now

    def measure_now(self) -> None:
        """Fit the stretch columns to the rows just added, now, and drop every line drawn before.

        The rows' widths are measured as they are added (``add_row``), so the
        first frame after a refill has them and is the only one. Measured when
        idle, the rows were drawn twice, at the header's widths and again
        (5–20 ms a draw in the versions pane on a big image, measured): on
        every cursor move in the tree.
        """
        if self._fit_width() or self._unfitted:
            self.notify_style_update()  # DataTable's public way to drop the lines it drew
        if self._unfitted:
            # the extent Textual sets once idle, set now: then setting it again changes
            # nothing, and the refill is drawn once, not a second time when idle
            width = sum(c.get_render_width(self) for c in self.ordered_columns) + ROW_LABELS
            rows = sum(row.height for row in self.rows.values())
            self.virtual_size = Size(width, rows + (self.header_height if self.show_header else 0))
        self._unfitted = False

    def add_row(self, *cells: CellType, **kw: object) -> RowKey:
        """A stretch column's text, cut to its width, ends in an ellipsis, not mid-word silently.

        Each cell's width is measured here, as Textual measures it when idle
        (the width ``measure`` gives, ``text_width``), so no frame shows a
        column narrower than its cells.
        """
        if self.stretch:
            for column, cell in zip(self.ordered_columns, cells):
                if isinstance(cell, Text) and cell.overflow is None and str(column.label) in self.stretch:
                    cell.overflow = "ellipsis"
        key = super().add_row(*cells, **kw)  # type: ignore[arg-type]
        console = self.app.console
        for column, cell in zip(self.ordered_columns, cells):
            if isinstance(cell, Text):
                column.content_width = max(column.content_width, text_width(cell, console))
        self._unfitted = True
        return key

    def watch_virtual_size(self) -> None:
        # Textual sets the extent once it has measured the rows (when idle): fit the columns to them
        super().watch_virtual_size()
        if self._fit_width():
            self.notify_style_update()

    def on_resize(self) -> None:
        if self._fit_width():
            self.notify_style_update()

    def _fit_width(self) -> bool:
        """Give the stretch columns the width the others leave; True if a width changed."""
        if not self.stretch:
            return False
        columns = self.ordered_columns
        flex = sorted(
            (c for c in columns if str(c.label) in self.stretch), key=lambda c: self.stretch.index(str(c.label))
        )
        width = self.scrollable_content_region.width
        if not flex or width <= 0:
            return False
        pad = 2 * self.cell_padding
        fixed = sum(c.get_render_width(self) for c in columns if c not in flex) + ROW_LABELS
        natural = tuple(c.content_width for c in flex)
        if self._fitted == (width, fixed, natural) and not any(c.auto_width for c in flex):
            return False
        self._fitted = (width, fixed, natural)
        changed = False
        for column, w in zip(flex, share(natural, width - fixed - pad * len(flex))):
            changed |= column.auto_width or column.width != w
            column.width, column.auto_width = w, False
        if changed:
            total = sum(c.get_render_width(self) for c in columns) + ROW_LABELS
            self.virtual_size = Size(total, self.virtual_size.height)
        return changed
