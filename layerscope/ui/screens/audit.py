"""Waste and findings of the image; Enter jumps to the path at the layer that matters.

Rows are capped so a huge image never builds a 100k-row table (first paint
would take seconds); the report and JSON carry the complete lists.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from ...analysis import CAUSES, Analysis
from .. import literal
from ..format import human_size, short_command

MAX_ROWS = 500
SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}


@dataclass(frozen=True)
class Jump:
    """Where to go: show ``path`` as of ``layer``."""

    path: str
    layer: int


def summary(a: Analysis) -> Table:
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold")
    t.add_column()
    waste = Text(f"{human_size(a.waste.total)} in {a.waste.files} hidden versions ")
    waste.append(f"({a.wasted_percent:.2f}% of {human_size(a.size_bytes)}; efficiency {a.efficiency:.4f})", style="dim")
    t.add_row("Waste", waste)
    causes = Text()
    for cause in CAUSES:
        causes.append(f"{cause} {human_size(a.waste.by_cause.get(cause, 0))}   ")
    t.add_row("  by cause", causes)
    if a.base.layers:
        t.add_row(
            "  user layers",
            Text(f"{human_size(a.user_waste.total)} ({a.user_wasted_percent:.2f}%) — base: {a.base.layers} layers"),
        )
    d = a.dive
    uwp = "n/a" if d.user_wasted_percent is None else f"{100 * d.user_wasted_percent:.4f}%"
    t.add_row(
        "dive 0.13.1",
        Text(f"efficiency {d.efficiency:.4f}   wasted {human_size(d.wasted_bytes)}   user wasted {uwp}", style="dim"),
    )
    sev = a.findings_by_severity()
    f = Text()
    for name, n in sev.items():
        if n:
            f.append(f"{n} {name}  ", style=SEVERITY_STYLE.get(name, ""))
    t.add_row("Findings", f if f.plain else Text("none", style="green"))
    return t


class AuditScreen(ModalScreen[Jump | None]):
    BINDINGS = [
        Binding("escape,q,w", "dismiss", "Close"),
        Binding("tab", "focus_next", "Next table", show=False),
    ]

    def __init__(self, analysis: Analysis) -> None:
        super().__init__()
        self.analysis = analysis
        self.jumps: dict[str, list[Jump]] = {"waste": [], "findings": []}

    def compose(self) -> ComposeResult:
        with Vertical(id="audit-box") as box:
            box.border_title = "Waste and findings (Enter: go to the path)"
            yield Static(summary(self.analysis), id="audit-summary")
            waste: DataTable[Text] = DataTable(id="waste", cursor_type="row", zebra_stripes=True)
            waste.border_title = "Biggest hidden bytes"
            yield waste
            findings: DataTable[Text] = DataTable(id="findings", cursor_type="row", zebra_stripes=True)
            findings.border_title = Text(f"Findings ({len(self.analysis.findings)})")
            yield findings
        yield Footer()

    def on_mount(self) -> None:
        a = self.analysis
        waste = self.query_one("#waste", DataTable)
        waste.add_columns("Size", "Cause", "Path", "Ships in", "Hidden by", "Command")
        for item in a.top[:MAX_ROWS]:
            waste.add_row(
                Text(human_size(item.size), justify="right"),
                Text(item.cause, style="yellow"),
                literal.text(item.path),
                Text(f"L{item.layer}"),
                Text(f"L{item.by_layer} ({item.how})"),
                Text(short_command(item.command, 50), style="dim"),
            )
            self.jumps["waste"].append(Jump(item.path, item.by_layer))
        findings = self.query_one("#findings", DataTable)
        findings.add_columns("Severity", "Rule", "Path", "Layer", "Size", "What")
        for f in a.findings[:MAX_ROWS]:
            what = f.title + (f" ({f.count} files)" if f.count > 1 else "") + (f" — {f.detail}" if f.detail else "")
            findings.add_row(
                Text(f.severity, style=SEVERITY_STYLE.get(f.severity, "")),
                Text(f.rule),
                literal.text(f.path),
                Text(f"L{f.layer}"),
                Text(human_size(f.size), justify="right"),
                literal.text(what),
            )
            self.jumps["findings"].append(Jump(f.path, f.layer))
        (findings if a.findings and not a.top else waste).focus()

    @on(DataTable.RowSelected)
    def _chosen(self, event: DataTable.RowSelected) -> None:
        table_id = event.data_table.id or ""
        rows = self.jumps.get(table_id, [])
        if 0 <= event.cursor_row < len(rows):
            self.dismiss(rows[event.cursor_row])

    async def action_dismiss(self, result: Jump | None = None) -> None:
        self.dismiss(result)
