"""The layer stack: one row per layer, base at the top, empty history between.

Empty history entries (ENV, CMD, LABEL…) appear where they happened but are
disabled options, so the cursor skips them: they belong to no layer.
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ...model import Image, Layer
from ..format import human_size, short_command, short_count


def layer_prompt(layer: Layer, loaded: bool) -> Text:
    c = layer.counts
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(f"L{layer.index:<3}", style="bold")
    size = layer.size_bytes if loaded else layer.compressed_bytes
    t.append(f"{human_size(size):>9} ", style="cyan" if loaded else "dim")
    if layer.error:
        t.append("DAMAGED ", style="bold red reverse")
    columns = (
        ("+", c.added, "green"),
        ("~", c.modified + c.type_changed, "yellow"),
        ("m", c.metadata, "magenta"),
        ("=", c.rewritten, "cyan"),
        ("-", c.deleted, "red"),
    )
    if loaded:
        for sign, n, style in columns:
            t.append(f"{sign}{short_count(n):<4} ", style=style)
    else:
        t.append("…".ljust(6 * len(columns)), style="dim")
    t.append(short_command(layer.command) or "(no history)")
    return t


class LayerStack(OptionList):
    """Selecting (highlighting) a layer re-roots the rest of the screen at it."""

    class LayerChosen(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.image: Image | None = None
        self.loaded = False

    def show_image(self, image: Image, loaded: bool) -> None:
        keep = self.highlighted_layer
        self.image = image
        self.loaded = loaded
        options: list[Option] = []
        mapped: set[int] = set()
        for n, h in enumerate(image.history):
            if h.layer is None or h.layer >= len(image.layers):
                t = Text(no_wrap=True, overflow="ellipsis")
                t.append("     ·    ", style="dim")
                t.append(short_command(h.created_by) or "(empty step)", style="dim italic")
                options.append(Option(t, id=f"h{n}", disabled=True))
            else:
                mapped.add(h.layer)
                options.append(Option(layer_prompt(image.layers[h.layer], loaded), id=f"L{h.layer}"))
        for layer in image.layers:  # layers the history does not account for
            if layer.index not in mapped:
                options.append(Option(layer_prompt(layer, loaded), id=f"L{layer.index}"))
        self.clear_options()
        self.add_options(options)
        target = keep if keep is not None else len(image.layers) - 1
        if image.layers:
            self.select_layer(target, notify=False)

    @property
    def highlighted_layer(self) -> int | None:
        if self.highlighted is None or not self.option_count:
            return None
        opt = self.get_option_at_index(self.highlighted)
        return int(opt.id[1:]) if opt.id and opt.id.startswith("L") else None

    def select_layer(self, index: int, notify: bool = True) -> None:
        try:
            pos = self.get_option_index(f"L{index}")
        except Exception:
            return
        if not notify:
            with self.prevent(OptionList.OptionHighlighted):
                self.highlighted = pos
        else:
            self.highlighted = pos
        self.scroll_to_highlight()

    def _step(self, direction: int) -> None:
        # No wrap-around: past the top layer is not the base layer.
        i = (self.highlighted if self.highlighted is not None else -1) + direction
        while 0 <= i < self.option_count:
            if not self.get_option_at_index(i).disabled:
                self.highlighted = i
                return
            i += direction

    def action_cursor_up(self) -> None:
        self._step(-1)

    def action_cursor_down(self) -> None:
        self._step(1)

    def _on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        idx = self.highlighted_layer
        if idx is not None:
            self.post_message(self.LayerChosen(idx))
