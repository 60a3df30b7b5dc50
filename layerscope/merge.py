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

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from . import _core
from .loader import ReadImage, core_warning
from .model import (
    DIR,
    Deletion,
    Entry,
    Event,
    Image,
    LayerContent,
)

ROOT = "/"


def parent_of(path: str) -> str:
    return path.rsplit("/", 1)[0] or ROOT


def sort_key(path: str) -> str:
    """Depth-first order: ``/a`` < ``/a/b`` < ``/a-b``."""
    return path.replace("/", "\0")


def _root() -> Entry:
    return Entry(path=ROOT, type=DIR, mode=0o755, uid=0, gid=0, size=0, mtime=0, layer=0, implicit=True)


@dataclass(frozen=True, slots=True, eq=False, weakref_slot=True)  # weakref: views keep caches by image
class Merged:
    """Every path's timeline across all layers of one image: a read-only view
    of the core's merged model (:class:`layerscope._core.Tree`), made by
    :func:`merge` with the image as read and merged.

    It is the only holder of the core's tree: callers ask it, never the tree
    (a test holds every module outside this one to that). Paths are addressed
    by name; the objects handed out (``Entry``, ``Deletion``) are made on
    demand, so a caller compares versions with ``Entry.same``/``Entry.key``,
    never by identity.
    """

    image: Image
    _tree: _core.Tree
    root: Entry = field(default_factory=_root)

    # -- one path --------------------------------------------------------------
    def __contains__(self, path: str) -> bool:
        return path != ROOT and self._tree.find(path) is not None

    def __len__(self) -> int:
        """Paths in the merged model (the root not counted)."""
        return len(self._tree) - 1

    def history(self, path: str) -> list[Event]:
        """Every event of a path, in layer order (``[root]`` for ``/``)."""
        if path == ROOT:
            return [self.root]
        pid = self._tree.find(path)
        return [] if pid is None else self._tree.timeline(pid)

    def state_at(self, path: str, k: int) -> Event | None:
        """The last event at or below layer k."""
        if path == ROOT:
            return self.root
        pid = self._tree.find(path)
        return None if pid is None else self._tree.state_at(pid, k)

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
        pid = 0 if path == ROOT else self._tree.find(path)
        if pid is None:
            return []
        tree = self._tree
        return [tree.path(c) for c in tree.children(pid)]

    def child_count(self, path: str) -> int:
        """How many paths any layer has directly under ``path``."""
        pid = 0 if path == ROOT else self._tree.find(path)
        return 0 if pid is None else self._tree.child_count(pid)

    def children_at(self, path: str, k: int) -> list[Event]:
        """The state as of layer ``k`` of each path under ``path`` that has one
        by then (an entry or a deletion), in byte order of their paths."""
        pid = 0 if path == ROOT else self._tree.find(path)
        if pid is None:
            return []
        return [ev for ev in self._tree.children_at(pid, k) if ev is not None]

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
        return self._tree.layer_entries(k)

    def deletions(self, k: int) -> list[Deletion]:
        """The paths layer k deleted (each path of a deleted subtree, not only its top)."""
        return self._tree.layer_deletions(k)

    # -- every path ------------------------------------------------------------
    def paths(self) -> list[str]:
        """Every path in byte order (the root not included)."""
        return self._tree.paths(1)

    def find_fragment(
        self, fragment: str, k: int, ghosts: bool, limit: int, stop_at_limit: bool = False
    ) -> tuple[list[Event], int, int]:
        """Paths containing ``fragment`` (case-insensitively) shown as of layer k, in byte order.

        Shown: present, deleted by layer k, or (``ghosts``) deleted by a lower
        layer. Returns the states of the first ``limit``, how many there are
        (up to ``limit`` with ``stop_at_limit``) and how many are deleted. The
        core walks every path with the GIL released (``src/search.rs``).
        """
        found = self._tree.find_fragment(fragment.lower(), k, ghosts, limit, stop_at_limit)
        return found.first, found.total, found.deleted

    def timelines(self) -> Iterator[tuple[str, list[Event]]]:
        """Every path with its events, in byte order of the paths."""
        tree = self._tree
        for pid in range(1, len(tree)):
            yield tree.path(pid), tree.timeline(pid)

    def files_at(self, k: int) -> Iterator[Entry]:
        """Live entries as of layer k, in path (byte) order."""
        tree = self._tree
        for pid in range(1, len(tree)):
            ev = tree.state_at(pid, k)
            if type(ev) is Entry:
                yield ev

    def hidden_at(self, k: int) -> Iterator[tuple[Deletion, list[Entry]]]:
        """Paths deleted as of layer k whose lower versions still ship."""
        tree = self._tree
        for pid in range(1, len(tree)):
            if tree.event_count(pid) < 2:  # a path seen once is never a hidden deletion
                continue
            ev = tree.state_at(pid, k)
            if type(ev) is Deletion:
                versions = [v for v in tree.timeline(pid) if type(v) is Entry and v.layer < ev.layer]
                if versions:
                    yield ev, versions

    # -- what the core computes over the whole tree ------------------------------
    def entry(self, eid: int) -> Entry:
        """The entry the core numbers ``eid`` (``Entry.id``)."""
        return self._tree.entry(eid)

    def audit(self, rules: list[_core.AuditRule]) -> _core.AuditResult:
        """The core's audit pass (``src/audit.rs``): waste rows and each rule's hits."""
        return self._tree.audit(rules)

    def dive_raw(self) -> _core.DiveSums:
        """dive's figures as the core counts them (``src/dive.rs``)."""
        return self._tree.dive_figures()

    def layer_bytes(self, k: int) -> _core.ByteFigures:
        """Layer ``k``'s added, hidden and delta bytes by cause, and the paths it changed."""
        return self._tree.layer_bytes(k)

    def path_waste(self, path: str) -> list[_core.Waste]:
        """The hidden file versions of ``path`` that are waste and what hid
        each: the audit's rule (``src/audit.rs``) on one timeline."""
        pid = self._tree.find(path)
        return [] if pid is None else self._tree.path_waste(pid)

    # -- what the package analysis asks of a layer (src/packages.rs) ------------
    def path_set(self, paths: Iterable[str]) -> _core.PathSet:
        """The paths of ``paths`` the image has, as a set the core's scans take."""
        return self._tree.path_set(list(paths))

    def unowned_dirs(self, k: int, owned: _core.PathSet, state: _core.PathRule) -> list[_core.DirFigure]:
        """Layer k's own non-directories not in ``owned``, not named by
        ``state`` and not whiteouts, counted by directory (byte order)."""
        return self._tree.unowned_dirs(k, owned, state)

    def events_on(self, k: int, on: _core.PathSet) -> list[Event]:
        """Layer k's entries (in its order), then its deletions, on the paths of ``on``."""
        return self._tree.events_on(k, on)

    def links_changed(self, k: int) -> bool:
        """Whether layer k may change where a path resolves through symlinks
        (it has an event on a path that is a symlink as of k or below it)."""
        return self._tree.links_changed(k)

    def paths_containing(self, fragments: Iterable[str]) -> list[_core.PathLayers]:
        """Every path containing one of ``fragments`` (case-insensitively), in
        byte order, with the layers of its events and the first fragment it holds."""
        return self._tree.paths_containing([f.lower() for f in fragments])

    def resolve_dirs(self, paths: list[str], k: int) -> list[str]:
        """Each path with its directory resolved through the image's symlinks
        as of layer k (inside the image, bounded hops; never on the host)."""
        return self._tree.resolve_dirs(paths, k)

    def file_sizes(self, paths: list[str], k: int, layer_only: bool = False) -> list[int]:
        """Each path's regular-file size as of layer k, 0 for anything else
        (with ``layer_only``, also 0 where layer k did not write it)."""
        return self._tree.file_sizes(paths, k, layer_only)

    def non_dirs(self, paths: list[str], k: int) -> list[bool]:
        """Whether each path is, as of layer k, present and not a directory."""
        return self._tree.non_dirs(paths, k)

    def write_array(
        self,
        which: str,
        k: int,
        write: Callable[[str], object],
        chunk: int = 1 << 20,
        *,
        paths: Iterable[str] | None = None,
        layer_only: bool = False,
        owners: Mapping[str, str] | None = None,
    ) -> int:
        """The JSON array ``which`` (``files``/``hidden``) as of layer ``k``,
        written by the core in pieces of about ``chunk`` characters; returns
        the number of objects.

        ``paths`` keeps only those paths, ``layer_only`` only what layer ``k``
        itself did (``ls --changes``), and ``owners`` (path -> the owning
        package's text) gives every ``files`` object an ``owner`` field,
        null where the mapping has none. The core is the one writer of these
        objects (``src/json.rs``).
        """
        tree = self._tree
        ids = None if paths is None else sorted({i for p in paths if (i := tree.find(p)) is not None})
        own = None
        if owners is not None:
            own = {}
            texts: dict[str, bytes] = {}  # one package owns thousands of paths: encode its text once
            for p, o in owners.items():
                pid = tree.find(p)
                if pid is not None:
                    b = texts.get(o)
                    own[pid] = texts.setdefault(o, o.encode("utf-8", "surrogateescape")) if b is None else b
        return tree.write_array(which, k, write, chunk, ids=ids, layer_only=layer_only, owners=own)


def _input(
    index: int, name: str, la_whiteouts: list[str], la_opaque: list[str], content: LayerContent
) -> _core.MergeLayer:
    """What the core merges for a layer: the rows its scan kept, or the
    entries a Python source read."""
    return _core.MergeLayer(
        index=index,
        name=name,
        rows=content.rows if content.rows is not None else list(content.entries),
        whiteouts=la_whiteouts,
        opaque_dirs=la_opaque,
        copy_ups=content.copy_ups,
    )


def merge(read: ReadImage) -> Merged:
    """Merge the read layers in the core, once: the final image, with each
    layer's counts and the merge's warnings, and its merged view."""
    image = read.image
    layers = image.layers
    names = [f"layer {la.index} ({la.source_name})" for la in layers]
    tree = _core.merge_layers(
        [_input(la.index, names[i], la.whiteouts, la.opaque_dirs, read.contents[i]) for i, la in enumerate(layers)],
        len(layers),
    )
    merged = tuple(
        replace(
            la,
            counts=tree.counts(la.index),
            warnings=la.warnings + tuple(core_warning(w.kind, w.message, la.index) for w in tree.warnings(la.index)),
        )
        for la in layers
    )
    return Merged(replace(image, layers=merged), tree)
