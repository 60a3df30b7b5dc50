"""A tree that draws its own lines: rows, a cursor and expansion, on Textual's line API.

Textual's ``Tree`` keeps its nodes, their lines and its caches in private
attributes; a tree that adds rows a page at a time, opens directories
without telling anyone and must not re-lay out the screen had to write them.
This widget owns all of that instead: a :class:`Row` per loaded node, the
list of visible rows built lazily (only when a row was added, opened or
closed, and only on the next frame or access), and one cached strip per
drawn line, re-drawn only when a row on its path changed. It is a
``ScrollView`` with ``render_line(y)``, as Textualize's toolong draws its logs.

It draws what Textual's ``Tree`` draws (the same guides, icons, component
classes and styles, so screens look the same) and holds no rules: what a row
says is its label or, in a subclass, ``render_label``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, Generic, TypeVar

from rich.segment import Segment
from rich.style import NULL_STYLE, Style
from rich.text import Text
from textual import events
from textual.geometry import Region, Size, clamp
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .steady import SteadyScroll

T = TypeVar("T")

TOGGLE_STYLE = Style.from_meta({"toggle": True})  # a click on the icon opens or closes the row
GUIDES = {"default": ("  ", "│ ", "└─", "├─"), "bold": ("  ", "┃ ", "┗━", "┣━"), "double": ("  ", "║ ", "╚═", "╠═")}


class Row(Generic[T]):
    """One node of the tree: its data, label, children and whether it is open."""

    __slots__ = ("tree", "parent", "id", "label", "data", "children", "allow_expand", "is_expanded", "line", "updates")

    def __init__(self, tree: DrawnTree[T], parent: Row[T] | None, id: int, label: Text, data: T) -> None:
        self.tree = tree
        self.parent = parent
        self.id = id  # the tree's own number for the row (a drawn line's ``node`` meta)
        self.label = label
        self.data = data
        self.children: list[Row[T]] = []
        self.allow_expand = False
        self.is_expanded = False
        self.line = -1  # its line when last shown (kept when hidden, as Textual's tree does)
        self.updates = 0  # bumped on any change to how it or the rows below it draw

    @property
    def depth(self) -> int:
        d, node = 0, self.parent
        while node is not None:
            d, node = d + 1, node.parent
        return d

    @property
    def is_last(self) -> bool:
        return self.parent is None or self.parent.children[-1] is self

    @property
    def next_sibling(self) -> Row[T] | None:
        if self.parent is None:
            return None
        kids = self.parent.children
        i = kids.index(self) + 1
        return kids[i] if i < len(kids) else None

    @property
    def previous_sibling(self) -> Row[T] | None:
        if self.parent is None:
            return None
        kids = self.parent.children
        i = kids.index(self)
        return kids[i - 1] if i else None

    def path(self) -> list[Row[T]]:
        """The rows from the root down to this one."""
        out: list[Row[T]] = []
        node: Row[T] | None = self
        while node is not None:
            out.append(node)
            node = node.parent
        out.reverse()
        return out

    def expand(self) -> None:
        """Open the row as the user does (the tree's ``row_expanded`` is told)."""
        self.is_expanded = True
        self.updates += 1
        self.tree.row_expanded(self)
        self.tree.invalidate()

    def collapse(self) -> None:
        """Close the row as the user does (the tree's ``row_collapsed`` is told)."""
        self.is_expanded = False
        self.updates += 1
        self.tree.row_collapsed(self)
        self.tree.invalidate()

    def set_label(self, label: Text) -> None:
        self.label = label
        self.updates += 1
        self.tree.refresh_row(self)

    def remove(self) -> None:
        assert self.parent is not None, "the root stays"
        self.parent.children.remove(self)
        self.tree.invalidate()


class DrawnTree(SteadyScroll, ScrollView, Generic[T], can_focus=True):
    """Rows below a root, one line each, with guides, a cursor and expansion."""

    ICON_NODE = "▶ "
    ICON_NODE_EXPANDED = "▼ "

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "tree--cursor",
        "tree--guides",
        "tree--guides-hover",
        "tree--guides-selected",
        "tree--highlight",
        "tree--highlight-line",
        "tree--label",
    }

    # Textual's Tree's look, so the pane looks as it did.
    DEFAULT_CSS = """
    DrawnTree {
        background: $surface;
        color: $foreground;

        & > .tree--label {}
        & > .tree--guides { color: $surface-lighten-2; }
        & > .tree--guides-hover { color: $surface-lighten-2; }
        & > .tree--guides-selected { color: $block-cursor-blurred-background; }
        & > .tree--cursor {
            text-style: $block-cursor-blurred-text-style;
            background: $block-cursor-blurred-background;
        }
        & > .tree--highlight {}
        & > .tree--highlight-line { background: $block-hover-background; }

        &:focus {
            background-tint: $foreground 5%;
            & > .tree--cursor {
                color: $block-cursor-foreground;
                background: $block-cursor-background;
                text-style: $block-cursor-text-style;
            }
            & > .tree--guides { color: $surface-lighten-3; }
            & > .tree--guides-hover { color: $surface-lighten-3; }
            & > .tree--guides-selected { color: $block-cursor-background; }
        }

        &:light {
            & > .tree--guides { color: $surface-darken-1; }
            & > .tree--guides-hover { color: $block-cursor-background; }
            & > .tree--guides-selected { color: $block-cursor-background; }
        }
    }
    DrawnTree:ansi {
        color: ansi_default;
        & > .tree--guides { color: $ansi-background; }
        &:nocolor > .tree--cursor { text-style: reverse; }
    }
    """

    def __init__(self, label: Text, data: T, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.guide_depth = 2
        self._next_id = 0
        self.root: Row[T] = self._new_row(None, label, data)
        self.root.allow_expand = True
        self._lines: list[Row[T]] | None = None
        self._cursor_line = -1
        self._cursor: Row[T] | None = None
        self._hover_line = -1
        self._hover: Row[T] | None = None
        self._generation = 0  # bumped on every change that may redraw any line
        self._strips: dict[int, tuple[object, Strip]] = {}  # line -> (what it was drawn for, strip)

    # -- rows ---------------------------------------------------------------------
    def _new_row(self, parent: Row[T] | None, label: Text, data: T) -> Row[T]:
        row = Row(self, parent, self._next_id, label, data)
        self._next_id += 1
        return row

    def clear(self) -> None:
        """A new root, with the old one's label, data and state, and no rows below it."""
        old = self.root
        self._next_id = 0
        self.root = self._new_row(None, old.label, old.data)
        self.root.allow_expand, self.root.is_expanded = old.allow_expand, old.is_expanded
        self._cursor = self._hover = None
        self.invalidate()

    def add_row(self, parent: Row[T], label: Text, data: T, allow_expand: bool) -> Row[T]:
        """Append a row under ``parent`` without redrawing (call ``invalidate`` once after a batch)."""
        row = self._new_row(parent, label, data)
        row.allow_expand = allow_expand
        parent.children.append(row)
        return row

    def invalidate(self) -> None:
        """Rows were added, opened or closed: the visible rows are listed again when next needed.

        No ``layout=True``: the pane's size comes from the stylesheet; the
        rows' number and width reach the scrollbars through ``virtual_size``.
        """
        self._lines = None
        self._generation += 1
        self._strips.clear()
        self.refresh()

    def relist(self) -> None:
        """List the visible rows again when next needed (their widths are summed again), and nothing else."""
        self._lines = None

    def redraw(self) -> None:
        """Every line drawn again (the rows are the same, what they say changed)."""
        self._generation += 1
        self._strips.clear()
        self.refresh()

    @property
    def lines(self) -> list[Row[T]]:
        """The visible rows, top to bottom (built now if rows changed since)."""
        if self._lines is None:
            self._build()
        assert self._lines is not None
        return self._lines

    def _build(self) -> None:
        lines: list[Row[T]] = []
        depths: list[int] = []
        stack = [(self.root, 0)]
        while stack:
            row, d = stack.pop()
            row.line = len(lines)
            lines.append(row)
            depths.append(d)
            if row.is_expanded:
                stack.extend((child, d + 1) for child in reversed(row.children))
        self._lines = lines  # before the widths: a subclass measures its columns over these rows
        gd = self.guide_depth
        width = self.get_label_width
        self.virtual_size = Size(max(width(r) + d * gd for r, d in zip(lines, depths)), len(lines))
        if self._cursor_line != -1:
            # the cursor stays on its row; on its old line if that row is gone
            line = self._cursor.line if self._cursor is not None else self._cursor_line
            self._set_cursor(line if line < len(lines) else 0)

    def on_idle(self) -> None:
        _ = self.lines  # listed while nothing else runs, not in the next key's frame

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.redraw()

    def on_focus(self) -> None:
        self.redraw()

    def on_blur(self) -> None:
        self.redraw()

    def on_resize(self) -> None:
        self.invalidate()

    # -- what a row says (a subclass decides) ----------------------------------------------
    def render_label(self, row: Row[T], base_style: Style, style: Style) -> Text:
        label = row.label.copy()
        label.stylize(style)
        if row.allow_expand:
            icon = self.ICON_NODE_EXPANDED if row.is_expanded else self.ICON_NODE
            prefix = (icon, base_style + TOGGLE_STYLE)
        else:
            prefix = ("", base_style)
        return Text.assemble(prefix, label)

    def get_label_width(self, row: Row[T]) -> int:
        return self.render_label(row, NULL_STYLE, NULL_STYLE).cell_len

    def row_expanded(self, row: Row[T]) -> None:
        """The user opened ``row`` (its flag is already set)."""

    def row_collapsed(self, row: Row[T]) -> None:
        """The user closed ``row``."""

    def row_highlighted(self, row: Row[T]) -> None:
        """The cursor moved to another row."""

    def row_selected(self, row: Row[T]) -> None:
        """Enter (or a click) on ``row``."""

    # -- the cursor ---------------------------------------------------------------------
    @property
    def cursor_line(self) -> int:
        return self._cursor_line

    @cursor_line.setter
    def cursor_line(self, line: int) -> None:
        self._set_cursor(line)

    @property
    def cursor_node(self) -> Row[T] | None:
        return self._cursor

    @property
    def last_line(self) -> int:
        return len(self.lines) - 1

    def _set_cursor(self, line: int) -> None:
        lines = self.lines
        line = clamp(line, 0, len(lines) - 1)
        previous = self._cursor_line
        before = lines[previous] if 0 <= previous < len(lines) else None
        row = lines[line] if 0 <= line < len(lines) else None
        old, self._cursor = self._cursor, row
        self._cursor_line = line
        for r in (old, before, row):
            if r is not None:
                r.updates += 1
        if previous == line:
            return
        for r in (before, row):
            if r is not None:
                self.refresh_row(r)
        if row is not None and before is not row:
            self.row_highlighted(row)

    def move_cursor(self, row: Row[T] | None, animate: bool = False) -> None:
        previous = self._cursor_line
        self._set_cursor(-1 if row is None else row.line)
        if row is not None and self._cursor is not None:
            self.scroll_to_node(self._cursor, animate=animate and abs(self._cursor_line - previous) > 1)

    def scroll_to_line(self, line: int, animate: bool = True) -> None:
        lines = self.lines
        if not 0 <= line < len(lines):
            return
        row = lines[line]
        region = Region(row.depth * self.guide_depth, line, self.get_label_width(row), 1)
        self.scroll_to_region(region, animate=animate, force=True, origin_visible=False, x_axis=False)

    def scroll_to_node(self, row: Row[T], animate: bool = True) -> None:
        if row.line != -1:
            self.scroll_to_line(row.line, animate=animate)

    def refresh_row(self, row: Row[T]) -> None:
        """Repaint the visible lines drawn with ``row`` on their path (its own and its rows' guides)."""
        if self._lines is None:
            return
        top = self.scroll_offset.y
        for y, line in enumerate(self._lines[top : top + self.size.height], top):
            node: Row[T] | None = line
            while node is not None and node is not row:
                node = node.parent
            if node is not None:
                self.refresh_line(y)

    # -- drawing -----------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        x, top = self.scroll_offset
        return self._draw(y + top, width).crop(x, x + width)

    def _draw(self, y: int, width: int) -> Strip:
        lines = self.lines
        base_style = self.rich_style
        if y >= len(lines):
            return Strip.blank(width, base_style)
        row = lines[y]
        path = row.path()
        hovered = self._hover is not None and self._hover_line >= 0 and self._hover in path
        key = (row, hovered, width, self._generation, self.has_focus, tuple(n.updates for n in path))
        kept = self._strips.get(y)
        if kept is not None and kept[0] == key:
            return kept[1]
        strip = Strip(list(self._line_text(y, path, hovered, base_style).render(self.app.console)))
        pad = max(self.virtual_size.width, width) - strip.cell_length
        if pad:
            line_style = self._line_style(y, hovered, base_style)
            strip = Strip([*strip, Segment(" " * pad, line_style)])
        self._strips[y] = (key, strip)
        return strip

    def _line_style(self, y: int, hovered: bool, base_style: Style) -> Style:
        style = self.get_component_rich_style("tree--highlight-line") if hovered else base_style
        return style + Style(meta={"line": y})

    def _guides(self, style: Style, hidden: bool) -> tuple[str, str, str, str]:
        chars = GUIDES["bold" if style.bold else "double" if style.underline2 else "default"]
        if hidden:
            chars = ("  ", "  ", "  ", "  ")
        extra = max(0, self.guide_depth - 2)
        return tuple(f"{c[0]}{c[1] * extra} " for c in chars)  # type: ignore[return-value]

    def _line_text(self, y: int, path: list[Row[T]], hovered: bool, base_style: Style) -> Text:
        """The guides and the label of line ``y``, styled as Textual's tree styles them."""
        styles = self.get_component_styles
        base_hidden = styles("tree--guides").color.a == 0
        hover_hidden = styles("tree--guides-hover").color.a == 0
        selected_hidden = styles("tree--guides-selected").color.a == 0
        base_guide = self.get_component_rich_style("tree--guides", partial=True)
        hover_guide = base_guide + self.get_component_rich_style("tree--guides-hover", partial=True)
        selected_guide = base_guide + self.get_component_rich_style("tree--guides-selected", partial=True)
        focused = self.has_focus
        hover = path[0] is self._hover
        selected = path[0] is self._cursor and focused
        line_style = self._line_style(y, hovered, base_style)
        text = Text(style=line_style)
        guide_style = base_guide
        hidden = True
        last = path[-1]
        for node in path[1:]:
            hidden = base_hidden
            if hover:
                guide_style, hidden = hover_guide, hover_hidden
            if selected:
                guide_style, hidden = selected_guide, selected_hidden
            space, vertical, _, _ = self._guides(guide_style, hidden)
            if node is not last:
                text.append(space if node.is_last else vertical, style=guide_style)
            hover = hover or node is self._hover
            selected = (selected or node is self._cursor) and focused
        if len(path) > 1:
            _, _, terminator, cross = self._guides(guide_style, hidden)
            text.append(terminator if last.is_last else cross, style=guide_style)
        label_style = self.get_component_rich_style("tree--label", partial=True)
        if self._hover_line == y:
            label_style += self.get_component_rich_style("tree--highlight", partial=True)
        if self._cursor_line == y:
            label_style += self.get_component_rich_style("tree--cursor", partial=False)
        label = self.render_label(last, line_style, label_style).copy()
        label.stylize(Style(meta={"node": last.id}))
        text.append(label)
        return text

    # -- the mouse ---------------------------------------------------------------------
    def _set_hover(self, line: int) -> None:
        if line == self._hover_line:
            return
        lines = self.lines
        for row in (self._hover, lines[line] if 0 <= line < len(lines) else None):
            if row is not None:
                row.updates += 1
                self.refresh_row(row)
        self._hover_line = line
        self._hover = lines[line] if 0 <= line < len(lines) else None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        meta = event.style.meta
        self._set_hover(meta["line"] if meta and "line" in meta else -1)

    def on_leave(self) -> None:
        self._set_hover(-1)

    def on_click(self, event: events.Click) -> None:
        meta = event.style.meta
        if "line" not in meta:
            return
        line = meta["line"]
        if meta.get("toggle", False):
            lines = self.lines
            if 0 <= line < len(lines):
                self._toggle(lines[line])
        else:
            self.cursor_line = line
            self.action_select_cursor()

    def _toggle(self, row: Row[T]) -> None:
        if row.allow_expand:
            if row.is_expanded:
                row.collapse()
            else:
                row.expand()

    # -- keys ---------------------------------------------------------------------------
    def action_cursor_up(self) -> None:
        self.cursor_line = self.last_line if self._cursor_line == -1 else self._cursor_line - 1
        self.scroll_to_line(self._cursor_line, animate=False)

    def action_cursor_down(self) -> None:
        self.cursor_line = 0 if self._cursor_line == -1 else self._cursor_line + 1
        self.scroll_to_line(self._cursor_line, animate=False)

    def action_page_down(self) -> None:
        if self._cursor_line == -1:
            self.cursor_line = 0
        self.cursor_line = self._cursor_line + self.scrollable_content_region.height - 1
        self.scroll_to_line(self._cursor_line)

    def action_page_up(self) -> None:
        if self._cursor_line == -1:
            self.cursor_line = self.last_line
        self.cursor_line = self._cursor_line - (self.scrollable_content_region.height - 1)
        self.scroll_to_line(self._cursor_line)

    def action_scroll_home(self) -> None:
        self.cursor_line = 0
        self.scroll_to_line(self._cursor_line)

    def action_scroll_end(self) -> None:
        self.cursor_line = self.last_line
        self.scroll_to_line(self._cursor_line)

    def action_toggle_node(self) -> None:
        lines = self.lines
        if 0 <= self._cursor_line < len(lines):
            self._toggle(lines[self._cursor_line])

    def action_select_cursor(self) -> None:
        lines = self.lines
        if 0 <= self._cursor_line < len(lines):
            self.row_selected(lines[self._cursor_line])

    def action_cursor_parent(self) -> None:
        row = self._cursor
        if row is not None and row.parent is not None:
            self.move_cursor(row.parent, animate=True)

    def walk(self) -> Iterator[Row[T]]:
        """Every loaded row, shown or not, depth first."""
        stack = [self.root]
        while stack:
            row = stack.pop()
            yield row
            stack.extend(reversed(row.children))
