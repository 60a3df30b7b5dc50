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

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from debian.debian_support import Version

from .. import _core
from ..merge import Merged
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
# Ecosystems whose packages yield a path to an OS package that lists it too.
_LANGUAGES = (Ecosystem.PYTHON, Ecosystem.NPM)


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
    A layer that changed no package and no symlink has the layer below's
    answers (the same objects): a 100k-file ``COPY`` costs no second listing.
    """

    merged: Merged
    layers: list[LayerPackages]
    problems: list[DbProblem]
    _bases: dict[int, int] = field(default_factory=dict)
    _files: dict[int, list[tuple[Package, list[str]]]] = field(default_factory=dict)
    _listing: dict[int, dict[str, list[Package]]] = field(default_factory=dict)
    _owners: dict[int, dict[str, Package]] = field(default_factory=dict)
    _owned: dict[int, _core.PathSet] = field(default_factory=dict)

    def at(self, k: int) -> Mapping[Key, Package]:
        return self.layers[k].packages if 0 <= k < len(self.layers) else {}

    def _base(self, k: int) -> int:
        """The lowest layer whose answers layer k shares: no layer from it up to k
        changed the packages or a symlink."""
        if k not in self._bases:
            j = k
            while j > 0 and self.at(j) is self.at(j - 1) and not self.merged.links_changed(j):
                j -= 1
            self._bases[k] = j
        return self._bases[k]

    def files_at(self, k: int) -> list[tuple[Package, list[str]]]:
        """Each package as of layer k with its files where the image holds them."""
        j = self._base(k)
        if j not in self._files:
            pkgs = list(self.at(j).values())
            listed = [p for pkg in pkgs for p in pkg.files]
            real = self.merged.resolve_dirs(listed, j) if listed else []
            out, i = [], 0
            for pkg in pkgs:
                out.append((pkg, real[i : i + len(pkg.files)]))
                i += len(pkg.files)
            self._files[j] = out
        return self._files[j]

    def listing(self, k: int) -> dict[str, list[Package]]:
        """Path -> the packages as of layer k that list it (as the image holds it)."""
        j = self._base(k)
        if j not in self._listing:
            by_path: dict[str, list[Package]] = {}
            for pkg, files in self.files_at(j):
                for path in files:
                    by_path.setdefault(path, []).append(pkg)
            self._listing[j] = by_path
        return self._listing[j]

    def owners_at(self, k: int) -> dict[str, Package]:
        """Path -> owning package as of layer k (an OS package wins over a language one)."""
        j = self._base(k)
        if j not in self._owners:
            owners: dict[str, Package] = {}
            for pkg, files in sorted(self.files_at(j), key=lambda pf: pf[0].ecosystem in _LANGUAGES):
                for path in files:
                    owners.setdefault(path, pkg)
            self._owners[j] = owners
        return self._owners[j]

    def owned(self, k: int) -> _core.PathSet:
        """The paths some package owns as of layer k, as the core's scans take them."""
        j = self._base(k)
        if j not in self._owned:
            self._owned[j] = self.merged.path_set(self.owners_at(j))
        return self._owned[j]

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
    if dpkg.in_database(path):
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
    """Per layer, the database units its entries or deletions touched (in the
    order of the markers, then of the paths); and the layers that wrote dpkg's log."""
    touched: dict[int, dict[str, Reader]] = defaultdict(dict)
    logged: set[int] = set()
    found = sorted(merged.paths_containing(_MARKERS), key=lambda pl: pl.needle)  # stable: paths in byte order
    for pl in found:
        if pl.path == dpkg.LOG:
            logged.update(pl.layers)
        unit = _reader_of(pl.path)
        if unit is None:
            continue
        for layer in pl.layers:
            touched[layer][unit[0]] = unit[1]
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
    found.sort(key=lambda f: (f[1].ecosystem, f[1].name, f[1].arch, f[1].db))
    listed = [p for how, pkg, _old in found if how is not How.REMOVED for p in pkg.files]
    sizes = merged.file_sizes(merged.resolve_dirs(listed, k), k, layer_only=True) if listed else []
    out, i = [], 0
    for how, pkg, old_version in found:
        n = 0 if how is How.REMOVED else len(pkg.files)
        out.append(PackageChange(how, pkg, old_version, sum(sizes[i : i + n])))
        i += n
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
