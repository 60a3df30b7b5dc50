"""Waste and findings of the image; Enter jumps to the path at the layer that matters.

Four tabs over one summary (a one-line tab bar; each tab's table is made and
filled the first time it is shown): the biggest hidden versions, hidden bytes by
directory and by the layer that hid them (``layerscope.rollup``, computed in
a worker), and the findings. Rows are capped so a huge image never builds a
100k-row table (first paint would take seconds); the report and JSON carry
the complete lists.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import DataTable, Static

from ...analysis import CAUSES, Analysis
from ...fixes import Fixes, FixKind
from ...fmt import percent, plural
from ...rollup import DirWaste, LayerRollup, waste_by_directory, waste_by_layer
from ...text.figures import dive_text
from ...text.fixes import headline
from ...textsafe import safe
from .. import literal
from ..drawn import Drawn
from ..format import human_size, short_command
from ..keys import AUDIT, bindings
from ..widgets.key_bar import KeyBar
from ..widgets.table import MeasuredTable

MAX_ROWS = 500
SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
TABS = ("files", "dirs", "layers", "findings", "fixes")  # tab ids; tables are "#waste", "#waste-dirs"…
TABLE_OF = {"files": "waste", "dirs": "waste-dirs", "layers": "waste-layers", "findings": "findings", "fixes": "fixes"}
# Where Enter goes from each tab, for the box's title: the help's "Enter on 1"… rows, in
# fewer words (the title fits 80 columns).
ENTER_ON = {
    "files": "the path, at the layer that hid it",
    "dirs": "the layer that hid its biggest",
    "layers": "that layer, its biggest path",
    "findings": "the path, at the layer that ships it",
    "fixes": "its first path, at the layer to change",
}
STRETCH = {
    "files": ("Path", "Command"),
    "dirs": ("Directory (subtree)", "Hidden by"),
    "layers": ("Biggest", "Command"),
    "findings": ("Path", "What"),
    "fixes": ("Change", "Why"),
}
COMMAND_CAP = 500  # characters of a command kept for a row: wider than any terminal's table


@dataclass(frozen=True)
class Jump:
    """Where to go: show ``path`` as of ``layer``."""

    path: str
    layer: int


def summary(a: Analysis, fx: Fixes) -> Table:
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
            Text(
                f"{human_size(a.user_waste.total)} ({a.user_wasted_percent:.2f} %) — "
                f"base: {plural(a.base.layers, 'layer')}"
            ),
        )
    t.add_row("dive's figures", Text(dive_text(a.dive), style="dim"))
    sev = a.findings_by_severity()
    f = Text()
    for name, n in sev.items():
        if n:
            f.append(f"{n} {name}  ", style=SEVERITY_STYLE.get(name, ""))
    t.add_row("Findings", f if f.plain else Text("none", style="green"))
    t.add_row("Fixes", Text(headline(fx).removeprefix("Fixes: ")))
    return t


def layer_list(layers: list[int], most: int = 3) -> str:
    shown = ", ".join(f"L{k}" for k in layers[:most])
    return shown + (f" +{len(layers) - most}" if len(layers) > most else "")


class TabBar(Static, can_focus=False):
    """One line of tab titles, the shown one highlighted; a click on a title shows its tab.

    Textual's ``TabbedContent`` mounts a dozen widgets per screen (tabs, an
    animated underline, panes) and re-lays them out on every switch: most of
    the ~200 ms the audit took to open on a big image, measured.
    """

    class Chosen(Message):
        def __init__(self, tab: str) -> None:
            super().__init__()
            self.tab = tab

    def __init__(self, titles: dict[str, str], active: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.titles = titles
        self.active = active
        self._spans: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        self.show(self.active)

    def show(self, active: str) -> None:
        self.active = active
        line = Text(no_wrap=True, overflow="ellipsis")
        spans: list[tuple[int, int, str]] = []
        for tab, title in self.titles.items():
            start = len(line)
            if tab == active:
                line.append(f" {title} ", style="bold reverse")
            else:
                line.append(f" {title} ", style="dim")
            spans.append((start, len(line), tab))
            line.append(" ")
        self._spans = spans
        self.update(line, layout=False)  # one line, always

    def on_click(self, event: events.Click) -> None:
        for start, end, tab in self._spans:
            if start <= event.x < end:
                self.post_message(self.Chosen(tab))
                return


class AuditScreen(ModalScreen[Jump | None]):
    BINDINGS = bindings(AUDIT)

    def __init__(self, analysis: Analysis, found: Fixes) -> None:
        super().__init__()
        self.analysis = analysis
        a = analysis
        # Where Enter on each table's rows goes, known before a table is drawn.
        self.jumps: dict[str, list[Jump]] = {t: [] for t in TABLE_OF.values()}
        self.jumps["waste"] = [Jump(item.path, item.by_layer) for item in a.top[:MAX_ROWS]]
        self.jumps["findings"] = [Jump(f.path, f.layer) for f in a.findings[:MAX_ROWS]]
        self.fixes = found
        self.fix_rows = (self.fixes.user + self.fixes.base)[:MAX_ROWS]
        self.jumps["fixes"] = [Jump(f.paths[0] if f.paths else "/", f.layer) for f in self.fix_rows]
        self.dirs: list[DirWaste] = []
        self.by_layer: list[LayerRollup] = []
        self.rolled_up = False
        self.active = "findings" if a.findings and not a.top else "files"
        self._filled: set[str] = set()

    def compose(self) -> ComposeResult:
        a = self.analysis
        titles = {
            "files": "1 Hidden files",
            "dirs": "2 By directory",
            "layers": "3 By layer",
            "findings": f"4 Findings ({len(a.findings)})",
            "fixes": f"5 Fixes ({len(self.fixes.user)})",
        }
        with Vertical(id="audit-box") as box:
            box.border_title = self._title(self.active)
            yield Static(Drawn(summary(a, self.fixes)), id="audit-summary")
            yield TabBar(titles, self.active, id="audit-tab-bar")
            # only the shown tab's table: the others are made when first shown
            yield from self._new_widgets(self.active)
        yield KeyBar()

    @staticmethod
    def _title(tab: str) -> str:
        """The box's title says where Enter goes from the shown tab: each tab goes elsewhere."""
        return f"Waste and findings · Enter: {ENTER_ON[tab]}"

    def _new_widgets(self, tab: str) -> list[Widget]:
        """The tab's table, and for the fixes the pane that shows one whole."""
        widgets: list[Widget] = [self._new_table(tab)]
        if tab == "fixes":
            widgets.append(Static(id="fix-detail"))
        return widgets

    def _new_table(self, tab: str) -> MeasuredTable[Text]:
        # the columns of free text take the width the others leave
        return MeasuredTable(id=TABLE_OF[tab], cursor_type="row", zebra_stripes=True, stretch=STRETCH[tab])

    def on_mount(self) -> None:
        self._fill(self.active)
        self._table(self.active).focus()
        self.roll_up()

    def _table(self, tab: str) -> MeasuredTable[Text]:
        return self.query_one(f"#{TABLE_OF[tab]}", MeasuredTable)

    def _fill(self, tab: str) -> None:
        """Put the tab's rows in its table, once (the rollups' once they are computed)."""
        if tab in self._filled or (tab in ("dirs", "layers") and not self.rolled_up):
            return
        self._filled.add(tab)
        {
            "files": self._fill_files,
            "dirs": self._fill_dirs,
            "layers": self._fill_layers,
            "findings": self._fill_findings,
            "fixes": self._fill_fixes,
        }[tab](self._table(tab))
        self._table(tab).measure_now()
        if tab == "fixes":
            self._show_fix(0)

    def _fill_files(self, table: DataTable[Text]) -> None:
        table.add_columns("Size", "Cause", "Path", "Ships in", "Hidden by", "Command")
        for item in self.analysis.top[:MAX_ROWS]:
            table.add_row(
                Text(human_size(item.size), justify="right"),
                Text(item.cause, style="yellow"),
                literal.text(item.path),
                Text(f"L{item.layer}"),
                Text(f"L{item.by_layer} ({item.how})"),
                Text(short_command(item.command, COMMAND_CAP), style="dim"),
            )

    def _fill_findings(self, table: DataTable[Text]) -> None:
        table.add_columns("Severity", "Rule", "Path", "Layer", "Size", "What")
        for f in self.analysis.findings[:MAX_ROWS]:
            what = f.title + (f" ({f.count} files)" if f.count > 1 else "") + (f" — {f.detail}" if f.detail else "")
            table.add_row(
                Text(f.severity, style=SEVERITY_STYLE.get(f.severity, "")),
                Text(f.rule),
                literal.text(f.path),
                Text(f"L{f.layer}"),
                Text(human_size(f.size), justify="right"),
                literal.text(what),
            )

    def _fill_fixes(self, table: DataTable[Text]) -> None:
        """The user's fixes ranked (an exposed secret first), then the base's,
        marked ``b``: nothing to change there but the base."""
        table.add_columns("Saves", "Layer", "Change", "Files")
        for f in self.fix_rows:
            saves = Text("secret", style="bold red") if f.severity else Text(human_size(f.saves), justify="right")
            table.add_row(
                saves,
                Text(f"L{f.layer}" + (" b" if f.base else "")),
                literal.text(f.change),
                Text(str(f.files), justify="right"),
            )

    def _show_fix(self, row: int) -> None:
        """The highlighted fix whole below the table: a row has room for the
        start of its change only."""
        detail = self.query_one("#fix-detail", Static)
        if not self.fix_rows:
            detail.update(Text("No fixes: no layer ships bytes that a change to the Dockerfile would save."))
            return
        if not 0 <= row < len(self.fix_rows):
            return
        f = self.fix_rows[row]
        t = Text()
        t.append(f"L{f.layer}: ", style="bold")
        t.append(safe(f.why))
        t.append("\nchange: ", style="bold")
        t.append(safe(f.change))
        shown = ", ".join(safe(p) for p in f.paths[:5])
        more = f" and {f.files - len(f.paths[:5])} more" if f.files > len(f.paths[:5]) else ""
        if f.kind is FixKind.CACHE:  # its path is the cache's root
            more = f" ({plural(f.files, 'file')})"
        t.append("\npaths: ", style="bold")
        t.append(shown + more, style="dim")
        if f.base:
            t.append("\nin the base image: nothing to change here but the base", style="dim")
        detail.update(t)

    @on(DataTable.RowHighlighted, "#fixes")
    def _fix_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_fix(event.cursor_row)

    def _fill_dirs(self, table: DataTable[Text]) -> None:
        table.add_columns("Hidden", "Versions", "Directory (subtree)", "Hidden by")
        for d in self.dirs[:MAX_ROWS]:
            table.add_row(
                Text(human_size(d.size), justify="right"),
                Text(str(d.versions), justify="right"),
                literal.text(d.path),
                Text(layer_list(d.layers)),
            )

    def _fill_layers(self, table: DataTable[Text]) -> None:
        table.add_columns("Layer", "Hidden", "Versions", *CAUSES, "Biggest", "Command")
        for r in self.by_layer[:MAX_ROWS]:
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
                Text(short_command(r.command, COMMAND_CAP), style="dim"),
            )

    @work(thread=True, exit_on_error=False, group="rollup")
    def roll_up(self) -> None:
        """The rollups walk every hidden version (100k in a big image): off the UI thread."""
        dirs = waste_by_directory(self.analysis.items)
        layers = waste_by_layer(self.analysis)
        self.app.call_from_thread(self._rolled_up, dirs, layers)

    def _rolled_up(self, dirs: list[DirWaste], layers: list[LayerRollup]) -> None:
        self.dirs, self.by_layer = dirs, layers
        last = self.analysis.layers[-1].index
        self.jumps["waste-dirs"] = [
            Jump(d.path, d.biggest.by_layer if d.biggest is not None else last) for d in dirs[:MAX_ROWS]
        ]
        self.jumps["waste-layers"] = [
            Jump(r.biggest.path if r.biggest is not None else "/", r.layer) for r in layers[:MAX_ROWS]
        ]
        self.rolled_up = True
        if self.active in ("dirs", "layers"):
            self._fill(self.active)

    async def action_tab(self, tab: str) -> None:
        if tab != self.active:
            old = self._table(self.active)
            if not self.query(f"#{TABLE_OF[tab]}"):
                await self.query_one("#audit-box").mount_all(self._new_widgets(tab))
            old.display = False
            self._table(tab).display = True
            for detail in self.query("#fix-detail"):
                detail.display = tab == "fixes"
            self.active = tab
            self.query_one(TabBar).show(tab)
            self.query_one("#audit-box").border_title = self._title(tab)
            self._fill(tab)
        self._table(tab).focus()

    async def action_step_tab(self, step: int) -> None:
        await self.action_tab(TABS[(TABS.index(self.active) + step) % len(TABS)])

    @on(TabBar.Chosen)
    async def _tab_chosen(self, event: TabBar.Chosen) -> None:
        await self.action_tab(event.tab)

    @on(DataTable.RowSelected)
    def _chosen(self, event: DataTable.RowSelected) -> None:
        table_id = event.data_table.id or ""
        rows = self.jumps.get(table_id, [])
        if 0 <= event.cursor_row < len(rows):
            self.dismiss(rows[event.cursor_row])

    async def action_dismiss(self, result: Jump | None = None) -> None:
        self.dismiss(result)
