"""The image as seen from one layer: what a tree view asks of the model.

A ``Snapshot`` answers "children of this directory as of layer K", with the
aggregate or this-layer-only view, change-class filters and sorting, plus
subtree sizes and path search. It is plain Python (no Textual) so the UI
stays thin and every rule here is testable headless. Work is proportional to
what is asked for (one directory at a time), except ``dir_sizes`` and
``search``, which walk all paths and are meant to run in a worker.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .globs import compile_glob, is_glob
from .merge import ROOT, Merged, parent_of
from .model import ADDED, DIR, METADATA, MODIFIED, REWRITTEN, TYPE_CHANGED, Deletion, Entry

# Filter classes a person toggles; "unchanged" means supplied by a lower layer.
UNCHANGED = "unchanged"
DELETED = "deleted"
FILTER_CLASSES = (ADDED, MODIFIED, METADATA, REWRITTEN, DELETED, UNCHANGED)


def filter_class(node: Entry | Deletion, k: int) -> str:
    """Which toggle governs a node in the view of layer k."""
    if type(node) is Deletion:
        return DELETED
    assert type(node) is Entry
    if node.layer != k:
        return UNCHANGED
    c = node.change
    if c == TYPE_CHANGED:
        return MODIFIED
    if c == REWRITTEN and node.type == DIR:
        return UNCHANGED  # a directory re-listed as the parent of a change
    return c


@dataclass
class ViewOptions:
    layer_only: bool = False
    hidden: set[str] = field(default_factory=set)  # filter classes to hide
    sort_by_size: bool = False


class Snapshot:
    """The merged tree as of layer ``k`` (aggregate) plus layer k's own changes."""

    def __init__(self, merged: Merged, k: int) -> None:
        self.merged = merged
        self.k = k
        self._changed: set[str] | None = None
        self._sizes: dict[str, int] | None = None

    # -- the changed set: paths layer k touched, and their ancestors --------
    @property
    def changed(self) -> set[str]:
        if self._changed is None:
            layer = self.merged.image.layers[self.k] if self.merged.image.layers else None
            paths: set[str] = set()
            if layer is not None:
                for e in layer.entries:
                    if e.path != ROOT and (e.type != DIR or e.change not in (REWRITTEN,)):
                        paths.add(e.path)
                for d in layer.deletions:
                    paths.add(d.path)
            out = set(paths)
            for p in paths:
                q = parent_of(p)
                while q not in out and q != ROOT:
                    out.add(q)
                    q = parent_of(q)
            self._changed = out
        return self._changed

    def node(self, path: str) -> Entry | Deletion | None:
        ev = self.merged.state_at(path, self.k)
        if type(ev) is Deletion and ev.layer != self.k:
            return None
        return ev

    def children(self, path: str, opts: ViewOptions) -> list[Entry | Deletion]:
        """Children to show under a directory: live ones plus those layer k deleted."""
        k = self.k
        merged = self.merged
        changed = self.changed if (opts.layer_only or UNCHANGED in opts.hidden) else None
        out: list[Entry | Deletion] = []
        for c in merged.children.get(path, ()):
            if changed is not None and c not in changed:
                continue
            ev = merged.state_at(c, k)
            if ev is None:
                continue
            if type(ev) is Deletion:
                if ev.layer != k:
                    continue
                # Show only the top of a deleted subtree, not every descendant.
                if parent_of(c) != ROOT and type(merged.state_at(parent_of(c), k)) is Deletion:
                    continue
            if opts.hidden:
                fc = filter_class(ev, k)
                is_dir = type(ev) is Entry and ev.type == DIR
                if fc in opts.hidden and not (is_dir and c in self.changed and fc != DELETED):
                    continue
            out.append(ev)
        if opts.sort_by_size and self._sizes is not None:
            # Until dir_sizes() has run (the UI runs it in a worker), name order
            # keeps this call cheap: it is on the UI's key path.
            sizes = self._sizes
            out.sort(key=lambda n: (-self._size_of(n, sizes), n.path))
        else:
            out.sort(key=lambda n: n.path)
        return out

    def _size_of(self, n: Entry | Deletion, sizes: dict[str, int]) -> int:
        if type(n) is Entry:
            return sizes.get(n.path, 0) if n.type == DIR else n.size
        return 0

    def dir_sizes(self) -> dict[str, int]:
        """Subtree content size of every directory as of k (hardlinks count once)."""
        if self._sizes is None:
            sizes: dict[str, int] = {}
            for e in self.merged.files_at(self.k):
                if e.type == "file" and e.size:
                    q = parent_of(e.path)
                    while True:
                        sizes[q] = sizes.get(q, 0) + e.size
                        if q == ROOT:
                            break
                        q = parent_of(q)
            self._sizes = sizes
        return self._sizes

    @property
    def sizes_ready(self) -> bool:
        return self._sizes is not None

    def ancestors(self, path: str) -> list[str]:
        """``/a/b/c`` -> ``['/a', '/a/b']``."""
        out = []
        q = parent_of(path)
        while q != ROOT:
            out.append(q)
            q = parent_of(q)
        return out[::-1]


def compile_query(query: str) -> Callable[[str], bool]:
    """A path matcher: ``re:PATTERN`` regex, a glob if it has ``*?[``, else a substring.

    Globs mean what they mean everywhere else (:mod:`layerscope.globs`): the
    UI's search and ``ci --forbid-path`` must agree on the same pattern.
    A fragment is matched case-insensitively anywhere in the path.
    """
    q = query.strip()
    if q.startswith("re:"):
        try:
            rx = re.compile(q[3:])
        except re.error as exc:
            raise ValueError(f"bad regular expression: {exc}") from None
        return lambda p: rx.search(p) is not None
    if is_glob(q):
        return compile_glob(q)
    lower = q.lower()
    return lambda p: lower in p.lower()


def search(
    merged: Merged,
    k: int,
    query: str,
    limit: int = 10_000,
    cancelled: Callable[[], bool] | None = None,
) -> tuple[list[Entry | Deletion], int]:
    """Paths as of layer k matching a query (live, or deleted by layer k).

    Returns up to ``limit`` matches in path order and the total count.
    ``cancelled`` is polled every few thousand paths so a superseded search
    (the user typed on) stops instead of competing for the GIL.
    """
    match = compile_query(query)
    out: list[Entry | Deletion] = []
    total = 0
    for n, p in enumerate(merged.paths()):
        if cancelled is not None and not n & 4095 and cancelled():
            break
        if not match(p):
            continue
        ev = merged.state_at(p, k)
        if ev is None or (type(ev) is Deletion and ev.layer != k):
            continue
        total += 1
        if len(out) < limit:
            out.append(ev)
    return out, total


def with_ancestors(paths: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for p in paths:
        out.add(p)
        q = parent_of(p)
        while q != ROOT and q not in out:
            out.add(q)
            q = parent_of(q)
    return out
