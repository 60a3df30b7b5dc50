"""Packages as of every layer: what each layer installs, removes, upgrades,
and which package owns each file.

The databases are found by name (``dpkg.ROOT``, ``apk.INSTALLED``, Python's
``*.dist-info``): the core's search finds every path that ever held one, and
their timelines say which layers touched which database. Only those layers'
databases are read (``view.LayerView`` caches each file version's parse), so
an image without packages costs one search, and a layer that changed no
database shares the layer below's packages.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from debian.debian_support import Version

from ..merge import Merged
from ..model import Entry
from . import apk, dpkg, npm, pydist, rpm
from .records import DbProblem, Ecosystem, Package
from .view import LayerView

Key = tuple[str, str, str]
# The fragments the core searches for (case-insensitively; filtered exactly after).
_MARKERS = (
    dpkg.ROOT + "/",
    dpkg.LOG,
    apk.INSTALLED,
    *(d + "/" for d in rpm.DIRS),
    ".dist-info/",
    ".egg-info",
    npm.MARKER,
)
_SEARCH_LIMIT = 5_000_000


class How(StrEnum):
    """What a layer did to a package."""

    ADDED = "added"
    REMOVED = "removed"
    UPGRADED = "upgraded"
    DOWNGRADED = "downgraded"
    REINSTALLED = "reinstalled"
    TRANSIENT = "installed-and-removed"  # in one layer: its files may still ship below a whiteout


@dataclass(frozen=True, slots=True)
class PackageChange:
    how: How
    package: Package  # the package as of the layer (as of the layer below for a removal)
    old_version: str | None  # for an upgrade, a downgrade or a reinstall
    layer_bytes: int  # bytes of the package's files this layer ships


@dataclass(frozen=True, slots=True)
class LayerPackages:
    index: int
    packages: Mapping[Key, Package]
    changes: tuple[PackageChange, ...]


@dataclass(slots=True)
class PackageIndex:
    """Every layer's packages; ``owner_at`` answers which package owns a path.

    A package lists its files where it was built to put them; the image may
    reach them through a symlinked directory (merged /usr: ``/bin`` ->
    ``usr/bin``), so owners are keyed by the path the image holds the file at.
    """

    merged: Merged
    layers: list[LayerPackages]
    problems: list[DbProblem]
    _owners: dict[int, dict[str, Package]] = field(default_factory=dict)

    def at(self, k: int) -> Mapping[Key, Package]:
        return self.layers[k].packages if 0 <= k < len(self.layers) else {}

    def owners_at(self, k: int) -> dict[str, Package]:
        """Path -> owning package as of layer k (an OS package wins over a language one)."""
        if k not in self._owners:
            owners: dict[str, Package] = {}
            resolve = DirLinks(self.merged, k).resolve
            for pkg in sorted(self.at(k).values(), key=lambda p: p.ecosystem in (Ecosystem.PYTHON, Ecosystem.NPM)):
                for path in pkg.files:
                    owners.setdefault(resolve(path), pkg)
            self._owners[k] = owners
        return self._owners[k]

    def owner_at(self, path: str, k: int) -> Package | None:
        return self.owners_at(k).get(path)

    def first_layer(self, pkg: Package, k: int) -> int:
        """The layer from which ``pkg`` (as found at layer k) was there unchanged up to k."""
        while k > 0 and self.at(k - 1).get(pkg.key) == pkg:
            k -= 1
        return k

    @property
    def any(self) -> bool:
        return any(la.packages for la in self.layers)


Reader = Callable[[LayerView, str], list[Package]]


def _reader_of(path: str) -> tuple[str, Reader] | None:
    """The database unit a path belongs to, and how to read it."""
    if dpkg.is_state(path):
        return dpkg.ROOT, lambda view, _key: dpkg.read(view)
    if path == apk.INSTALLED:
        return apk.INSTALLED, lambda view, _key: apk.read(view)
    for d in rpm.DIRS:
        if path == d or path.startswith(d + "/"):
            return d, rpm.read
    key = pydist.record_of(path)
    if key is not None:
        return key, pydist.read
    key = npm.record_of(path)
    if key is not None:
        return key, npm.read
    return None


def _touched(merged: Merged) -> tuple[dict[int, dict[str, Reader]], set[int]]:
    """Per layer, the database units its entries or deletions touched; and
    the layers that wrote dpkg's log."""
    touched: dict[int, dict[str, Reader]] = defaultdict(dict)
    logged: set[int] = set()
    seen: set[str] = set()
    for marker in _MARKERS:
        events, _count, _deleted = merged.find_fragment(marker, merged.top, True, _SEARCH_LIMIT)
        for ev in events:
            if ev.path in seen:
                continue
            seen.add(ev.path)
            if ev.path == dpkg.LOG:
                logged.update(step.layer for step in merged.history(ev.path))
            unit = _reader_of(ev.path)
            if unit is None:
                continue
            for step in merged.history(ev.path):
                touched[step.layer][unit[0]] = unit[1]
    return touched, logged


def compare_versions(old: str, new: str, ecosystem: str) -> int:
    """-1, 0 or 1 as ``old`` is older, the same or newer: dpkg's ordering for deb, else text."""
    if ecosystem == Ecosystem.DEB:
        try:
            a, b = Version(old), Version(new)
            return (a > b) - (a < b)
        except ValueError:
            pass
    return (old > new) - (old < new)


def _changes(merged: Merged, k: int, below: Mapping[Key, Package], now: Mapping[Key, Package]) -> list[PackageChange]:
    """What layer k did to each package, with the bytes of its files in layer k."""
    found: list[tuple[How, Package, str | None]] = []
    for key, pkg in now.items():
        old = below.get(key)
        if old is None:
            found.append((How.ADDED, pkg, None))
        elif old.version != pkg.version:
            up = compare_versions(old.version, pkg.version, pkg.ecosystem) < 0
            found.append((How.UPGRADED if up else How.DOWNGRADED, pkg, old.version))
        elif old.stamp != pkg.stamp and pkg.stamp >= 0:
            found.append((How.REINSTALLED, pkg, old.version))
    for key, old in below.items():
        if key not in now:
            found.append((How.REMOVED, old, None))
    if not found:
        return []
    sizes = {e.path: e.size for e in merged.layer_entries(k) if type(e) is Entry and e.type == "file"}
    resolve = DirLinks(merged, k).resolve
    out = []
    for how, pkg, old_version in sorted(found, key=lambda f: (f[1].ecosystem, f[1].name, f[1].arch, f[1].db)):
        nbytes = 0 if how is How.REMOVED else sum(sizes.get(resolve(p), 0) for p in pkg.files)
        out.append(PackageChange(how, pkg, old_version, nbytes))
    return out


def _transient(
    view: LayerView, below_view: LayerView, below: Mapping[Key, Package], now: Mapping[Key, Package]
) -> list[PackageChange]:
    """Packages the layer's dpkg.log says it installed and removed again."""
    return [
        PackageChange(How.TRANSIENT, p, None, 0)
        for p in dpkg.transient(view, below_view)
        if p.key not in now and p.key not in below
    ]


def build(merged: Merged) -> PackageIndex:
    """Read the package databases of every layer of ``merged``."""
    touched, logged = _touched(merged)
    cache: dict[tuple[int, str], object] = {}
    units: dict[str, list[Package]] = {}
    layers: list[LayerPackages] = []
    problems: list[DbProblem] = []
    below: Mapping[Key, Package] = {}
    for k in range(merged.top + 1):
        if k in touched or k in logged:
            view = LayerView(merged, k, cache)
            for unit, read in touched[k].items():
                units[unit] = read(view, unit)
            now: Mapping[Key, Package] = {p.key: p for pkgs in units.values() for p in pkgs}
            found = _changes(merged, k, below, now)
            if k in logged:
                found += _transient(view, LayerView(merged, k - 1, cache), below, now)
            problems.extend(view.problems)
            layers.append(LayerPackages(k, now, tuple(found)))
        else:
            layers.append(LayerPackages(k, below, ()))
        below = layers[-1].packages
    return PackageIndex(merged, layers, problems)


class DirLinks:
    """Where a listed path is in the image as of layer k, through symlinked
    directories (resolved inside the image, never on the host; bounded hops)."""

    HOPS = 16

    def __init__(self, merged: Merged, k: int) -> None:
        self.merged = merged
        self.k = k
        self._dirs: dict[str, str] = {"/": "/"}

    def resolve(self, path: str) -> str:
        parent, _, name = path.rpartition("/")
        return self._dir(parent or "/").rstrip("/") + "/" + name

    def _dir(self, path: str) -> str:
        if path in self._dirs:
            return self._dirs[path]
        real = path
        for _ in range(self.HOPS):
            parent, _, name = real.rpartition("/")
            base = self._dir(parent or "/").rstrip("/") + "/" + name
            e = self.merged.entry_at(base, self.k)
            if e is None or e.type != "symlink" or not e.link:
                real = base
                break
            target = e.link if e.link.startswith("/") else posixpath.join(parent or "/", e.link)
            real = posixpath.normpath(target)
        self._dirs[path] = real
        return real
