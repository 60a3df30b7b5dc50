"""The `?` screen: every key, generated from the same table as the bindings."""

from __future__ import annotations

from functools import cache

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen

from .. import literal
from ..drawn import Drawn
from ..keys import KEYS, NAV_KEYS
from ..palette import CLASS_MARK, CLASS_STYLE, LEGEND
from ..widgets.lines import LinesPane


def help_table() -> Table:
    t = Table(show_header=True, header_style="bold", box=None, padding=(0, 2))
    t.add_column("Key", style="bold cyan", no_wrap=True)
    t.add_column("Action")
    for disp, desc in [(disp, desc) for _key, disp, _action, desc, _show in KEYS] + NAV_KEYS:
        t.add_row(literal.text(disp), literal.text(desc))  # `[` and `]` are keys, not markup
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
def _drawn() -> tuple[Drawn, Drawn]:
    """The help's two tables, drawn once per width for the whole session."""
    return Drawn(help_table()), Drawn(legend())


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        # one pane drawing its own lines: as two Statics in a scrolling
        # container the help took three layouts and ~80 ms to open (measured)
        pane = LinesPane(*_drawn(), id="help-box")
        pane.border_title = "layerscope keys"
        yield pane

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
