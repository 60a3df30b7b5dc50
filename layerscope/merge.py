"""Apply layers by the OCI changeset rules and keep every path's history.

For each path the merge keeps its *timeline*: every layer's entry for it and
every deletion, in layer order. The merged tree as of any layer K is then the
last event at or below K of each path, and the versions a path hides are the
entries before the one that supplies it.

The merge itself runs in the core (``src/tree.rs``): entries stay there in
flat arrays and this module is the typed, read-only face of them, making
Python objects only for what a caller asks for.

Rules (OCI image spec, "Applying Changesets"): whiteouts and opaque markers
hide *lower* layers only and apply before the layer's own entries whatever the
tar order; replacing a directory by a non-directory (or back) deletes the old
subtree implicitly; missing parents are created as implicit directories.
"""

from __future__ import annotations

from collections.abc import Iterator

from . import _core
from .model import (
    DIR,
    Deletion,
    Entry,
    Event,
    Image,
    Layer,
    LoadWarning,
)

ROOT = "/"


def parent_of(path: str) -> str:
    return path.rsplit("/", 1)[0] or ROOT


def sort_key(path: str) -> str:
    """Depth-first order: ``/a`` < ``/a/b`` < ``/a-b``."""
    return path.replace("/", "\0")


class Merged:
    """Every path's timeline across all layers of one image: a read-only view
    of the core's merged model (:class:`layerscope._core.Tree`).

    Paths are addressed by name; the objects handed out (``Entry``,
    ``Deletion``) are made on demand, so a caller compares versions with
    ``Entry.same``/``Entry.key``, never by identity.
    """

    def __init__(self, image: Image) -> None:
        if image.tree is None:
            raise ValueError("the image is not merged yet: call merge(image)")
        self.image = image
        self.tree = image.tree
        self.root = Entry(path=ROOT, type=DIR, mode=0o755, uid=0, gid=0, size=0, mtime=0, layer=0, implicit=True)

    # -- one path --------------------------------------------------------------
    def __contains__(self, path: str) -> bool:
        return path != ROOT and self.tree.find(path) is not None

    def __len__(self) -> int:
        """Paths in the merged model (the root not counted)."""
        return len(self.tree) - 1

    def history(self, path: str) -> list[Event]:
        """Every event of a path, in layer order (``[root]`` for ``/``)."""
        if path == ROOT:
            return [self.root]
        pid = self.tree.find(path)
        return [] if pid is None else self.tree.timeline(pid)

    def state_at(self, path: str, k: int) -> Event | None:
        """The last event at or below layer k."""
        if path == ROOT:
            return self.root
        pid = self.tree.find(path)
        return None if pid is None else self.tree.state_at(pid, k)

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

    def children_of(self, path: str) -> list[str]:
        """The paths directly under ``path`` that any layer has, in byte order."""
        pid = 0 if path == ROOT else self.tree.find(path)
        if pid is None:
            return []
        tree = self.tree
        return [tree.path(c) for c in tree.children(pid)]

    def child_count(self, path: str) -> int:
        """How many paths any layer has directly under ``path``."""
        pid = 0 if path == ROOT else self.tree.find(path)
        return 0 if pid is None else self.tree.child_count(pid)

    def children_at(self, path: str, k: int) -> list[Event]:
        """The state as of layer ``k`` of each path under ``path`` that has one
        by then (an entry or a deletion), in byte order of their paths."""
        pid = 0 if path == ROOT else self.tree.find(path)
        if pid is None:
            return []
        return [ev for ev in self.tree.children_at(pid, k) if ev is not None]

    def versions_below(self, entry: Entry) -> list[Entry]:
        """Lower versions hidden by ``entry`` (lowest first), deleted ones included."""
        out: list[Entry] = []
        for ev in self.history(entry.path):
            if type(ev) is Entry:
                if ev.same(entry):
                    break
                out.append(ev)
        return out

    # -- layers ----------------------------------------------------------------
    @property
    def top(self) -> int:
        return len(self.image.layers) - 1

    def layer_entries(self, k: int) -> list[Entry]:
        """Layer k's own entries, in the order it lists them, with their change class."""
        return self.tree.layer_entries(k)

    def deletions(self, k: int) -> list[Deletion]:
        """The paths layer k deleted (each path of a deleted subtree, not only its top)."""
        return self.tree.layer_deletions(k)

    # -- every path ------------------------------------------------------------
    def paths(self) -> list[str]:
        """Every path in byte order (the root not included)."""
        return self.tree.paths(1)

    def find_fragment(
        self, fragment: str, k: int, ghosts: bool, limit: int, stop_at_limit: bool = False
    ) -> tuple[list[Event], int, int]:
        """Paths containing ``fragment`` (case-insensitively) shown as of layer k, in byte order.

        Shown: present, deleted by layer k, or (``ghosts``) deleted by a lower
        layer. Returns the states of the first ``limit``, how many there are
        (up to ``limit`` with ``stop_at_limit``) and how many are deleted. The
        core walks every path with the GIL released (``src/search.rs``).
        """
        found = self.tree.find_fragment(fragment.lower(), k, ghosts, limit, stop_at_limit)
        return found.first, found.total, found.deleted

    def timelines(self) -> Iterator[tuple[str, list[Event]]]:
        """Every path with its events, in byte order of the paths."""
        tree = self.tree
        for pid in range(1, len(tree)):
            yield tree.path(pid), tree.timeline(pid)

    def files_at(self, k: int) -> Iterator[Entry]:
        """Live entries as of layer k, in path (byte) order."""
        tree = self.tree
        for pid in range(1, len(tree)):
            ev = tree.state_at(pid, k)
            if type(ev) is Entry:
                yield ev

    def hidden_at(self, k: int) -> Iterator[tuple[Deletion, list[Entry]]]:
        """Paths deleted as of layer k whose lower versions still ship."""
        tree = self.tree
        for pid in range(1, len(tree)):
            if tree.event_count(pid) < 2:  # a path seen once is never a hidden deletion
                continue
            ev = tree.state_at(pid, k)
            if type(ev) is Deletion:
                versions = [v for v in tree.timeline(pid) if type(v) is Entry and v.layer < ev.layer]
                if versions:
                    yield ev, versions


def _input(layer: Layer, name: str) -> _core.MergeLayer:
    """What the core merges for a layer: the rows its scan kept, or the
    entries a Python source read."""
    return _core.MergeLayer(
        index=layer.index,
        name=name,
        rows=layer.rows if layer.rows is not None else layer.entries,
        whiteouts=layer.whiteouts,
        opaque_dirs=layer.opaque_dirs,
        copy_ups=layer.copy_ups,
    )


def _build(image: Image) -> None:
    """Merge the image's layers in the core, once; fill each layer's counts and warnings."""
    layers = image.layers
    names = [f"layer {la.index} ({la.source_name})" for la in layers]
    image.tree = _core.merge_layers([_input(la, names[i]) for i, la in enumerate(layers)], len(layers))
    for la in layers:
        la.rows = None
        la.entries = []  # the tree holds them now: one place to read them from
        la.counts = image.tree.counts(la.index)
        for w in image.tree.warnings(la.index):
            la.warnings.append(w.message)
            if w.kind != "merge":
                la.issues.append(LoadWarning(w.kind, w.message, la.index))


def merge(image: Image) -> Merged:
    """The merged view of an image; the first call merges its layers in the core."""
    if image.tree is not None:
        return Merged(image)
    _build(image)
    merged = Merged(image)
    for layer in image.layers:
        image.warnings.extend(layer.warnings)
        if layer.error:
            image.warnings.append(f"layer {layer.index} is damaged: {layer.error}")
    return merged
