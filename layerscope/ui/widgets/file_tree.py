"""The merged tree as of the selected layer, built lazily.

Nodes exist only for expanded directories, added a page at a time: a
directory with 100k children costs one page of rows, not 100k (and a
frame draws only the lines in view, :mod:`.drawn_tree`). Rows are
laid out in columns when drawn (:mod:`..columns`), so a node costs its
path and nothing else until it scrolls into view.

Every automatic expansion (a layer's own view opening to its changes,
expand-all below the cursor, directories remembered across layers) is
bounded by a budget of rows: an image root is never expanded whole.
Only directories the user opened are remembered from layer to layer; those
opened for them (to reveal a search hit, or a layer's changes) are not.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.binding import BindingType
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip

from ...merge import ROOT
from ...model import DIR, Deletion, Entry
from ...snapshot import Snapshot, ViewOptions, Within
from ...textsafe import safe
from .. import columns
from ..format import human_size
from ..keys import KEYS, TREE, bindings
from .drawn_tree import DrawnTree, Row

PAGE = 500
# The key that shows each change class again, from the keys' table: an empty tree's hint.
FILTER_KEYS = tuple(
    (k.action.removeprefix("toggle_filter('").removesuffix("')"), k.display)
    for k in KEYS
    if k.action.startswith("toggle_filter(")
)
AUTO_ROWS = 250  # rows a layer's own view opens to, and remembered directories re-open to
EXPAND_ROWS = 1000  # rows one expand-all below the cursor may add


@dataclass(frozen=True)
class More:
    """A placeholder node: 'N more…' children of ``path`` from ``offset``."""

    path: str
    offset: int


NodeData = str | More
Node = Row[NodeData]


def depth(path: str) -> int:
    """Tree depth of a path's row: ``/a`` is 1, ``/a/b`` is 2."""
    return path.count("/")


def _next_out(node: Node | None) -> Node | None:
    """The row after ``node`` and everything under it: its next sibling, else its parent's…"""
    while node is not None:
        if node.next_sibling is not None:
            return node.next_sibling
        node = node.parent
    return None


class FileTree(DrawnTree[NodeData]):
    """Tree of paths; node.data is the path (or a More placeholder)."""

    BINDINGS: ClassVar[list[BindingType]] = bindings(TREE)

    class PathHighlighted(Message):
        def __init__(self, path: str | None) -> None:
            super().__init__()
            self.path = path

    class PathSelected(Message):
        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

    class VersionsWanted(Message):
        """→ on a file: its versions are what there is to see next."""

        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

    class Truncated(Message):
        """An expansion stopped at its budget of rows."""

        def __init__(self, rows: int) -> None:
            super().__init__()
            self.rows = rows

    def __init__(self, **kw: object) -> None:
        super().__init__(Text("/"), ROOT, **kw)  # type: ignore[arg-type]
        self.snapshot: Snapshot | None = None
        self.opts = ViewOptions()
        self.attrs = False
        # the owner column (``o``): the package name of a path as of a layer, told by the app
        self.package_of: Callable[[str, int], str] | None = None
        self.within: Within | None = None  # a search filter: its matches and their ancestors
        self.matched: list[str] | None = None  # the search filter's own paths
        # (layer, layer view) -> directory -> bytes of the matches below it (``matched_bytes``)
        self.matched_bytes: dict[tuple[int, bool], dict[str, int]] = {}
        self._loaded: set[int] = set()
        self._expanded: set[str] = set()  # directories the user opened: remembered across layers
        self._shown: dict[str, Entry | Deletion] = {}  # loaded rows' nodes, by path
        self._kids: dict[str, list[Entry | Deletion]] = {}
        self._measured: tuple[object, tuple[int, int, int, int, int]] = (None, (0, 0, 3, 0, 0))  # (lines, extents)
        self._lay: tuple[columns.Layout, int] | None = None  # this frame's columns
        self._lay_for: object = None  # the tree lines they were measured for
        self._package_w: tuple[object, int, int] = (None, -1, 0)  # (lines, layer, the widest package name)
        self._pane_w = 0

    # -- building ----------------------------------------------------------
    def show(self, snapshot: Snapshot, keep_path: str | None = None) -> None:
        """Re-root at a snapshot, keeping the directories the user opened and the cursor."""
        self.snapshot = snapshot
        cursor = keep_path if keep_path is not None else self.current_path
        self.clear()
        self._loaded.clear()
        self._shown.clear()
        self._kids.clear()
        self.root.data = ROOT
        self.root.set_label(self._root_label())
        self._populate(self.root)
        if not self.root.children and self.opts.hidden:
            # an empty tree is no bug: say which keys brought it there
            keys = " ".join(key for cls, key in FILTER_KEYS if cls in self.opts.hidden)
            # the keys that show them again, short enough for the pane at 80 columns
            self.root.set_label(Text(f"/  (L{snapshot.k}: all hidden, {keys})"))
        self.root.is_expanded = True
        remembered = {p for p in self._expanded if self._wanted(p)}
        filtered = self.within is not None
        if remembered or self.opts.layer_only or filtered:
            # a layer's own view opens to its changes; a search filter to every match
            self._open_below(self.root, AUTO_ROWS, remembered, self.opts.layer_only or filtered, deleted=filtered)
        if cursor and cursor != ROOT:
            self.reveal(cursor)
        else:
            self._move_to(self.root)

    def _wanted(self, path: str) -> bool:
        return self.within is None or path in self.within.paths

    def _root_label(self) -> Text:
        if self.snapshot is None:
            return Text("/")
        mode = "changes of" if self.opts.layer_only else "as of"
        return Text(f"/  ({mode} L{self.snapshot.k})")

    def _invalidate(self) -> None:
        self.invalidate()

    def refresh_labels(self) -> None:
        """Re-draw every row (e.g. when sizes arrive or attributes are toggled)."""
        self._lay = None
        self.invalidate()

    def on_resize(self) -> None:
        self._lay = None  # the columns follow the pane's width (DrawnTree's own lists the rows again)

    def _children(self, path: str) -> list[Entry | Deletion]:
        kids = self._kids.get(path)
        if kids is None:
            assert self.snapshot is not None
            kids = self.snapshot.children(path, self.opts, self.within)
            if self.within is not None:
                counted = self.matched_bytes.get((self.snapshot.k, self.opts.layer_only))
                if self.opts.sort_by_size and counted is not None:
                    kids = self._by_matched_size(kids, counted)
            self._kids[path] = kids
        return kids

    def _by_matched_size(self, kids: list[Entry | Deletion], counted: dict[str, int]) -> list[Entry | Deletion]:
        """A filtered tree sorted by size ranks its directories by the bytes that matched below them."""
        assert self.snapshot is not None
        size = self.snapshot.own_size if self.opts.layer_only else self.snapshot.size

        def key(n: Entry | Deletion) -> tuple[int, str]:
            shown = counted.get(n.path, 0) if type(n) is Entry and n.type == DIR else size(n)
            return -(shown or 0), n.path

        return sorted(kids, key=key)

    def _populate(self, node: Node, offset: int = 0) -> int:
        """Add a page of a directory's children; returns the rows added."""
        if self.snapshot is None or not isinstance(node.data, str):
            return 0
        self._loaded.add(id(node))
        kids = self._children(node.data)
        snap = self.snapshot
        ghosts = self.opts.ghosts
        shown = self._shown
        page = kids[offset : offset + PAGE]
        add = self.add_row
        for n in page:
            shown[n.path] = n
            add(node, Text(safe(n.path.rsplit("/", 1)[-1])), n.path, snap.has_children(n, ghosts))
        if not kids and node is not self.root:
            # every child filtered out: a directory with nothing to open, not one open on nothing
            node.allow_expand = False
            node.is_expanded = False
        rest = len(kids) - offset - PAGE
        if rest > 0:
            more = Text(f"… {rest} more (Enter to show {min(rest, PAGE)})", style="dim")
            add(node, more, More(node.data, offset + PAGE), False)
        node.updates += 1
        self._invalidate()
        return len(page) + (rest > 0)

    def _open(self, node: Node) -> int:
        """Expand a node for the user without it counting as theirs; returns rows added."""
        added = 0 if id(node) in self._loaded else self._populate(node)
        # Set the flag rather than call expand(): that tells ``row_expanded``,
        # which is how a directory the user opened is told from one opened for them.
        node.is_expanded = node.allow_expand  # not if it turned out to have nothing to show
        node.updates += 1
        return added

    def _open_below(self, top: Node, budget: int, only: set[str] | None, auto: bool, deleted: bool = False) -> int:
        """Breadth-first expansion under ``top`` until ``budget`` rows were added.

        ``only``: open just these directories (those remembered) unless ``auto``,
        which opens every expandable directory, deleted ones only if ``deleted``
        (in a layer's own view a deleted directory shows at its top: its
        contents, all deleted, are one Enter away).
        Returns the rows added, negative if the budget ran out first.
        """
        rows = 0
        queue: deque[Node] = deque([top])
        stopped = False
        while queue:
            node = queue.popleft()
            for child in node.children:
                path = child.data
                if not isinstance(path, str) or not child.allow_expand:
                    continue
                wanted = (only is not None and path in only) or (
                    auto and (deleted or type(self._shown.get(path)) is Entry)
                )
                if not wanted and not child.is_expanded:
                    continue
                if not child.is_expanded:
                    if rows >= budget:
                        stopped = True
                        continue
                    rows += self._open(child)
                queue.append(child)
        self._invalidate()
        return -rows if stopped else rows

    def expand_below(self) -> int:
        """Open every directory below the cursor, breadth first, up to a budget of rows.

        They count as opened by the user (remembered in other layers, within
        the same budget). Pressing it again goes deeper.
        """
        node = self.cursor_node
        if node is None or not isinstance(node.data, str):
            return 0
        if node.allow_expand and not node.is_expanded:
            self._open(node)
            self._expanded.add(node.data)
        rows = self._open_below(node, EXPAND_ROWS, None, auto=True, deleted=True)
        self._expanded.update(self._open_paths(node))
        if rows < 0:
            self.post_message(self.Truncated(-rows))
        return abs(rows)

    def collapse_below(self) -> None:
        """Close the cursor's directory and everything open below it, and forget them."""
        node = self.cursor_node
        if node is None or not isinstance(node.data, str):
            return
        if not node.allow_expand or not node.is_expanded:
            parent = node.parent
            if parent is None or not isinstance(parent.data, str):
                return
            node = parent
        assert isinstance(node.data, str)
        stack = [node]
        while stack:
            n = stack.pop()
            if n.is_expanded and n is not self.root:
                n.is_expanded = False
                n.updates += 1
            stack.extend(c for c in n.children if c.is_expanded)
        prefix = node.data.rstrip("/") + "/"
        self._expanded = {p for p in self._expanded if p != node.data and not p.startswith(prefix)}
        self._invalidate()
        self._move_to(node)

    def _open_paths(self, node: Node) -> set[str]:
        out: set[str] = set()
        stack = [node]
        while stack:
            n = stack.pop()
            for c in n.children:
                if c.is_expanded and isinstance(c.data, str):
                    out.add(c.data)
                    stack.append(c)
        return out

    # -- rows ---------------------------------------------------------------------
    def _extent(self) -> tuple[int, int, int, int, int]:
        """Over the loaded rows: where the longest name ends, where the deepest starts
        (guides and icon included), the widest owner, the widest deleted-below figure
        and the widest change class of the layer's own."""
        lines = self.lines
        seen, measured = self._measured
        if seen is not lines:
            gd = self.guide_depth
            longest = deepest = below = change = 0
            owner = 3
            k = self.snapshot.k if self.snapshot is not None else -1
            snap = self.snapshot if self.opts.layer_only else None
            for line in lines:
                data = line.data
                if isinstance(data, str) and data != ROOT:
                    n = self._shown.get(data)
                    start = depth(data) * gd + 2
                    extra = 1 if isinstance(n, Deletion) or (n is not None and n.type == DIR) else 0
                    longest = max(longest, start + line.label.cell_len + extra + self._link_len(n))
                    deepest = max(deepest, start)
                    if type(n) is Deletion:
                        change = max(change, len("deleted"))
                    elif type(n) is Entry:
                        if n.layer == k and not (n.type == DIR and n.change == "rewritten"):
                            change = max(change, len(n.change))
                        owner = max(owner, len(str(n.uid)) + len(str(n.gid)) + 1)
                        if snap is not None and n.type == DIR:
                            # the widest figure, not the biggest: "999.9 kB" is wider than "1.0 MB"
                            gone = snap.deleted_under(data)
                            if gone and (not below or len(human_size(gone)) > len(human_size(below))):
                                below = gone
            measured = (longest, deepest, owner, below, change)
            self._measured = (lines, measured)
        return measured

    @staticmethod
    def _link_len(n: Entry | Deletion | None) -> int:
        if type(n) is Entry and n.link is not None and n.type in ("symlink", "hardlink"):
            return 3 + cell_len(safe(n.link))
        return 0

    def _layout(self) -> tuple[columns.Layout, int]:
        """The columns for the current rows and width.

        Measured once per frame (``render_lines``) and when the rows change
        (the tree's width is summed from them), not per row: the pane's width
        is a costly property and ``get_label_width`` runs for every row.
        """
        lines = self.lines
        if self._lay is None or self._lay_for is not lines:
            self._lay, self._lay_for = self._measure(), lines
        return self._lay

    def _measure(self) -> tuple[columns.Layout, int]:
        layers = len(self.snapshot.merged.image.layers) if self.snapshot is not None else 1
        longest, deepest, owner, below, change = self._extent()
        self._pane_w = self.scrollable_content_region.width
        package = self._package_width()
        return columns.layout(self._pane_w, longest, deepest, layers, self.attrs, owner, below, change, package)

    def _package_width(self) -> int:
        """The widest package name of the loaded rows (0: no owner column)."""
        package_of, snap = self.package_of, self.snapshot
        if package_of is None or snap is None:
            return 0
        lines = self.lines
        seen, k, width = self._package_w
        if seen is not lines or k != snap.k:
            width = 1  # "-"
            for line in lines:
                data = line.data
                if isinstance(data, str) and data != ROOT:
                    n = self._shown.get(data)
                    if n is not None and not (type(n) is Entry and n.type == DIR):
                        width = max(width, cell_len(safe(package_of(data, snap.k))))
            self._package_w = (lines, snap.k, width)
        return width

    def render_lines(self, crop: Region) -> list[Strip]:
        _ = self.lines  # built first: their widths are summed with the layout measured for them
        if self._measure() != self._layout():
            # the width or the columns changed since the rows' widths were summed
            # (a resize, attributes toggled): sum them again, or the tree would
            # scroll sideways by what it no longer needs
            self._lay = None
            self.relist()
            _ = self.lines
        return super().render_lines(crop)

    def row_cells(self, path: str) -> columns.Cells | None:
        """The cells of a loaded row (None for the root and placeholders)."""
        snap = self.snapshot
        n = self._shown.get(path)
        if snap is None or n is None:
            return None
        layer_view = self.opts.layer_only
        shipped = n if type(n) is Entry else snap.shipped(path)
        size = snap.own_size(n) if layer_view else snap.size(n)
        if self.within is not None and type(n) is Entry and n.type == DIR:
            # a filtered tree: the bytes of what matched below, once counted (a worker does)
            counted = self.matched_bytes.get((snap.k, layer_view))
            size = None if counted is None else counted.get(path, 0)
        below = snap.deleted_under(path) if layer_view and type(n) is Entry and n.type == DIR else 0
        c = columns.cells(n, snap.k, shipped, size, below, snap.merged.image.label_of)
        if self.package_of is not None and not (type(n) is Entry and n.type == DIR):
            c = replace(c, package=self.package_of(path, snap.k))
        return c

    def render_label(self, node: Node, base_style: Style, style: Style) -> Text:
        data = node.data
        c = self.row_cells(data) if isinstance(data, str) and data != ROOT else None
        if c is None:
            return super().render_label(node, base_style, style)
        assert isinstance(data, str)
        lay, name_end = self._layout()
        row = columns.render(c, lay, name_end - depth(data) * self.guide_depth - 2)
        row.stylize(style)
        icon = ""
        if node.allow_expand:
            icon = self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE
        return Text.assemble((icon or "  ", base_style + Style(dim=not icon)), row)

    def get_label_width(self, node: Node) -> int:
        """Width without rendering the row: the icon, the name as laid out and the columns.

        Rows end at the pane's edge, so the tree's virtual width is the pane's
        (no sideways scrolling) unless a row is nested too deep for its name to
        keep MIN_CUT cells.
        """
        data = node.data
        if not isinstance(data, str) or data == ROOT or data not in self._shown:
            return super().get_label_width(node)
        lay, name_end = self._layout()
        indent = depth(data) * self.guide_depth
        return 2 + max(name_end - indent - 2, columns.MIN_CUT) + lay.columns

    # -- navigation -------------------------------------------------------------
    @property
    def current_path(self) -> str | None:
        node = self.cursor_node
        return node.data if node is not None and isinstance(node.data, str) else None

    def _find_child(self, node: Node, path: str) -> Node | None:
        while True:
            more = None
            for child in node.children:
                if child.data == path:
                    return child
                if isinstance(child.data, More):
                    more = child
            if more is None:
                return None
            self._load_more(more)

    def reveal(self, path: str) -> bool:
        """Open the ancestors of ``path`` (not remembered as opened by the user) and put the cursor on it."""
        if self.snapshot is None:
            return False
        node = self.root
        for anc in [*self.snapshot.ancestors(path), path]:
            child = self._find_child(node, anc)
            if child is None:
                break
            node = child
            if anc != path and not node.is_expanded:
                self._open(node)
        self._invalidate()
        self._move_to(node)
        return node.data == path

    def _move_to(self, node: Node) -> None:
        # Node line numbers are only valid once the line list is rebuilt; build it
        # now so the cursor lands on the node just added, not on a stale line.
        _ = self.lines
        self.move_cursor(node)
        self.call_after_refresh(self._scroll_into_view, node)

    def _scroll_into_view(self, node: Node) -> None:
        # Lines revealed by a jump can be wider than the pane: the horizontal
        # scrollbar they bring appears only after this refresh and would cover
        # the cursor line, so scroll once more when it is there.
        self.scroll_to_node(node, animate=False)
        self.call_after_refresh(self.scroll_to_node, node, animate=False)

    def _load_more(self, node: Node) -> None:
        data = node.data
        assert isinstance(data, More)
        parent = node.parent
        node.remove()
        if parent is not None:
            self._populate(parent, data.offset)

    # -- keys -------------------------------------------------------------------------
    def action_collapse_or_parent(self) -> None:
        """←: close an open directory, else go to the parent."""
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded:
            node.collapse()
        elif node.parent is not None:
            self.move_cursor(node.parent)

    def action_expand_or_versions(self) -> None:
        """→: open a directory, step into an open one, or show a file's versions."""
        node = self.cursor_node
        if node is None or not isinstance(node.data, str):
            return
        if node.allow_expand and not node.is_expanded:
            node.expand()
        elif node.allow_expand and node.children:
            self.move_cursor(node.children[0])
        elif not node.allow_expand:
            self.post_message(self.VersionsWanted(node.data))

    def action_cursor_parent_next_sibling(self) -> None:
        """Shift+→: out of the directory, forward, to the row after it (the parent's next sibling).

        When the parent is the last of its own, the next row out is further up;
        Textual's own took the cursor off every row there.
        """
        node = self.cursor_node
        target = _next_out(node.parent) if node is not None else None
        if target is not None:
            self.move_cursor(target, animate=False)

    def action_cursor_next_sibling(self) -> None:
        """Shift+↓: the next sibling, over an open directory's rows (the last one: the next row out)."""
        node = self.cursor_node
        target = _next_out(node) if node is not None else None
        if target is not None:
            self.move_cursor(target, animate=False)

    def action_cursor_previous_sibling(self) -> None:
        """Shift+↑: the previous sibling (the first one: its parent)."""
        node = self.cursor_node
        target = None if node is None else node.previous_sibling or node.parent
        if target is not None:
            self.move_cursor(target, animate=False)

    def action_toggle_expand_all(self) -> None:
        """Shift+Space: Textual's version expands every sibling unbounded; this one is bounded."""
        node = self.cursor_node
        if node is not None and node.allow_expand and node.is_expanded:
            self.collapse_below()
        else:
            self.expand_below()

    # -- what the rows tell ---------------------------------------------------------
    def row_expanded(self, row: Node) -> None:
        if isinstance(row.data, str):
            self._expanded.add(row.data)
            if id(row) not in self._loaded:
                self._populate(row)

    def row_collapsed(self, row: Node) -> None:
        if isinstance(row.data, str):
            self._expanded.discard(row.data)

    def row_highlighted(self, row: Node) -> None:
        data = row.data
        self.post_message(self.PathHighlighted(data if isinstance(data, str) else None))

    def row_selected(self, row: Node) -> None:
        data = row.data
        if isinstance(data, More):
            self._load_more(row)
        elif row.allow_expand:
            self._toggle(row)
        elif isinstance(data, str):
            self.post_message(self.PathSelected(data))
