"""Scrolling panes whose growing or shrinking content does not re-lay out the screen.

Textual declares ``virtual_size`` (the scrollable extent) as a reactive that
re-lays out the whole screen when it changes, as it must for a widget sized
by its content. The tree, the versions table and the layer stack are sized by
the stylesheet (``1fr``): when a directory opens, a cursor move refills the
versions, or the layer stack's highlighted row unfolds its command, only
their scrollbars change. A screen layout and the full redraw that follows
cost 30–60 ms at 160×48 on a big image (measured with ``benchmarks/ui.py``),
on the keys pressed most.

``SteadyScroll`` keeps that reactive from re-laying out the screen: it
updates the scrollbars and repaints the widget. A scrollbar that appears
still re-lays out the screen (``show_vertical_scrollbar`` is a layout
reactive), once: it then stays, even when the content fits again. A widget
whose height or width is ``auto`` is laid out as before.
The scrollbars are updated through their public reactives, as Textual's own
layout updates them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.geometry import Size
from textual.reactive import Reactive

if TYPE_CHECKING:
    from textual.scroll_view import ScrollView as _Mixed
else:
    # A plain mixin at run time: Textual takes a widget's CSS, bindings and
    # component classes from its first base that is a widget, so a widget
    # base here would cut FileTree off from Tree's stylesheet.
    _Mixed = object


class SteadyScroll(_Mixed):
    """Mix in first, before a ScrollView whose outer box never depends on its content."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self) -> None:
        height, width = self.styles.height, self.styles.width
        sized_by_content = height is None or height.is_auto or (width is not None and width.is_auto)
        if not self.is_mounted or not self.container_size or sized_by_content:
            self.refresh(layout=True)
            return
        self._show_scrollbars()  # a scrollbar that comes or goes re-lays out (a layout reactive)
        self._update_scrollbars()
        # A scrollbar, once needed, stays: a tree whose widest visible name
        # crosses the pane's width on each move would otherwise re-lay out the
        # screen twice per key, and its lines would jump by one row.
        styles = self.styles
        if self.show_horizontal_scrollbar and styles.overflow_x == "auto":
            styles.overflow_x = "scroll"
        if self.show_vertical_scrollbar and styles.overflow_y == "auto":
            styles.overflow_y = "scroll"
        self.refresh()

    def _show_scrollbars(self) -> None:
        """Show the scrollbars the new extent needs (the rule Textual's layout applies)."""
        styles = self.styles
        width, height = self.container_size
        size = self.virtual_size

        def shown(overflow: str, needed: bool) -> bool:
            return overflow == "scroll" or (overflow == "auto" and needed)

        horizontal = shown(styles.overflow_x, size.width > width)
        vertical = shown(styles.overflow_y, size.height > height)
        if styles.overflow_x == "auto" and vertical and not horizontal:
            horizontal = size.width > width - styles.scrollbar_size_vertical
        if styles.overflow_y == "auto" and horizontal and not vertical:
            vertical = size.height > height - styles.scrollbar_size_horizontal
        if horizontal != self.show_horizontal_scrollbar:
            self.show_horizontal_scrollbar = horizontal
            self.horizontal_scrollbar.display = horizontal
        if vertical != self.show_vertical_scrollbar:
            self.show_vertical_scrollbar = vertical
            self.vertical_scrollbar.display = vertical

    def _update_scrollbars(self) -> None:
        """The scrollbars' extent and the scroll offset for the new ``virtual_size``, nothing re-laid out."""
        width, height = self.container_size
        size = self.virtual_size
        if self.show_vertical_scrollbar and self.styles.scrollbar_size_vertical:
            bar = self.vertical_scrollbar
            bar.window_virtual_size = size.height
            bar.window_size = height - self.scrollbar_size_horizontal
            bar.refresh()
        if self.show_horizontal_scrollbar and self.styles.scrollbar_size_horizontal:
            bar = self.horizontal_scrollbar
            bar.window_virtual_size = size.width
            bar.window_size = width - self.scrollbar_size_vertical
            bar.refresh()
        self.scroll_x = self.validate_scroll_x(self.scroll_x)
        self.scroll_y = self.validate_scroll_y(self.scroll_y)
