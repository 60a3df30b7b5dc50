"""Find paths by fragment, glob or regex; jump to one or filter the tree to all.

The search runs in a worker over every path (it can be 500k); the newest
query cancels the previous one, so typing stays responsive.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, get_current_worker

from ...fmt import plural
from ...merge import Merged
from ...model import Deletion, Entry
from ...snapshot import count_matches, search
from .. import literal
from ..format import node_label
from ..keys import SEARCH, bindings
from ..widgets.key_bar import KeyBar
from ..widgets.steady import SteadyScroll

if TYPE_CHECKING:
    from ...packages.index import PackageIndex  # read in a worker: its import waits for it too

# Rows listed: an OptionList lays out every option when they are added (~0.2 ms
# each), and that happens on the key path as the user types: 100 rows are a few
# screens of them. The count line says how many there are; Ctrl+F filters the
# tree to every match.
SHOW = 100

# Fits the box at 80 columns (64 cells): the key a user cannot guess first.
PLACEHOLDER = "Ctrl+F filters the tree · Enter jumps · text, *.pem, re:REGEX"
# The same words with pkg:, for an image whose packages are read (it fits 80 columns too).
PLACEHOLDER_PKG = "Ctrl+F filters · Enter jumps · text, *.pem, re:REGEX, pkg:NAME"


def _stop(worker: Worker[None]) -> bool:
    """Polled every few thousand paths while counting: stop if superseded, and
    let the UI thread run. A thread that never blocks keeps the GIL from the
    event loop for most of each 5 ms switch interval: a count over 500k paths
    would hold the screen still for half a second."""
    time.sleep(0.001)
    return worker.is_cancelled


class Results(SteadyScroll, OptionList):
    """The matches: a new list per keystroke repaints this pane, it does not re-lay out the screen."""


@dataclass
class SearchResult:
    """What the search screen hands back: a path to jump to, or a filter."""

    query: str
    jump_to: str | None = None
    filter_paths: list[str] | None = None


class SearchScreen(ModalScreen[SearchResult | None]):
    BINDINGS = bindings(SEARCH)

    def __init__(
        self, merged: Merged, k: int, query: str = "", ghosts: bool = True, packages: PackageIndex | None = None
    ) -> None:
        super().__init__()
        self.merged = merged
        self.k = k
        self.packages = packages  # for pkg:NAME, once the app has read them
        self.ghosts = ghosts  # find paths lower layers deleted whose bytes still ship
        self.query_text = query
        self.matches: list[str] = []
        self.total = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="search-box"):
            yield Input(
                value=self.query_text,
                placeholder=PLACEHOLDER_PKG if self.packages is not None and self.packages.any else PLACEHOLDER,
                id="search-input",
            )
            yield Static("", id="search-count")
            yield Results(id="search-results")
        yield KeyBar()  # the hint goes as the user types: Ctrl+F stays named here

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        if self.query_text:
            self.run_search(self.query_text)

    def type_ahead(self, character: str) -> None:
        """A letter typed right after ``/``, before this screen was there to take it.

        A quick ``/cred`` reaches the terminal as one burst: Textual hands all
        five keys to the main screen's focused pane before ``/`` has opened
        this screen, and the letters came back to the app with nowhere to go.
        """
        if self.is_mounted:
            self.query_one(Input).insert_text_at_cursor(character)
        else:
            self.query_text += character  # the box starts with it

    @on(Input.Changed, "#search-input")
    def _changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        if event.value.strip():
            self.run_search(event.value)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def run_search(self, query: str) -> None:
        """The first matches at once, then the count (the slow part, on 500k paths)."""
        worker = get_current_worker()
        stop = partial(_stop, worker)
        try:
            found, _ = search(self.merged, self.k, query, SHOW, stop, self.ghosts, count=False, packages=self.packages)
        except ValueError as exc:
            self.app.call_from_thread(self._error, str(exc))
            return
        if worker.is_cancelled:
            return
        self.app.call_from_thread(self._show, query, found)
        total, deleted = count_matches(self.merged, self.k, query, stop, self.ghosts, self.packages)
        if not worker.is_cancelled and total >= 0:
            self.app.call_from_thread(self._counted, query, len(found), total, deleted)

    def _error(self, msg: str) -> None:
        self.query_one("#search-count", Static).update(literal.text(msg, style="red"), layout=False)

    def _show(self, query: str, found: list[Entry | Deletion]) -> None:
        if query != self.query_text:
            return
        results = self.query_one("#search-results", OptionList)
        results.clear_options()
        self.matches = [n.path for n in found]
        results.add_options([Option(node_label(n, self.k, name=n.path), id=str(i)) for i, n in enumerate(found)])
        counting = Text(f"Counting matches as of L{self.k}…", style="dim")
        self.query_one("#search-count", Static).update(counting, layout=False)

    def _counted(self, query: str, shown: int, total: int, deleted: int) -> None:
        if query != self.query_text:
            return
        self.total = total
        more = f" (showing {shown})" if total > shown else ""
        count = Text(f"{plural(total, 'matching path')} as of L{self.k}{more}", style="bold")
        if deleted:
            count.append(f"  {deleted} deleted, still shipping in lower layers", style="red")
        self.query_one("#search-count", Static).update(count, layout=False)

    @on(Input.Submitted, "#search-input")
    def _submitted(self) -> None:
        if self.matches:
            self.dismiss(SearchResult(self.query_text, jump_to=self.matches[0]))

    @on(OptionList.OptionSelected, "#search-results")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        idx = int(event.option.id or 0)
        self.dismiss(SearchResult(self.query_text, jump_to=self.matches[idx]))

    def action_focus_results(self) -> None:
        """↓ from the query: into the list, on its first match (not on nothing)."""
        results = self.query_one("#search-results", OptionList)
        results.focus()
        if results.highlighted is None and results.option_count:
            results.highlighted = 0

    def action_filter(self) -> None:
        if self.query_text.strip():
            self.query_one("#search-count", Static).update(Text("Filtering…", style="yellow"), layout=False)
            self.run_filter(self.query_text)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def run_filter(self, query: str) -> None:
        """Every match (not just the first SHOW), off the UI thread: 500k paths take a while."""
        worker = get_current_worker()
        try:
            found, _ = search(
                self.merged,
                self.k,
                query,
                limit=10**9,
                cancelled=partial(_stop, worker),
                ghosts=self.ghosts,
                packages=self.packages,
            )
        except ValueError:
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self.dismiss, SearchResult(query, filter_paths=[n.path for n in found]))

    def action_cancel(self) -> None:
        self.dismiss(None)
