"""The merged file tree as of the selected layer, built lazily.

Nodes exist only for expanded directories, added a page at a time: a
directory with 100k children costs one page of nodes, not 100k (``Tree.add``
is ~40 µs a node and any change re-renders every visible line).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ...merge import ROOT
from ...model import DIR, Deletion, Entry
from ...snapshot import Snapshot, ViewOptions
from ..format import node_label

PAGE = 500


@dataclass(frozen=True)
class More:
    """A placeholder node: 'N more…' children of ``path`` from ``offset``."""

    path: str
    offset: int


NodeData = str | More


class FileTree(Tree[NodeData]):
    """Tree of paths; node.data is the path (or a More placeholder)."""

    class PathHighlighted(Message):
        def __init__(self, path: str | None) -> None:
            super().__init__()
            self.path = path

    class PathSelected(Message):
        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

    def __init__(self, **kw: object) -> None:
        super().__init__("/", data=ROOT, **kw)  # type: ignore[arg-type]
        self.snapshot: Snapshot | None = None
        self.opts = ViewOptions()
        self.attrs = False
        self.restrict: set[str] | None = None  # search filter: paths + their ancestors
        self._loaded: set[int] = set()
        self._expanded: set[str] = set()
        self.guide_depth = 2
        self.auto_expand = True

    # -- building ----------------------------------------------------------
    def show(self, snapshot: Snapshot, keep_path: str | None = None) -> None:
        """Re-root at a snapshot, keeping expanded directories and the cursor."""
        self.snapshot = snapshot
        cursor = keep_path if keep_path is not None else self.current_path
        self.clear()
        self._loaded.clear()
        self.root.data = ROOT
        self.root.set_label(self._root_label())
        self._populate(self.root)
        self.root.expand()
        if cursor and cursor != ROOT:
            self.reveal(cursor, quiet=True)
        else:
            self._move_to(self.root)

    def _root_label(self) -> Text:
        if self.snapshot is None:
            return Text("/")
        mode = "changes of" if self.opts.layer_only else "as of"
        return Text(f"/  ({mode} L{self.snapshot.k})")

    def refresh_labels(self) -> None:
        """Re-render labels in place (e.g. when directory sizes arrive)."""
        if self.snapshot is None:
            return
        for node in list(self._tree_nodes.values()):
            if isinstance(node.data, str) and node.data != ROOT:
                n = self.snapshot.node(node.data)
                if n is not None:
                    node.set_label(self._label(n))

    def _label(self, n: Entry | Deletion) -> Text:
        assert self.snapshot is not None
        size = None
        if type(n) is Entry and n.type == DIR and self.snapshot.sizes_ready:
            size = self.snapshot.dir_sizes().get(n.path, 0)
        return node_label(n, self.snapshot.k, self.attrs, size)

    def _children(self, path: str) -> list[Entry | Deletion]:
        assert self.snapshot is not None
        kids = self.snapshot.children(path, self.opts)
        if self.restrict is not None:
            kids = [c for c in kids if c.path in self.restrict]
        return kids

    def _populate(self, node: TreeNode[NodeData], offset: int = 0) -> None:
        if self.snapshot is None or not isinstance(node.data, str):
            return
        self._loaded.add(id(node))
        kids = self._children(node.data)
        merged = self.snapshot.merged
        for n in kids[offset : offset + PAGE]:
            label = self._label(n)
            if type(n) is Entry and n.type == DIR:
                child = node.add(label, data=n.path, allow_expand=bool(merged.children.get(n.path)))
                if n.path in self._expanded:
                    child.expand()
                    self._populate(child)
            else:
                node.add_leaf(label, data=n.path)
        rest = len(kids) - offset - PAGE
        if rest > 0:
            more = Text(f"… {rest} more (Enter to show {min(rest, PAGE)})", style="dim")
            node.add_leaf(more, data=More(node.data, offset + PAGE))

    # -- navigation -------------------------------------------------------------
    @property
    def current_path(self) -> str | None:
        node = self.cursor_node
        return node.data if node is not None and isinstance(node.data, str) else None

    def _find_child(self, node: TreeNode[NodeData], path: str) -> TreeNode[NodeData] | None:
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

    def reveal(self, path: str, quiet: bool = False) -> bool:
        """Expand ancestors of ``path`` and put the cursor on it."""
        if self.snapshot is None:
            return False
        node = self.root
        for anc in [*self.snapshot.ancestors(path), path]:
            child = self._find_child(node, anc)
            if child is None:
                break
            node = child
            if anc != path:
                if id(node) not in self._loaded:
                    self._populate(node)
                node.expand()
                self._expanded.add(anc)
        self._move_to(node)
        return node.data == path

    def _move_to(self, node: TreeNode[NodeData]) -> None:
        # Node line numbers are only valid once the line list is rebuilt; build it
        # now so the cursor lands on the node just added, not on a stale line.
        _ = self._tree_lines
        self.move_cursor(node)
        self.call_after_refresh(self._scroll_into_view, node)

    def _scroll_into_view(self, node: TreeNode[NodeData]) -> None:
        # Lines revealed by a jump can be wider than the pane: the horizontal
        # scrollbar they bring appears only after this refresh and would cover
        # the cursor line, so scroll once more when it is there.
        self.scroll_to_node(node, animate=False)
        self.call_after_refresh(self.scroll_to_node, node, animate=False)

    def _load_more(self, node: TreeNode[NodeData]) -> None:
        data = node.data
        assert isinstance(data, More)
        parent = node.parent
        node.remove()
        if parent is not None:
            self._populate_page(parent, data.offset)

    def _populate_page(self, parent: TreeNode[NodeData], offset: int) -> None:
        self._populate(parent, offset)

    # -- events -------------------------------------------------------------------
    def _on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeData]) -> None:
        node = event.node
        if isinstance(node.data, str):
            self._expanded.add(node.data)
            if id(node) not in self._loaded:
                self._populate(node)

    def _on_tree_node_collapsed(self, event: Tree.NodeCollapsed[NodeData]) -> None:
        if isinstance(event.node.data, str):
            self._expanded.discard(event.node.data)

    def _on_tree_node_highlighted(self, event: Tree.NodeHighlighted[NodeData]) -> None:
        event.stop()
        data = event.node.data
        self.post_message(self.PathHighlighted(data if isinstance(data, str) else None))

    def _on_tree_node_selected(self, event: Tree.NodeSelected[NodeData]) -> None:
        event.stop()
        data = event.node.data
        if isinstance(data, More):
            self._load_more(event.node)
        elif isinstance(data, str) and not event.node.allow_expand:
            self.post_message(self.PathSelected(data))
