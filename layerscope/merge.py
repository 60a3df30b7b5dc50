"""Apply layers by the OCI changeset rules and keep every path's history.

For each path the merge keeps its *timeline*: every layer's entry for it and
every deletion, in layer order. The merged tree as of any layer K is then the
last event at or below K of each path, and the versions a path hides are the
entries before the one that supplies it. One pass per layer, dict lookups
only; deleting a directory visits only its live descendants (a live path's
parent is always a live directory, so a dead path's subtree is dead too).

Rules (OCI image spec, "Applying Changesets"): whiteouts and opaque markers
hide *lower* layers only and apply before the layer's own entries whatever the
tar order; replacing a directory by a non-directory (or back) deletes the old
subtree implicitly; missing parents are created as implicit directories.
"""

from __future__ import annotations

from collections.abc import Iterator

from .model import (
    ADDED,
    DIR,
    FILE,
    METADATA,
    MODIFIED,
    OPAQUE,
    REPLACED,
    REWRITTEN,
    SYMLINK,
    TYPE_CHANGED,
    WHITEOUT,
    Deletion,
    Entry,
    Event,
    Image,
    Layer,
)

ROOT = "/"


def parent_of(path: str) -> str:
    return path.rsplit("/", 1)[0] or ROOT


def sort_key(path: str) -> str:
    """Depth-first order: ``/a`` < ``/a/b`` < ``/a-b``."""
    return path.replace("/", "\0")


def classify(prev: Entry | None, new: Entry) -> str:
    """How ``new`` relates to the version beneath it (None: nothing beneath)."""
    if prev is None:
        return ADDED
    ptype = prev.content_type
    ntype = new.content_type
    if ptype != ntype:
        return TYPE_CHANGED
    if ntype == FILE:
        if prev.digest != new.digest or prev.size != new.size or (new.digest is None and new.size):
            return MODIFIED
    elif ntype == SYMLINK and prev.link != new.link:
        return MODIFIED
    if (
        prev.mode != new.mode
        or prev.uid != new.uid
        or prev.gid != new.gid
        or (prev.xattrs or None) != (new.xattrs or None)
    ):
        return METADATA
    return REWRITTEN


class Merged:
    """Every path's timeline across all layers of one image."""

    def __init__(self, image: Image) -> None:
        self.image = image
        self.events: dict[str, Event | list[Event]] = {}
        self.children: dict[str, list[str]] = {}
        self.warnings: list[str] = []
        self.root = Entry(ROOT, DIR, 0o755, 0, 0, 0, 0, None, None, None, -1, 0)
        self._sorted: list[str] | None = None
        self._layer: Layer | None = None
        for layer in image.layers:
            self._apply(layer)

    # -- timeline primitives -------------------------------------------------
    def _push(self, path: str, event: Event) -> None:
        events = self.events
        cur = events.get(path)
        if cur is None:
            events[path] = event
            parent = parent_of(path)
            kids = self.children.get(parent)
            if kids is None:
                self.children[parent] = [path]
            else:
                kids.append(path)
        elif type(cur) is list:
            cur.append(event)
        else:
            events[path] = [cur, event]  # type: ignore[list-item]

    def _replace_last(self, path: str, event: Event) -> None:
        cur = self.events[path]
        if type(cur) is list:
            cur[-1] = event
        else:
            self.events[path] = event

    def current(self, path: str) -> Event | None:
        """The newest event of a path (during the merge: as of this layer)."""
        if path == ROOT:
            return self.root
        cur = self.events.get(path)
        if isinstance(cur, list):
            return cur[-1]
        return cur

    def history(self, path: str) -> list[Event]:
        cur = self.events.get(path)
        if cur is None:
            return [self.root] if path == ROOT else []
        return cur if isinstance(cur, list) else [cur]

    def state_at(self, path: str, k: int) -> Event | None:
        """The last event at or below layer k."""
        if path == ROOT:
            return self.root
        cur = self.events.get(path)
        if cur is None:
            return None
        if not isinstance(cur, list):
            return cur if cur.layer <= k else None
        for ev in reversed(cur):
            if ev.layer <= k:
                return ev
        return None

    def newest_entry_at(self, path: str, k: int) -> Entry | None:
        """The newest version of ``path`` at or below layer ``k``, even one a
        deletion hides: for a deleted path, the version that still ships."""
        for ev in reversed(self.history(path)):
            if ev.layer <= k and type(ev) is Entry:
                return ev
        return None

    def entry_at(self, path: str, k: int) -> Entry | None:
        ev = self.state_at(path, k)
        return ev if type(ev) is Entry else None

    def _before(self, path: str, layer: int) -> Entry | None:
        ev = self.state_at(path, layer - 1)
        return ev if type(ev) is Entry else None

    # -- applying one layer --------------------------------------------------
    def _delete(self, path: str, layer: Layer, how: str, cause: str) -> None:
        stack = [path]
        idx = layer.index
        while stack:
            p = stack.pop()
            cur = self.current(p)
            if type(cur) is not Entry or p == ROOT:
                continue
            d = Deletion(p, idx, how, cause)
            self._push(p, d)
            layer.deletions.append(d)
            if cur.type == DIR:
                stack.extend(self.children.get(p, ()))

    def _ensure_parents(self, path: str, layer: Layer) -> None:
        parent = parent_of(path)
        if parent == ROOT:
            return
        cur = self.current(parent)
        if type(cur) is Entry and cur.type == DIR:
            return
        chain: list[str] = []
        q = parent
        while q != ROOT:
            cur = self.current(q)
            if type(cur) is Entry:
                if cur.type == DIR:
                    break
                layer.warnings.append(
                    f"layer {layer.index}: {q} is a {cur.type} but is used as a directory; replaced by one"
                )
                chain.append(q)
                break
            chain.append(q)
            q = parent_of(q)
        for q in reversed(chain):
            implicit = Entry(q, DIR, 0o755, 0, 0, 0, 0, None, None, None, -1, layer.index)
            implicit.change = classify(self._before(q, layer.index), implicit)
            self._push(q, implicit)

    def _apply(self, layer: Layer) -> None:
        idx = layer.index
        for d in layer.opaque_dirs:
            cur = self.current(d)
            if type(cur) is Entry and cur.type == DIR:
                for child in list(self.children.get(d, ())):
                    self._delete(child, layer, OPAQUE, d)
        for w in layer.whiteouts:
            if w == ROOT:
                layer.warnings.append(f"layer {idx}: whiteout of the root ignored")
                continue
            self._delete(w, layer, WHITEOUT, w)
        counts = layer.counts
        counts.entries = len(layer.entries)
        for e in layer.entries:
            p = e.path
            if p == ROOT:
                continue
            cur = self.current(p)
            replace_implicit = type(cur) is Entry and cur.layer == idx and cur.offset == -1
            if type(cur) is Entry and cur.type == DIR and e.type != DIR:
                if replace_implicit:
                    layer.warnings.append(
                        f"layer {idx}: {p} is a {e.type} listed after entries inside it; they are removed"
                    )
                for child in list(self.children.get(p, ())):
                    self._delete(child, layer, REPLACED, p)
            self._ensure_parents(p, layer)
            if e.type == "hardlink":
                self._resolve_hardlink(e, layer)
            e.change = classify(self._before(p, idx), e)
            if replace_implicit:
                self._replace_last(p, e)
            else:
                self._push(p, e)
        for e in layer.entries:
            c = e.change
            if c == ADDED:
                counts.added += 1
            elif c == MODIFIED:
                counts.modified += 1
            elif c == METADATA:
                counts.metadata += 1
            elif c == REWRITTEN:
                if e.type == DIR:
                    counts.dirs_rewritten += 1
                else:
                    counts.rewritten += 1
            elif c == TYPE_CHANGED:
                counts.type_changed += 1
        counts.deleted = sum(1 for d in layer.deletions if self.current(d.path) is d)

    def _resolve_hardlink(self, e: Entry, layer: Layer) -> None:
        target = e.link or ""
        cur = self.current(target)
        if target == e.path:
            layer.warnings.append(f"layer {layer.index}: hardlink {e.path} points to itself")
        elif type(cur) is not Entry:
            layer.warnings.append(f"layer {layer.index}: hardlink {e.path} -> {target}: target missing")
        elif cur.content_type != FILE:
            layer.warnings.append(f"layer {layer.index}: hardlink {e.path} -> {target}: target is a {cur.type}")
        else:
            e.source = cur.data_entry
            e.size = cur.size
            e.digest = cur.digest

    # -- queries ---------------------------------------------------------------
    @property
    def top(self) -> int:
        return len(self.image.layers) - 1

    def paths(self) -> list[str]:
        """Every path in plain string order (no key strings: 500k paths stay cheap).

        Sorted once: the timelines do not change after the merge, and the
        report, ``ls`` and the tree all walk them in order."""
        if self._sorted is None or len(self._sorted) != len(self.events):
            self._sorted = sorted(self.events)
        return self._sorted

    def files_at(self, k: int) -> Iterator[Entry]:
        """Live entries as of layer k, in path (byte) order."""
        if k >= self.top:  # the common case: the newest event of each path
            events = self.events
            for p in self.paths():
                cur = events[p]
                last = cur[-1] if isinstance(cur, list) else cur
                if type(last) is Entry:
                    yield last
            return
        for p in self.paths():
            ev = self.state_at(p, k)
            if type(ev) is Entry:
                yield ev

    def versions_below(self, entry: Entry) -> list[Entry]:
        """Lower versions hidden by ``entry`` (lowest first), deleted ones included."""
        hist = self.history(entry.path)
        out: list[Entry] = []
        for ev in hist:
            if ev is entry:
                break
            if type(ev) is Entry:
                out.append(ev)
        return out

    def hidden_at(self, k: int) -> Iterator[tuple[Deletion, list[Entry]]]:
        """Paths deleted as of layer k whose lower versions still ship."""
        events = self.events
        top = k >= self.top
        for p in self.paths():
            if top:  # the newest event; a path seen once is never a hidden deletion
                cur = events[p]
                if not isinstance(cur, list):
                    continue
                ev: Event | None = cur[-1]
            else:
                ev = self.state_at(p, k)
            if type(ev) is Deletion:
                hist = self.history(p)
                versions = [v for v in hist if type(v) is Entry and v.layer < ev.layer]
                if versions:
                    yield ev, versions


def merge(image: Image) -> Merged:
    merged = Merged(image)
    for layer in image.layers:
        image.warnings.extend(layer.warnings)
        if layer.error:
            image.warnings.append(f"layer {layer.index} is damaged: {layer.error}")
    return merged
