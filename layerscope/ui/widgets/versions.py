"""Every version of the selected path: the one you see, and all it hides.

Newest first, as of the selected layer: the supplying version on top, then
each lower version with what became of it (hidden by a newer copy, deleted by
a whiteout, an opaque directory or a type change). This is where a "deleted"
secret shows up as still shipping in a lower layer.
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from ...merge import Merged
from ...model import Deletion, Entry, Event
from .. import literal
from ..format import CHANGE_MARK, CHANGE_STYLE, human_size, mode_string, short_command
from ..palette import VERMILLION
from .table import MeasuredTable

# Characters of a command kept for a row: the pane scrolls sideways to all of it (the
# Command column is the last: nothing hides behind it). It was cut at 60.
COMMAND_CAP = 2000


def fate(newer: Event | None) -> Text:
    """What happened to a version, from the event right above it."""
    if newer is None:
        return Text("visible", style="bold green")
    if type(newer) is Deletion:
        return Text(f"deleted by L{newer.layer} ({newer.how})", style=VERMILLION)
    assert type(newer) is Entry
    return Text(f"hidden by L{newer.layer} ({newer.change})", style=CHANGE_STYLE.get(newer.change, ""))


class VersionsPane(MeasuredTable[Text]):
    """One row per event of the path's timeline up to the selected layer."""

    class VersionChosen(Message):
        def __init__(self, entry: Entry) -> None:
            super().__init__()
            self.entry = entry

    def __init__(self, **kw: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)  # type: ignore[arg-type]
        self.merged: Merged | None = None
        self.path: str | None = None
        self.events: list[Event] = []
        self.k = 0
        self._shown: tuple[Merged, str | None, list[tuple[type, int]]] | None = None

    def on_mount(self) -> None:
        for col in ("Layer", "Change", "Fate", "Mode", "Owner", "Size", "Digest", "Command"):
            self.add_column(col, key=col)

    def show_path(self, merged: Merged, path: str | None, k: int) -> None:
        history = merged.history(path) if path is not None and path != "/" else []
        hist = [ev for ev in history if ev.layer <= k]
        shown = (merged, path, [(type(ev), ev.layer) for ev in hist])
        same_rows = shown == self._shown
        self.merged, self.path, self.k, self._shown = merged, path, k, shown
        if path is None or path == "/":
            self.clear()
            self.events = []
            self.border_title = Text("Versions")
            self.measure_now()
            return
        if not same_rows:
            # Re-rooting through layers that leave the path alone keeps its rows
            # (and the cursor on them): a refill is drawn again, 15-20 ms on a big image.
            self.clear()
            self.events = []
            rows = list(reversed(hist))
            for i, ev in enumerate(rows):
                newer = rows[i - 1] if i > 0 else None
                self.events.append(ev)
                self.add_row(*self._cells(merged, ev, newer), key=str(i))
        newer_above = len(history) - len(hist)
        n_hidden = sum(1 for ev in hist[:-1] if type(ev) is Entry) if hist else 0
        title = literal.text(f"Versions of {path}")
        if n_hidden:
            title.append(f" — hides {n_hidden}")
        if newer_above:
            title.append(f" ({newer_above} newer above L{k})")
        self.border_title = title
        self.measure_now()

    def _cells(self, merged: Merged, ev: Event, newer: Event | None) -> list[Text]:
        layer = merged.image.layers[ev.layer] if 0 <= ev.layer < len(merged.image.layers) else None
        cmd = Text(short_command(layer.command, COMMAND_CAP) if layer else "", style="dim")
        if type(ev) is Deletion:
            # A deletion has no content: no digest (its cause, the whiteout's path,
            # is the path itself or, for an opaque directory or a file replacing a
            # directory, the ancestor one row up in the tree)
            return [
                Text(merged.image.label_of(ev.layer), style=f"bold {VERMILLION}"),
                Text(f"{CHANGE_MARK['deleted']} deleted ({ev.how})", style=VERMILLION),
                fate(newer) if newer is not None else Text("absent", style=VERMILLION),
                Text("-"),
                Text("-"),
                Text("-", justify="right"),
                Text("-", style="dim"),
                cmd,
            ]
        assert type(ev) is Entry
        style = CHANGE_STYLE.get(ev.change, "")
        digest = ev.digest.hex()[:12] if ev.digest else "-"
        implicit = " (implicit)" if ev.implicit else ""
        change = Text(f"{CHANGE_MARK.get(ev.change, ' ')} {ev.change}{implicit}", style=style)
        if ev.link is not None and ev.type in ("symlink", "hardlink"):
            # where a link points is not a digest: it follows the change, as the tree shows it
            change.append(" → " if ev.type == "symlink" else " ⇒ ", style="dim")
            change.append_text(literal.text(ev.link, style="dim"))
        return [
            Text(merged.image.label_of(ev.layer), style="bold"),
            change,
            fate(newer),
            Text(mode_string(ev.type, ev.mode)),
            Text(f"{ev.uid}:{ev.gid}"),
            Text(human_size(ev.size) if ev.type in ("file", "hardlink") else "-", justify="right"),
            literal.text(digest, style="dim"),
            cmd,
        ]

    @property
    def selected_event(self) -> Event | None:
        if not self.events or self.cursor_row is None or not 0 <= self.cursor_row < len(self.events):
            return None
        return self.events[self.cursor_row]

    def older_entry(self, than: Event) -> Entry | None:
        """The next lower version (an Entry) below ``than`` in this list."""
        try:
            i = self.events.index(than)
        except ValueError:
            return None
        for ev in self.events[i + 1 :]:
            if type(ev) is Entry:
                return ev
        return None

    def _on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        ev = self.selected_event
        if type(ev) is Entry:
            self.post_message(self.VersionChosen(ev))
