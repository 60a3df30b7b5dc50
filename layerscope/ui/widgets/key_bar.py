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

    def __init__(self, *, id: str | None = None, keep: tuple[str, ...] = ()) -> None:
        super().__init__(id=id)
        # actions that go last when the line is too narrow, the first last of all; help always stays
        self._keep = ("help", *keep)
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
        items: list[tuple[Text, str, str]] = []  # (the key's text, key, action)
        seen: set[str] = set()
        palette: tuple[str, str, str] | None = None  # (key, display, description)
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if app.ENABLE_COMMAND_PALETTE and binding.key == app.COMMAND_PALETTE_BINDING:
                palette = (binding.key, app.get_key_display(binding), binding.description)
                continue
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            item = Text.assemble(
                (f" {app.get_key_display(binding)} ", key_style), (f"{binding.description} ", desc_style)
            )
            if not enabled:
                item.stylize("dim")
            items.append((item, binding.key, binding.action))
        width = self.size.width
        right = Text()
        if palette is not None and width:
            right = Text.assemble(("▏", self.get_component_rich_style("key-bar--palette")))
            right.append(f"{palette[1]} ", key_style)
            right.append(f"{palette[2]} ", desc_style)
        if width:
            # Whole keys only, never one cut mid-word: the keys not in ``keep``
            # go first (the last first), then those of ``keep`` (the last first);
            # help (?) stays, and if even it does not fit, the palette goes.
            keep = width - right.cell_len

            def rank(i: int) -> tuple[int, int]:
                action = items[i][2]
                return (self._keep.index(action) if action in self._keep else len(self._keep), i)

            while sum(t.cell_len for t, _k, _a in items) > keep:
                droppable = [i for i, (_t, _k, action) in enumerate(items) if action != "help"]
                if not droppable:
                    break
                del items[max(droppable, key=rank)]
            if sum(t.cell_len for t, _k, _a in items) > keep:
                right, keep = Text(), width
        line = Text(no_wrap=True, overflow="crop")
        spans: list[tuple[int, int, str]] = []
        for item, key, _action in items:
            start = len(line)
            line.append_text(item)
            spans.append((start, len(line), key))
        if right and palette is not None:
            line.append(" " * max(0, width - right.cell_len - line.cell_len))
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
