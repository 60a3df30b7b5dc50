"""What one layer did to packages: added, removed, upgraded…, with bytes.

The rows are ``packages.lookup.layer_changes``'s; Enter hands back a
``pkg:`` query for the package, which the app filters the tree with (so the
tree shows the files the package owns, as the search's Ctrl+F would).
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ...fmt import plural
from ...packages.index import How
from ...packages.lookup import PREFIX, LayerChanges
from .. import literal
from ..format import human_size
from ..keys import PACKAGES, bindings
from ..palette import GREEN, VERMILLION, YELLOW
from ..widgets.key_bar import KeyBar
from ..widgets.table import MeasuredTable

# The marks of ``layerscope packages --changes``, and the words beside them.
MARK = {
    How.ADDED: ("+", GREEN),
    How.REMOVED: ("-", VERMILLION),
    How.UPGRADED: ("^", YELLOW),
    How.DOWNGRADED: ("v", YELLOW),
    How.REINSTALLED: ("=", "dim"),
    How.TRANSIENT: ("±", "dim"),
}


BYTES_W = len("999.9 kB")


def unmanaged_line(changes: LayerChanges) -> Text:
    """The layer's bytes no package owns: what someone must vouch for."""
    if not changes.unmanaged_files:
        return Text("No file of this layer is outside every package", style="dim")
    line = Text(f"Unmanaged: {human_size(changes.unmanaged_bytes)} in {plural(changes.unmanaged_files, 'file')}")
    line.append(" no package owns", style="dim")
    return line


class PackagesScreen(ModalScreen[str | None]):
    """Enter on a package dismisses with ``pkg:ECOSYSTEM:NAME``."""

    BINDINGS = bindings(PACKAGES)

    def __init__(self, changes: LayerChanges, title: str) -> None:
        super().__init__()
        self.changes = changes
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="packages-box") as box:
            box.border_title = literal.text(self.title_text)
            yield Static(unmanaged_line(self.changes), id="packages-unmanaged")
            table: MeasuredTable[Text] = MeasuredTable(
                id="packages-table", cursor_type="row", zebra_stripes=True, stretch=("Version",)
            )
            n = len(self.changes.rows)
            table.border_title = Text(f"{plural(n, 'package change')} — Enter: its files in the tree")
            yield table
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(MeasuredTable)
        table.add_columns("", "Change", "Package", "Version", "Bytes")
        for r in self.changes.rows:
            mark, style = MARK[r.how]
            table.add_row(
                Text(mark, style=style),
                Text(str(r.how), style=style),
                literal.text(f"{r.ecosystem}:{r.name}"),
                literal.text(r.version),
                Text(("-" if r.bytes is None else human_size(r.bytes)).rjust(BYTES_W)),
            )
        if not self.changes.rows:
            table.add_row(Text(""), Text("none", style="dim"), Text(""), Text(""), Text(""))
        table.measure_now()
        table.focus()

    @on(DataTable.RowSelected)
    def _chosen(self, event: DataTable.RowSelected) -> None:
        if 0 <= event.cursor_row < len(self.changes.rows):
            r = self.changes.rows[event.cursor_row]
            self.dismiss(f"{PREFIX}{r.ecosystem}:{r.name}")

    async def action_dismiss(self, result: str | None = None) -> None:
        self.dismiss(result)
