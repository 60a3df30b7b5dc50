"""Waste and findings of the image; Enter jumps to the path at the layer that matters.

Four tabs over one summary: the biggest hidden versions, hidden bytes by
directory and by the layer that hid them (``layerscope.rollup``, computed in
a worker), and the findings. Rows are capped so a huge image never builds a
100k-row table (first paint would take seconds); the report and JSON carry
the complete lists.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from ...analysis import CAUSES, Analysis
from ...report import dive_text, percent
from ...rollup import DirWaste, LayerRollup, waste_by_directory, waste_by_layer
from .. import literal
from ..format import human_size, short_command
from ..widgets.key_bar import KeyBar
from ..widgets.table import MeasuredTable

MAX_ROWS = 500
SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
TABS = ("files", "dirs", "layers", "findings")  # tab ids; tables are "#waste", "#waste-dirs"…
TABLE_OF = {"files": "waste", "dirs": "waste-dirs", "layers": "waste-layers", "findings": "findings"}


@dataclass(frozen=True)
class Jump:
    """Where to go: show ``path`` as of ``layer``."""

    path: str
    layer: int


def summary(a: Analysis) -> Table:
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold", no_wrap=True)
    t.add_column()
    n = a.waste.files
    waste = Text(f"{human_size(a.waste.total)} in {n} hidden version{'' if n == 1 else 's'} ")
    waste.append(f"({percent(a.wasted_percent / 100)} of {human_size(a.size_bytes)})", style="dim")
    t.add_row("Waste", waste)
    t.add_row("Efficiency", Text(f"{percent(a.efficiency)} of the content is visible"))
    causes = Text()
    for cause in CAUSES:
        causes.append(f"{cause} {human_size(a.waste.by_cause.get(cause, 0))}   ")
    t.add_row("  by cause", causes)
    if a.base.layers:
        t.add_row(
            "  user layers",
            Text(f"{human_size(a.user_waste.total)} ({a.user_wasted_percent:.2f} %) — base: {a.base.layers} layers"),
        )
    t.add_row("dive's figures", Text(dive_text(a.dive), style="dim"))
    sev = a.findings_by_severity()
    f = Text()
    for name, n in sev.items():
        if n:
            f.append(f"{n} {name}  ", style=SEVERITY_STYLE.get(name, ""))
    t.add_row("Findings", f if f.plain else Text("none", style="green"))
    return t


def layer_list(layers: list[int], most: int = 3) -> str:
    shown = ", ".join(f"L{k}" for k in layers[:most])
    return shown + (f" +{len(layers) - most}" if len(layers) > most else "")


class AuditScreen(ModalScreen[Jump | None]):
    BINDINGS = [
        Binding("escape,q,w", "dismiss", "Close"),
        Binding("1", "tab('files')", "Files"),
        Binding("2", "tab('dirs')", "Directories"),
        Binding("3", "tab('layers')", "Layers"),
        Binding("4", "tab('findings')", "Findings"),
        Binding("tab", "step_tab(1)", "Next tab", show=False),
        Binding("shift+tab", "step_tab(-1)", "Previous tab", show=False),
    ]

    def __init__(self, analysis: Analysis) -> None:
        super().__init__()
        self.analysis = analysis
        self.jumps: dict[str, list[Jump]] = {t: [] for t in TABLE_OF.values()}
        self.dirs: list[DirWaste] = []
        self.by_layer: list[LayerRollup] = []

    def compose(self) -> ComposeResult:
        a = self.analysis
        first = "findings" if a.findings and not a.top else "files"
        with Vertical(id="audit-box") as box:
            box.border_title = "Waste and findings (Enter: go to the path)"
            yield Static(summary(a), id="audit-summary")
            with TabbedContent(id="audit-tabs", initial=f"tab-{first}"):
                titles = {
                    "files": "1 Hidden files",
                    "dirs": "2 By directory",
                    "layers": "3 By layer",
                    "findings": f"4 Findings ({len(a.findings)})",
                }
                for tab in TABS:
                    with TabPane(titles[tab], id=f"tab-{tab}"):
                        yield MeasuredTable(id=TABLE_OF[tab], cursor_type="row", zebra_stripes=True)
        yield KeyBar()

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
        self.query_one("#waste-dirs", DataTable).add_columns("Hidden", "Versions", "Directory (subtree)", "Hidden by")
        self.query_one("#waste-layers", DataTable).add_columns(
            "Layer", "Hidden", "Versions", *CAUSES, "Biggest", "Command"
        )
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
        self._focus_table()
        self.roll_up()

    @work(thread=True, exit_on_error=False, group="rollup")
    def roll_up(self) -> None:
        """The rollups walk every hidden version (100k in a big image): off the UI thread."""
        dirs = waste_by_directory(self.analysis.items)
        layers = waste_by_layer(self.analysis)
        self.app.call_from_thread(self._rolled_up, dirs, layers)

    def _rolled_up(self, dirs: list[DirWaste], layers: list[LayerRollup]) -> None:
        self.dirs, self.by_layer = dirs, layers
        table = self.query_one("#waste-dirs", DataTable)
        for d in dirs[:MAX_ROWS]:
            table.add_row(
                Text(human_size(d.size), justify="right"),
                Text(str(d.versions), justify="right"),
                literal.text(d.path),
                Text(layer_list(d.layers)),
            )
            target = d.biggest.by_layer if d.biggest is not None else self.analysis.layers[-1].index
            self.jumps["waste-dirs"].append(Jump(d.path, target))
        table = self.query_one("#waste-layers", DataTable)
        for r in layers[:MAX_ROWS]:
            c = r.caused
            table.add_row(
                Text(f"L{r.layer}" + (" b" if r.base else "")),
                Text(human_size(c.total), justify="right"),
                Text(str(c.files), justify="right"),
                *[
                    Text(human_size(c.by_cause[cause]) if c.by_cause[cause] else "", justify="right")
                    for cause in CAUSES
                ],
                literal.text(r.biggest.path if r.biggest is not None else ""),
                Text(short_command(r.command, 60), style="dim"),
            )
            self.jumps["waste-layers"].append(Jump(r.biggest.path if r.biggest is not None else "/", r.layer))

    def _focus_table(self) -> None:
        active = self.query_one(TabbedContent).active.removeprefix("tab-")
        self.query_one(f"#{TABLE_OF[active]}", DataTable).focus()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = f"tab-{tab}"
        self._focus_table()

    def action_step_tab(self, step: int) -> None:
        active = self.query_one(TabbedContent).active.removeprefix("tab-")
        self.action_tab(TABS[(TABS.index(active) + step) % len(TABS)])

    @on(TabbedContent.TabActivated)
    def _tab_activated(self) -> None:
        self._focus_table()

    @on(DataTable.RowSelected)
    def _chosen(self, event: DataTable.RowSelected) -> None:
        table_id = event.data_table.id or ""
        rows = self.jumps.get(table_id, [])
        if 0 <= event.cursor_row < len(rows):
            self.dismiss(rows[event.cursor_row])

    async def action_dismiss(self, result: Jump | None = None) -> None:
        self.dismiss(result)
