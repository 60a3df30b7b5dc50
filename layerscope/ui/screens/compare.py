"""Compare the image with another: shared layers and changed paths."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ...compare import Comparison
from .. import literal
from ..format import human_size
from ..keys import COMPARE, bindings
from ..palette import GREEN, VERMILLION, YELLOW
from ..widgets.key_bar import KeyBar

MAX_ROWS = 2000
KIND_STYLE = {"added": GREEN, "removed": VERMILLION, "changed": YELLOW}


def comparison_summary(c: Comparison) -> Table:
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold")
    t.add_column()
    t.add_row("A (this image)", literal.text(c.a_source))
    t.add_row("B", literal.text(c.b_source))
    t.add_row(
        "Layers",
        Text(
            f"{len(c.shared)} shared by diff_id ({c.shared_prefix} leading), "
            f"{len(c.only_a)} only in A, {len(c.only_b)} only in B"
        ),
    )
    tot = c.totals()
    t.add_row(
        "Paths",
        Text(
            f"+{tot['added']} added ({human_size(tot['added_bytes'])}), "
            f"-{tot['removed']} removed ({human_size(tot['removed_bytes'])}), "
            f"~{tot['changed']} changed (Δ {human_size(tot['changed_bytes_delta'])})"
        ),
    )
    return t


class CompareScreen(ModalScreen[str | None]):
    """Enter on a path jumps to it in this image's tree (if it exists here)."""

    BINDINGS = bindings(COMPARE)

    def __init__(self, comparison: Comparison) -> None:
        super().__init__()
        self.comparison = comparison
        self.paths: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="compare-box") as box:
            box.border_title = "Compare with B (B's view of each path)"
            yield Static(comparison_summary(self.comparison))
            table: DataTable[Text] = DataTable(id="compare-paths", cursor_type="row", zebra_stripes=True)
            n = len(self.comparison.paths)
            table.border_title = Text(f"Paths that differ ({n}{f', first {MAX_ROWS} shown' if n > MAX_ROWS else ''})")
            yield table
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("", "Path", "Size A", "Size B", "What changed")
        for p in self.comparison.paths[:MAX_ROWS]:
            d = p.to_dict()
            table.add_row(
                Text({"added": "+", "removed": "-", "changed": "~"}.get(p.kind, "?"), style=KIND_STYLE.get(p.kind, "")),
                literal.text(p.path),
                Text(human_size(p.size_a) if p.a is not None else "-", justify="right"),
                Text(human_size(p.size_b) if p.b is not None else "-", justify="right"),
                literal.text(", ".join(d.get("what") or []), style="dim"),
            )
            self.paths.append(p.path)
        table.focus()

    @on(DataTable.RowSelected)
    def _chosen(self, event: DataTable.RowSelected) -> None:
        if 0 <= event.cursor_row < len(self.paths):
            self.dismiss(self.paths[event.cursor_row])

    async def action_dismiss(self, result: str | None = None) -> None:
        self.dismiss(result)
