"""The image as seen from one layer: what a tree view asks of the model.

A ``Snapshot`` answers "children of this directory as of layer K", with the
aggregate or this-layer-only view, change-class filters and sorting, plus
sizes and path search. It is plain Python (no Textual) so the UI stays thin
and every rule here is testable headless. Work is proportional to what is
asked for (one directory at a time); sizes come from :mod:`layerscope.sizes`,
whose per-layer figures are meant to be computed in a worker, and ``search``
walks all paths and is meant to run in a worker too.

A *ghost* is a path deleted by layer K or a layer below it: gone from a
container started from K, yet its bytes still ship in a lower layer. Ghosts
stay in the tree at their place (``ViewOptions.ghosts``), because an auditor
who does not see a deleted secret reads the image as clean.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .globs import compile_glob, is_glob
from .merge import ROOT, Merged, parent_of
from .model import ADDED, DIR, FILE, METADATA, MODIFIED, REWRITTEN, TYPE_CHANGED, Deletion, Entry, Event
from .sizes import Sizes, changed_paths, file_bytes

if TYPE_CHECKING:
    from .packages.index import PackageIndex

# Filter classes a person toggles; "unchanged" means supplied (or deleted) by a lower layer.
UNCHANGED = "unchanged"
DELETED = "deleted"
FILTER_CLASSES = (ADDED, MODIFIED, METADATA, REWRITTEN, DELETED, UNCHANGED)


# Paths one ``Snapshot.children`` call may look through to learn whether a directory
# whose own class is hidden has anything shown below it: ~6 µs a path (its state is
# made an object), so ~10-30 ms on a keystroke (hiding "added" on the base layer
# of a 500k-path image took 0.6 s to look through all of it).
LOOK_BELOW = 2_000


def filter_class(node: Entry | Deletion, k: int) -> str:
    """Which toggle governs a node in the view of layer k."""
    if type(node) is Deletion:
        return DELETED if node.layer == k else UNCHANGED
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
    ghosts: bool = True  # paths deleted by lower layers whose bytes still ship


_PATHS: weakref.WeakKeyDictionary[Merged, tuple[str, ...]] = weakref.WeakKeyDictionary()


def cached_paths(merged: Merged) -> tuple[str, ...]:
    """``merged.paths()`` (every path, in byte order), made once per image: a
    500k-path list per search keystroke adds up.

    A tuple: the collector stops tracking a tuple of strings, never a list.
    """
    paths = _PATHS.get(merged)
    if paths is None:
        paths = _PATHS[merged] = tuple(merged.paths())
    return paths


def shipped(merged: Merged, path: str, k: int) -> Entry | None:
    """The version a path stands for as of layer k.

    A live path: the version a container sees. A deleted one: the newest
    version that still ships beneath the deletion, which is what an auditor
    opens, diffs or traces to its layer.
    """
    return merged.newest_entry_at(path, k)


def visible(ev: Entry | Deletion | None, k: int, ghosts: bool) -> bool:
    """Is this state of a path shown as of layer k?"""
    if ev is None:
        return False
    return type(ev) is Entry or ev.layer == k or ghosts


class Snapshot:
    """The merged tree as of layer ``k`` (aggregate) plus layer k's own changes."""

    def __init__(self, merged: Merged, k: int, sizes: Sizes | None = None) -> None:
        self.merged = merged
        self.k = k
        self.sizes = sizes if sizes is not None else Sizes(merged)
        self._changed: dict[str, None] | None = None
        # (layer view, hidden classes, ghosts) -> (filter, directory -> shows something below it)
        self._below: dict[tuple[bool, frozenset[str], bool], tuple[Within | None, dict[str, bool]]] = {}

    # -- the changed set: paths layer k touched, and their ancestors --------
    @property
    def changed(self) -> dict[str, None]:
        """Paths layer k touched, with their ancestors (the worker computes them with the sizes)."""
        if self._changed is None:
            la = self.sizes.layer(self.k)
            if la is not None:
                self._changed = la.changed
            elif self.merged.image.layers:
                self._changed = changed_paths(self.merged, self.k)
            else:
                self._changed = {}
        return self._changed

    def node(self, path: str, ghosts: bool = True) -> Entry | Deletion | None:
        """The state of ``path`` as shown as of k (None: not in this tree)."""
        ev = self.merged.state_at(path, self.k)
        return ev if visible(ev, self.k, ghosts) else None

    def shipped(self, path: str) -> Entry | None:
        return shipped(self.merged, path, self.k)

    def children(self, path: str, opts: ViewOptions, within: Within | None = None) -> list[Entry | Deletion]:
        """Children to show under a directory: live ones, those layer k deleted, and ghosts.

        ``within``: a search filter; only its matches and their ancestors.
        A directory is shown for what it is when its class is shown. One whose
        class is hidden, in a layer's own view one the layer did not change
        (it is there as the way to the layer's changes), or in a filtered tree
        one that did not match (the way to matches), is shown only if
        something below it is shown: never as an empty, expanded row.
        """
        memo = self._memo(opts, within)
        budget = [LOOK_BELOW]
        out = [ev for ev in self._candidates(path, opts, within) if self._shows(ev, opts, within, memo, budget)]
        if opts.sort_by_size and self.sizes_ready(opts.layer_only):
            # Until the sizes are known (the UI computes them in a worker),
            # name order keeps this call cheap: it is on the UI's key path.
            key = self.size_key if opts.layer_only else self.size
            out.sort(key=lambda n: (-(key(n) or 0), n.path))
        else:
            out.sort(key=lambda n: n.path)
        return out

    def _memo(self, opts: ViewOptions, within: Within | None) -> dict[str, bool]:
        """Which directories show something below them, for one set of options and filter."""
        key = (opts.layer_only, frozenset(opts.hidden), opts.ghosts)
        kept = self._below.get(key)
        if kept is None or kept[0] is not within:
            kept = self._below[key] = (within, {})
        return kept[1]

    def _candidates(
        self, path: str, opts: ViewOptions, within: Within | None, cost: list[int] | None = None
    ) -> list[Entry | Deletion]:
        """The states of a directory's children that the view may show, before the filters.

        ``cost``: less the children looked at (all of them, even to keep a few).
        """
        k = self.k
        merged = self.merged
        state_at = merged.state_at
        changed = self.changed if (opts.layer_only or UNCHANGED in opts.hidden) else None
        if changed is None:  # every child: the core hands their states over in one call
            states: list[Event | None] = list(merged.children_at(path, k))
            looked = len(states)
        else:  # the few a layer changed: look only those up
            names = merged.children_of(path)
            looked = len(names) // 8 + 1  # a name looked up in a dict, not a state made
            states = [state_at(c, k) for c in names if c in changed]
            looked += len(states)
        if cost is not None:
            cost[0] -= looked
        ghosts = opts.ghosts
        keep = within.paths if within is not None else None
        return [
            ev
            for ev in states
            if ev is not None and (type(ev) is Entry or ev.layer == k or ghosts) and (keep is None or ev.path in keep)
        ]

    def _shows(
        self, ev: Entry | Deletion, opts: ViewOptions, within: Within | None, memo: dict[str, bool], budget: list[int]
    ) -> bool:
        """Is this child shown (see ``children``)?

        ``budget``: paths left to look at below (this is on the key path): a
        directory whose subtree would take more is kept, as if something
        below it were shown, and looked at again when it is opened.
        """
        k = self.k
        is_dir = type(ev) is Entry and ev.type == DIR
        fc = filter_class(ev, k)
        way = is_dir and (
            (opts.layer_only and fc == UNCHANGED) or (within is not None and ev.path not in within.matched)
        )
        if fc not in opts.hidden and not way:
            return True
        if not is_dir or fc == DELETED:
            return False
        if not opts.hidden and within is None:
            return True  # a layer's own view lists a directory only above a change, shown here
        # a directory there only as the way to what is below it: is anything?
        shown = memo.get(ev.path)
        if shown is None:
            if budget[0] <= 0:
                return True  # not known in time: kept, not remembered
            below = self._candidates(ev.path, opts, within, budget)
            shown = any(self._shows(c, opts, within, memo, budget) for c in below)
            if shown or budget[0] > 0:  # a "no" found after the budget ran out may be a guess
                memo[ev.path] = shown
        return shown

    def has_children(self, n: Entry | Deletion, ghosts: bool = True) -> bool:
        """May a node expand? A directory with children, or anything with ghosts under it.

        A file that replaced a directory keeps the old directory's children as
        ghosts under it (their bytes still ship); a directory is approximated by
        "has children at some layer", which is cheap.
        """
        if not self.merged.child_count(n.path):
            return False
        if type(n) is Entry and n.type == DIR:
            return True
        if type(n) is Deletion:
            return True  # a deleted directory: its children are deleted too
        k = self.k
        return any(type(ev) is Deletion and (ghosts or ev.layer == k) for ev in self.merged.children_at(n.path, k))

    # -- sizes -----------------------------------------------------------------------
    def sizes_ready(self, layer_only: bool = False) -> bool:
        """Are this view's directory sizes known (the aggregate needs every layer up to k)?"""
        if layer_only:
            return self.sizes.layer(self.k) is not None
        return self.sizes.ready(self.k)

    def compute_sizes(self) -> None:
        """Every figure this snapshot shows (seconds on a 500k-entry image: run it in a worker)."""
        self.sizes.compute(self.k)

    def ghost_bytes(self, path: str) -> int | None:
        """Bytes still shipping at and under a deleted path (None: not known yet)."""
        if self.sizes.ready(self.k):
            return self.sizes.hidden(path, self.k)
        hist = self.merged.history(path)
        if any(type(ev) is Entry and ev.type == DIR for ev in hist):
            return None  # a directory: wait for the sizes
        # a file: the versions its deletions hid, straight from its timeline
        total = 0
        for i, ev in enumerate(hist):
            if type(ev) is Deletion and ev.layer <= self.k and i:
                total += file_bytes(hist[i - 1])
        return total

    def size(self, n: Entry | Deletion) -> int | None:
        """The size the aggregate view shows: live bytes; a ghost's bytes that still ship."""
        if type(n) is Deletion:
            return self.ghost_bytes(n.path)
        assert type(n) is Entry
        if n.type == DIR:
            return self.sizes.live(n.path, self.k) if self.sizes.ready(self.k) else None
        return n.size

    def own_size(self, n: Entry | Deletion) -> int | None:
        """The size layer k's own view shows: what the layer adds, or what its deletion hid."""
        la = self.sizes.layer(self.k)
        if type(n) is Deletion:
            if n.layer != self.k:
                return self.ghost_bytes(n.path)
            return la.hidden.get(n.path, 0) if la is not None else None
        assert type(n) is Entry
        if n.type == DIR:
            return la.added.get(n.path, 0) if la is not None else None
        return n.size if n.layer == self.k else 0

    def deleted_under(self, path: str) -> int:
        """Bytes layer k's deletions hid under a live directory (0 while not known)."""
        la = self.sizes.layer(self.k)
        return la.hidden.get(path, 0) if la is not None else 0

    def size_key(self, n: Entry | Deletion) -> int:
        """Rank in layer k's own view: bytes added plus bytes its deletions left behind there.

        So a layer that only ran ``rm -rf /var/lib/apt/lists`` sorts ``/var`` first.
        """
        own = self.own_size(n) or 0
        if type(n) is Entry and n.type == DIR:
            own += self.deleted_under(n.path)
        return own

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


def _fragment(query: str) -> str | None:
    """The fragment of a plain substring query (None for a regex or a glob)."""
    q = query.strip()
    return None if q.startswith("re:") or is_glob(q) else q


def search(
    merged: Merged,
    k: int,
    query: str,
    limit: int = 10_000,
    cancelled: Callable[[], bool] | None = None,
    ghosts: bool = True,
    count: bool = True,
    packages: PackageIndex | None = None,
) -> tuple[list[Entry | Deletion], int]:
    """Paths as of layer k matching a query: live, deleted by layer k, and (``ghosts``)
    deleted by a lower layer while their bytes still ship.

    ``pkg:NAME`` (``packages.lookup``) is the files the packages named own,
    from ``packages``; a ValueError if the image has none (or they are not read yet).

    Returns up to ``limit`` matches in path order and the total count
    (without ``count``: it stops at ``limit``, and the count is what it found).
    A plain fragment is matched by the core without the GIL; a glob or a
    regex here, polling ``cancelled`` every few thousand paths so a superseded
    search (the user typed on) stops instead of competing for the GIL.
    """
    owned = _package_matches(merged, k, query, ghosts, packages)
    if owned is not None:
        return owned[:limit], len(owned)
    fragment = _fragment(query)
    if fragment is not None:
        if cancelled is not None and cancelled():
            return [], 0  # the core's walk takes milliseconds: asked once, before it
        first, total, _ = merged.find_fragment(fragment, k, ghosts, limit, stop_at_limit=not count)
        return first, total
    match = compile_query(query)
    out: list[Entry | Deletion] = []
    total = 0
    state_at = merged.state_at
    for n, p in enumerate(cached_paths(merged)):
        if cancelled is not None and not n & 4095 and cancelled():
            break
        if not match(p):
            continue
        ev = state_at(p, k)
        if not visible(ev, k, ghosts):
            continue
        assert ev is not None
        if len(out) < limit:
            out.append(ev)
        elif not count:
            break
        total += 1
    return out, total


def _package_matches(
    merged: Merged, k: int, query: str, ghosts: bool, packages: PackageIndex | None
) -> list[Entry | Deletion] | None:
    """A ``pkg:`` query's matches (None: the query is no ``pkg:`` one)."""
    from .packages import lookup

    if not lookup.is_package_query(query):
        return None
    if packages is None or not packages.any:
        raise ValueError("pkg: no package database in this image (or not read yet)")
    return lookup.package_paths(merged, packages, k, query, ghosts)


def count_matches(
    merged: Merged,
    k: int,
    query: str,
    cancelled: Callable[[], bool] | None = None,
    ghosts: bool = True,
    packages: PackageIndex | None = None,
) -> tuple[int, int]:
    """How many paths ``search`` matches, and how many of them are deleted ((-1, -1) if cancelled)."""
    try:
        owned = _package_matches(merged, k, query, ghosts, packages)
    except ValueError:
        return -1, -1  # ``search`` said why
    if owned is not None:
        return len(owned), sum(type(ev) is Deletion for ev in owned)
    fragment = _fragment(query)
    if fragment is not None:
        if cancelled is not None and cancelled():
            return -1, -1
        _, total, deleted = merged.find_fragment(fragment, k, ghosts, 0)
        return total, deleted
    match = compile_query(query)
    total = deleted = 0
    state_at = merged.state_at
    for n, p in enumerate(cached_paths(merged)):
        if cancelled is not None and not n & 4095 and cancelled():
            return -1, -1
        if match(p):
            ev = state_at(p, k)
            if visible(ev, k, ghosts):
                total += 1
                deleted += type(ev) is Deletion
    return total, deleted


def matched_bytes(snap: Snapshot, paths: Iterable[str], layer_only: bool = False) -> dict[str, int]:
    """Bytes of the matching regular files under each directory: what a filtered tree shows.

    A directory of a tree filtered to a search's matches holds only those,
    so its size is theirs, not its whole subtree's: live regular files as of
    layer k (as ``Sizes``: a hardlink or a symlink carries none), or in the
    layer's own view those the layer ships. Linear in the matches: run it in
    a worker.
    """
    out: dict[str, int] = {}
    k = snap.k
    state_at = snap.merged.state_at
    for p in paths:
        ev = state_at(p, k)
        if type(ev) is not Entry or ev.type != FILE or (layer_only and ev.layer != k):
            continue
        q = parent_of(p)
        while True:
            out[q] = out.get(q, 0) + ev.size
            if q == ROOT:
                break
            q = parent_of(q)
    return out


@dataclass(frozen=True, eq=False)
class Within:
    """A tree filtered to a search's matches: the matches, and with their ancestors."""

    matched: frozenset[str]
    paths: frozenset[str]

    @classmethod
    def of(cls, matches: Iterable[str]) -> Within:
        matched = frozenset(matches)
        return cls(matched, frozenset(with_ancestors(matched)))


def with_ancestors(paths: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for p in paths:
        out.add(p)
        q = parent_of(p)
        while q != ROOT and q not in out:
            out.add(q)
            q = parent_of(q)
    return out
