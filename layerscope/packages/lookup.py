"""Questions the UI asks of the package index: who owns a path, which paths a
package owns (the ``pkg:`` search), and one layer's package changes as rows.

Plain Python over ``PackageIndex`` (no Textual): the rules are tested
headless, and the widgets only draw what these return.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass

from ..merge import Merged
from ..model import DIR, Deletion, Entry
from .audit import is_state, unmanaged
from .index import How, PackageChange, PackageIndex, build
from .records import Ecosystem, Package

PREFIX = "pkg:"
_ECOSYSTEMS = {str(e) for e in Ecosystem}
UNMANAGED = "none (unmanaged)"
STATE = "none (package manager state)"
DIRECTORY = "- (a directory)"
# The order a layer's changes are listed in: what it brought first.
_ORDER = {How.ADDED: 0, How.UPGRADED: 1, How.DOWNGRADED: 2, How.REINSTALLED: 3, How.TRANSIENT: 4, How.REMOVED: 5}


def is_package_query(query: str) -> bool:
    """``pkg:NAME`` or ``pkg:ECOSYSTEM:NAME``: a search for the files packages own."""
    return query.strip().startswith(PREFIX)


def package_matcher(query: str) -> Callable[[Package], bool]:
    """Which packages a ``pkg:`` query names.

    ``pkg:openssl`` is every package named openssl, in any ecosystem;
    ``pkg:deb:openssl`` only dpkg's. The name is matched whole, as dpkg -L
    and rpm -ql take it, case-insensitively (PyPI's names are not
    case-sensitive, dpkg's are lower-case); a name with ``*?[`` is a glob
    (``pkg:libssl*``). Raises ValueError for an empty name.
    """
    rest = query.strip()[len(PREFIX) :].strip()
    eco, sep, name = rest.partition(":")
    if not sep or eco.lower() not in _ECOSYSTEMS:
        eco, name = "", rest
    name = name.lower()
    if not name:
        raise ValueError("pkg: needs a package name (pkg:openssl, pkg:deb:openssl, pkg:libssl*)")
    eco = eco.lower()
    glob = any(c in name for c in "*?[")

    def match(p: Package) -> bool:
        if eco and p.ecosystem != eco:
            return False
        n = p.name.lower()
        return fnmatch.fnmatchcase(n, name) if glob else n == name

    return match


def package_paths(merged: Merged, ix: PackageIndex, k: int, query: str, ghosts: bool = True) -> list[Entry | Deletion]:
    """The files (not directories: those are shared) as of layer k that the
    packages a ``pkg:`` query names own, in path order.

    A packaged file a layer deleted is listed as the tree shows it: a
    deletion (by k or, with ``ghosts``, below it).
    """
    match = package_matcher(query)
    out: list[Entry | Deletion] = []
    for path, pkg in ix.owners_at(k).items():
        if not match(pkg):
            continue
        ev = merged.state_at(path, k)
        if ev is None or (type(ev) is Entry and ev.type == DIR):
            continue
        if type(ev) is Deletion:
            before = merged.entry_at(path, ev.layer - 1) if ev.layer > 0 else None
            if (before is not None and before.type == DIR) or not (ghosts or ev.layer == k):
                continue
        out.append(ev)
    out.sort(key=lambda ev: ev.path)
    return out


class Owners:
    """Who owns a path as of a layer, as ``dpkg -S`` answers it: one package, or
    several that list it (a directory, or merged /usr's ``/lib`` symlink that
    hundreds of packages list as their directory).

    ``PackageIndex.owner_at`` keeps one package per path (the files' owner);
    a path several OS packages list is theirs together, not the first's.
    The listing is the index's (``PackageIndex.listing``): made once per
    layer that changed packages or symlinks, shared by the layers above it.
    """

    def __init__(self, ix: PackageIndex) -> None:
        self.ix = ix

    def listed(self, path: str, k: int) -> list[Package]:
        """The packages that list ``path`` (as the image holds it) as of layer k."""
        return self.ix.listing(k).get(path, [])

    def owners(self, path: str, k: int) -> list[Package]:
        """The owners: an OS package wins over a Python or npm one that lists the path too."""
        found = self.listed(path, k)
        os_pkgs = [p for p in found if p.ecosystem not in (Ecosystem.PYTHON, Ecosystem.NPM)]
        return sorted(os_pkgs or found, key=lambda p: (p.ecosystem, p.name))

    def text(self, path: str, k: int, is_dir: bool) -> str:
        """The Details pane's owner: ``deb:curl@7.88.1-10``, or why there is none."""
        if is_dir:
            return DIRECTORY
        found = self.owners(path, k)
        if len(found) == 1:
            return found[0].owner
        if found:
            names = ", ".join(p.name for p in found[:3]) + (", …" if len(found) > 3 else "")
            return f"- (listed by {len(found)} packages: {names})"
        return STATE if is_state(path) else UNMANAGED

    def owner(self, path: str, k: int) -> str | None:
        """``which``'s owner of a file as of layer k: the package, several joined by ``, ``, or None."""
        found = self.owners(path, k)
        return ", ".join(p.owner for p in found) if found else None

    def file_owners(self, k: int) -> dict[str, str]:
        """The ``owner`` of every non-directory path as of layer k that a
        package lists, as ``report --json`` and ``ls --long --json`` give it
        (directories are shared, so they have none)."""
        listing = self.ix.listing(k)
        paths = list(listing)
        out: dict[str, str] = {}
        text: dict[int, str] = {}  # each package's owner text, made once (thousands of files a package)
        for path, pkgs, file in zip(paths, listing.values(), self.ix.merged.non_dirs(paths, k)):
            if not file:
                continue
            if len(pkgs) == 1:
                one = text.get(id(pkgs[0]))
                out[path] = text.setdefault(id(pkgs[0]), pkgs[0].owner) if one is None else one
            else:
                out[path] = ", ".join(p.owner for p in self.owners(path, k))
        return out

    def name(self, path: str, k: int) -> str:
        """The tree's owner column: the package's name, ``-`` for none, ``*`` for several."""
        found = self.owners(path, k)
        return found[0].name if len(found) == 1 else ("*" if found else "-")


def file_owners(merged: Merged, k: int) -> dict[str, str] | None:
    """:meth:`Owners.file_owners` of a whole image, or None (no ``owner``
    field: unknown is not "none") when no layer has a package database."""
    ix = build(merged)
    return Owners(ix).file_owners(k) if ix.any or ix.problems else None


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One line of a layer's packages view."""

    how: How
    ecosystem: str
    name: str
    version: str  # ``old → new`` for an upgrade or a downgrade
    bytes: int | None  # None for a removal: it ships nothing in the layer
    package: Package


@dataclass(frozen=True, slots=True)
class LayerChanges:
    """What layer k did to packages, and the bytes it added that no package owns."""

    layer: int
    rows: tuple[ChangeRow, ...]
    unmanaged_files: int
    unmanaged_bytes: int


def _row(c: PackageChange) -> ChangeRow:
    p = c.package
    moved = c.how in (How.UPGRADED, How.DOWNGRADED) and c.old_version
    version = f"{c.old_version} → {p.version}" if moved else p.version
    return ChangeRow(c.how, str(p.ecosystem), p.name, version, None if c.how is How.REMOVED else c.layer_bytes, p)


def layer_changes(merged: Merged, ix: PackageIndex, k: int) -> LayerChanges:
    """Layer k's package changes (added first, then upgraded, …, removed; by name)."""
    changes = ix.layers[k].changes if 0 <= k < len(ix.layers) else ()
    rows = sorted((_row(c) for c in changes), key=lambda r: (_ORDER[r.how], r.ecosystem, r.name))
    dirs = unmanaged(merged, ix, k)
    return LayerChanges(k, tuple(rows), sum(d.files for d in dirs), sum(d.bytes for d in dirs))
