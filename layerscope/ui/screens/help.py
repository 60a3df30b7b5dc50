"""The `?` screen: every key of every screen, from the same tables as the bindings (``keys``)."""

from __future__ import annotations

from functools import cache

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.screen import ModalScreen

from .. import literal
from ..drawn import Drawn
from ..keys import GROUPS, HELP, Key, bindings
from ..palette import CLASS_MARK, CLASS_STYLE, LEGEND
from ..widgets.lines import LinesPane


def help_table(title: str, keys: list[Key]) -> Table:
    """One screen's (or pane's) keys, under its title, as README's keys table lists them."""
    t = Table(show_header=False, box=None, padding=(0, 2, 0, 0), title=title)
    t.title_justify = "left"
    t.title_style = "bold"
    t.add_column("Key", style="bold cyan", no_wrap=True)
    t.add_column("Action")
    for k in keys:
        t.add_row(literal.text(k.display), literal.text(k.description))  # `[` and `]` are keys, not markup
    return t


def legend() -> Table:
    """Symbol, colour and meaning of each change class: the symbols read without colour."""
    t = Table(box=None, padding=(0, 1), show_header=False, title="Changes (tree, versions, layer counts)")
    t.title_justify = "left"
    t.title_style = "bold"
    t.add_column(no_wrap=True)
    t.add_column(no_wrap=True)
    t.add_column()
    for cls, name, desc in LEGEND:
        t.add_row(
            Text(CLASS_MARK[cls], style=CLASS_STYLE[cls].replace("strike", "").strip()),
            Text(name, style=CLASS_STYLE[cls]),
            Text(desc),
        )
    t.add_row(
        Text("-", style="dim"),
        Text("ghost", style="dim strike"),
        Text("removed by a lower layer, its bytes still ship (X hides ghosts)"),
    )
    t.add_row(Text("L3", style="dim"), Text(""), Text("the layer that supplies the path"))
    t.add_row(Text("b", style="dim"), Text(""), Text("in the layer stack: a layer of the base image"))
    return t


@cache
def _drawn() -> tuple[Drawn, ...]:
    """The help's tables, drawn once per width for the whole session."""
    return (*(Drawn(help_table(title, keys)) for title, keys in GROUPS), Drawn(legend()))


class HelpScreen(ModalScreen[None]):
    BINDINGS = bindings(HELP)

    def compose(self) -> ComposeResult:
        # one pane drawing its own lines: as two Statics in a scrolling
        # container the help took three layouts and ~80 ms to open (measured)
        pane = LinesPane(*_drawn(), id="help-box")
        pane.border_title = "layerscope keys"
        yield pane

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
