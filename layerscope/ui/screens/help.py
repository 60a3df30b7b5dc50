"""The `?` screen: every key, generated from the same table as the bindings."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from .. import literal
from ..keys import KEYS, NAV_KEYS

LEGEND = [
    ("green", "added", "new path in this layer"),
    ("yellow", "modified", "content or link target changed, or type changed"),
    ("magenta", "metadata", "same bytes, new mode/owner/xattrs: a full copy for a permission bit"),
    ("cyan", "rewritten", "identical bytes and metadata written again"),
    ("red strike", "deleted", "removed by this layer (whiteout, opaque dir or type change)"),
    ("dim strike", "ghost", "removed by a lower layer, its bytes still ship (X hides ghosts)"),
    ("dim", "L3", "the layer that supplies the path"),
]


def help_table() -> Table:
    t = Table(show_header=True, header_style="bold", box=None, padding=(0, 2))
    t.add_column("Key", style="bold cyan", no_wrap=True)
    t.add_column("Action")
    for disp, desc in [(disp, desc) for _key, disp, _action, desc, _show in KEYS] + NAV_KEYS:
        t.add_row(literal.text(disp), literal.text(desc))  # `[` and `]` are keys, not markup
    return t


def legend() -> Text:
    out = Text("\nColours\n", style="bold")
    for style, name, desc in LEGEND:
        out.append(f"  {name:<10}", style=style)
        out.append(f" {desc}\n")
    return out


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as vs:
            vs.border_title = "layerscope keys"
            yield Static(help_table())
            yield Static(legend())

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
