"""A scrolling pane of Rich renderables that draws its own lines.

Textual sizes a ``Static`` by its content: each new text re-lays out the
screen, and a long one (the help, the image's config) is turned from Rich
segments into lines again on every refresh. This pane has the size the
stylesheet gives it; its renderables are drawn once for its width, and a new
text changes only the scrollable extent (``SteadyScroll``), so the pane
repaints and nothing else moves.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .steady import SteadyScroll


class LinesPane(SteadyScroll, ScrollView, can_focus=True):
    """Renderables one below the other, with a blank line between them."""

    # lines are drawn for the width left of the scrollbar: it must not come and go
    DEFAULT_CSS = """
    LinesPane {
        scrollbar-gutter: stable;
    }
    """

    def __init__(self, *parts: RenderableType, id: str | None = None) -> None:
        super().__init__(id=id)
        self._parts: tuple[RenderableType, ...] = parts
        self._lines: list[Strip] = []
        # id(part) -> (part, (width, style), its lines)
        self._kept: dict[int, tuple[RenderableType, tuple[int, Style], list[Strip]]] = {}

    def show(self, *parts: RenderableType) -> None:
        self._parts = parts
        self._draw()

    @property
    def text(self) -> str:
        """What the pane shows (all of it, not only the part in view), as plain text."""
        return "\n".join(line.text.rstrip() for line in self._lines)

    def _draw(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0:
            return  # not laid out yet: on_resize draws
        style = self.rich_style
        # each part's lines are kept for its width: a new layer's details leave
        # the image's (its whole config) as they were drawn
        kept, self._kept = self._kept, {}
        lines: list[Strip] = []
        for n, part in enumerate(self._parts):
            if n:
                lines.append(Strip.blank(width, style))
            old = kept.get(id(part))
            if old is not None and old[0] is part and old[1] == (width, style):
                strips = old[2]
            else:
                console = self.app.console
                options = console.options.update(width=width, height=None, highlight=False)
                strips = [Strip(line, width) for line in console.render_lines(part, options, style=style)]
            self._kept[id(part)] = (part, (width, style), strips)
            lines.extend(strips)
        self._lines = lines
        self.virtual_size = Size(width, len(lines))
        self.refresh()

    def on_resize(self) -> None:
        self._draw()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._draw()  # the lines carry the pane's colours

    def render_line(self, y: int) -> Strip:
        x, top = self.scroll_offset
        width = self.scrollable_content_region.width
        if 0 <= top + y < len(self._lines):
            return self._lines[top + y].crop(x, x + width)
        return Strip.blank(width, self.rich_style)
