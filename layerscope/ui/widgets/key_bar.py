"""The bottom line of keys: what the focused pane and the screen answer to.

Textual's ``Footer`` rebuilds one widget per key whenever the bindings change,
which is on every focus change and every pushed or popped screen: ~50 ms of
a focus change on a big image, measured (``benchmarks/ui.py``). This bar is
one line of text rebuilt from the same bindings, with the command palette's
key on the right; a click on a key presses it, as on Textual's footer.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widgets import Static


class KeyBar(Static, can_focus=False):
    """One line: ``key description`` for each shown binding, the palette key at the right."""

    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--palette"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
        .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .key-bar--palette {
            color: $foreground 20%;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # (first column, last column, key) of each key on the line, for clicks
        self._spans: list[tuple[int, int, str]] = []
        self._line = Text()

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._show()

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self._show()

    def on_resize(self, event: events.Resize) -> None:
        self._show()

    def _show(self) -> None:
        if not self.is_attached:
            return
        key_style = self.get_component_rich_style("key-bar--key")
        desc_style = self.get_component_rich_style("key-bar--description")
        app = self.app
        line = Text(no_wrap=True, overflow="crop")
        spans: list[tuple[int, int, str]] = []
        seen: set[str] = set()
        palette: tuple[str, str, str] | None = None  # (key, display, description)
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if app.ENABLE_COMMAND_PALETTE and binding.key == app.COMMAND_PALETTE_BINDING:
                palette = (binding.key, app.get_key_display(binding), binding.description)
                continue
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            start = len(line)
            line.append(f" {app.get_key_display(binding)} ", key_style)
            line.append(f"{binding.description} ", desc_style)
            if not enabled:
                line.stylize("dim", start)
            spans.append((start, len(line), binding.key))
        width = self.size.width
        if palette is not None and width:
            right = Text.assemble(("▏", self.get_component_rich_style("key-bar--palette")))
            right.append(f"{palette[1]} ", key_style)
            right.append(f"{palette[2]} ", desc_style)
            keep = max(0, width - len(right))
            if len(line) > keep:
                line.truncate(keep)
                spans = [s for s in spans if s[1] <= keep]
            line.append(" " * (keep - len(line)))
            spans.append((len(line), len(line) + len(right), palette[0]))
            line.append_text(right)
        self._spans = spans
        if line != self._line:
            self._line = line
            # one line of fixed size: a repaint, never a re-layout of the screen (~45 ms at 500k)
            self.update(line, layout=False)

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return
