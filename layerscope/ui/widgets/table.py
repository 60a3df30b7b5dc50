"""A DataTable whose rows never show the column widths of before they were measured.

Textual (8.2) measures the cells of new rows when the table is next idle, but
drops the lines it has already drawn only for rows of automatic height. A
frame painted between ``add_row`` and that moment (the versions pane is
refilled on every cursor move) stays cached, keyed by an update count that
did not change: the pane then shows ``- dele`` and ``abse`` under columns as
narrow as their headers until something else redraws it.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.widgets import DataTable
from textual.widgets.data_table import CellType, RowKey

from .steady import SteadyScroll


class MeasuredTable(SteadyScroll, DataTable[CellType]):
    def measure_now(self) -> None:
        """Measure the rows just added now, as Textual would once the table is idle.

        Then the first frame after a refill has the rows' widths and is the
        only one. Measured when idle, the rows were drawn twice, at the
        header's widths and again (5–20 ms a draw in the versions pane on a
        big image, measured): on every cursor move in the tree.
        """
        if self._require_update_dimensions:
            self._require_update_dimensions = False
            rows = self._new_rows.copy()
            self._new_rows.clear()
            self._update_dimensions(rows)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        super()._update_dimensions(new_rows)
        self._clear_caches()  # the widths may have changed: no line drawn before may stay
