"""Save the selected version to a file in the current directory, under a name you confirm.

The name starts as the path's basename; Enter saves. A name that exists is
never replaced silently: the first Enter says so, a second Enter on the same
name replaces it. The writing (``layerscope.export``) runs in a worker, so a
big file does not freeze the screen.
"""

from __future__ import annotations

import os

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ...errors import LayerscopeError
from ...export import SaveExists, name_problem, save_version, suggested_name
from ...merge import Merged
from ...model import Deletion, Entry, Image
from .. import literal
from ..format import human_size
from ..keys import SAVE, bindings


def current_directory() -> str:
    """Where files are saved: the directory layerscope was started in (or moved to)."""
    return os.getcwd()


class SaveScreen(ModalScreen[str | None]):
    """Dismissed with the path written, or None when cancelled."""

    BINDINGS = bindings(SAVE)

    def __init__(self, image: Image, entry: Entry, what: str, directory: str | None = None) -> None:
        super().__init__()
        self.image = image
        self.entry = entry
        self.what = what  # which version this is, in words
        self.directory = directory if directory is not None else current_directory()
        self._confirm: str | None = None  # the existing name a second Enter replaces
        self.saving = False

    def compose(self) -> ComposeResult:
        with Vertical(id="save-box") as box:
            box.border_title = "Save this version to a file"
            yield Static(literal.text(self.what), id="save-what")
            yield Static(literal.text(f"into {self.directory}{os.sep}", style="dim"), id="save-dir")
            yield Input(value=suggested_name(self.entry.path), id="save-name", select_on_focus=False)
            yield Static(Text("Enter saves (mode 0600) · Esc cancels", style="dim"), id="save-status")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def _status(self, message: str, style: str) -> None:
        self.query_one("#save-status", Static).update(literal.text(message, style=style))

    @on(Input.Changed, "#save-name")
    def _changed(self, event: Input.Changed) -> None:
        if self._confirm is not None and event.value != self._confirm:
            self._confirm = None
            self._status("Enter saves (mode 0600) · Esc cancels", "dim")

    @on(Input.Submitted, "#save-name")
    def _submitted(self, event: Input.Submitted) -> None:
        if self.saving:
            return
        name = event.value
        problem = name_problem(name)
        if problem is not None:
            self._status(problem, "bold red")
            return
        self.saving = True
        self._status(f"Saving {human_size(self.entry.size)}…", "yellow")
        self.save(name, overwrite=self._confirm == name)

    @work(thread=True, exclusive=True, group="save", exit_on_error=False)
    def save(self, name: str, overwrite: bool) -> None:
        try:
            written = save_version(self.image, self.entry, name, self.directory, overwrite=overwrite)
        except SaveExists:
            self.app.call_from_thread(self._exists, name)
            return
        except LayerscopeError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        except Exception as exc:  # an unexpected I/O problem: say it, keep the app
            self.app.call_from_thread(self._failed, f"{type(exc).__name__}: {exc}")
            return
        self.app.call_from_thread(self._saved, name, written)

    def _exists(self, name: str) -> None:
        self.saving = False
        self._confirm = name
        self._status(f"{name} already exists: Enter again replaces it, or change the name", "bold yellow")

    def _failed(self, message: str) -> None:
        self.saving = False
        self._status(message, "bold red")

    def _saved(self, name: str, written: int) -> None:
        self.saving = False
        where = os.path.join(self.directory, name)
        literal.notify(self, f"Saved {human_size(written)} to {where}")
        self.dismiss(where)

    def action_cancel(self) -> None:
        if not self.saving:
            self.dismiss(None)


def version_words(merged: Merged | None, entry: Entry) -> str:
    """Which version this is and what became of it, for the dialog's first line."""
    size = human_size(entry.size) if entry.type in ("file", "hardlink") else entry.type
    words = f"{entry.path} from L{entry.layer} ({entry.change}, {size})"
    if merged is None:
        return words
    history = merged.history(entry.path)
    later = [ev for ev in history if ev.layer > entry.layer]
    if not later:
        return words + ": visible at the top"
    nxt = later[0]
    if type(nxt) is Deletion:
        return words + f": deleted by L{nxt.layer} ({nxt.how})"
    assert type(nxt) is Entry
    return words + f": hidden by L{nxt.layer} ({nxt.change})"
