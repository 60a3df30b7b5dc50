"""What the package databases say about a layer's files: which came from no
package (the ``COPY``, ``curl | tar`` and build outputs someone must vouch
for), and which packaged files a later layer replaced, chmod-ed or deleted.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from ..content import ContentError, iter_content
from ..merge import Merged
from ..model import DIR, FILE, HARDLINK, Change, Deletion, Entry
from . import apk, dpkg, npm
from .index import DirLinks, PackageIndex
from .records import Package

# Paths that are a package manager's or the system's own moving state: a
# layer writing there is the manager at work, not an unmanaged file.
_STATE_PREFIXES = (
    "/var/lib/dpkg/",
    "/var/lib/apt/",
    "/var/cache/",
    "/var/log/",
    "/var/lib/rpm/",
    "/usr/lib/sysimage/rpm/",
    "/lib/apk/db/",
    "/etc/apk/",
    "/tmp/",
    "/run/",
)


# The managers' own databases, as directories and as the paths themselves.
_STATE_ALL = (*_STATE_PREFIXES, dpkg.ROOT + "/", apk.STATE + "/")
_STATE_EXACT = frozenset((dpkg.ROOT, apk.STATE))


def is_state(path: str) -> bool:
    """A path no package owns that is still not unmanaged: a manager's state, caches, logs, bytecode."""
    return path.startswith(_STATE_ALL) or path in _STATE_EXACT or "__pycache__/" in path or npm.is_state(path)


@dataclass(frozen=True, slots=True)
class UnmanagedDir:
    directory: str
    files: int
    bytes: int


@dataclass(frozen=True, slots=True)
class LaterChange:
    """A packaged file a later layer changed: what it was, who owned it, what happened."""

    path: str
    owner: Package
    installed: int  # the layer whose package set first had the owner at this version
    layer: int
    how: str  # "overwritten", "metadata", "deleted"


def unmanaged(merged: Merged, ix: PackageIndex, k: int) -> list[UnmanagedDir]:
    """Layer k's new or changed non-directories no package owns (as of k), by directory."""
    owners = ix.owners_at(k)
    dirs: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    # One pass over every entry of the layer (100k on a big COPY): the
    # cheap tests first, the parent by slicing (posixpath.dirname's cost was a
    # quarter of the pass).
    for e in merged.layer_entries(k):
        p = e.path
        if p in owners or e.type == DIR or "/.wh." in p or is_state(p):
            continue
        acc = dirs[p[: p.rfind("/")] or "/"]
        acc[0] += 1
        acc[1] += e.size
    return [UnmanagedDir(d, n, b) for d, (n, b) in sorted(dirs.items())]


def later_changes(merged: Merged, ix: PackageIndex) -> list[LaterChange]:
    """Packaged files changed by a layer that did not change their package."""
    out: list[LaterChange] = []
    for k in range(1, merged.top + 1):
        below = ix.owners_at(k - 1)
        if not below:
            continue
        now = ix.at(k)
        events: list[Entry | Deletion] = [*merged.layer_entries(k), *merged.deletions(k)]
        for ev in events:
            owner = below.get(ev.path)
            if owner is None or is_state(ev.path) or _is_dir(merged, ev, k):
                continue
            current = now.get(owner.key)
            if current is None or current.version != owner.version or current.stamp != owner.stamp:
                continue  # the package itself was removed, upgraded or reinstalled here
            if isinstance(ev, Deletion):
                how = "deleted"
            else:
                how = "metadata" if ev.change == Change.METADATA else "overwritten"
            out.append(LaterChange(ev.path, owner, ix.first_layer(owner, k - 1), k, how))
    return out


def _is_dir(merged: Merged, ev: Entry | Deletion, k: int) -> bool:
    """A directory (or a deleted one): shared by packages, never a packaged file's change."""
    if type(ev) is Entry:
        return ev.type == DIR
    before = merged.entry_at(ev.path, k - 1)
    return before is not None and before.type == DIR


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A packaged file whose content as of the layer is not what its package recorded."""

    path: str
    owner: Package
    layer: int  # the layer that supplies the content found
    expected: str  # algo:hex as the database records it
    found: str


_FREE = ("sha256",)  # the core's own content digest: comparing costs nothing


def mismatches(merged: Merged, ix: PackageIndex, k: int, read: bool = False) -> list[Mismatch]:
    """Packaged files as of layer k whose content differs from the recorded digest.

    SHA-256 digests (rpm, Python's RECORD) are compared with the core's own;
    md5 (dpkg) and sha1 (apk) need the content read, so only with ``read``.
    """
    out: list[Mismatch] = []
    for pkg in ix.at(k).values():
        resolve = DirLinks(merged, k).resolve
        for listed, expected in pkg.digests:
            algo, _, want = expected.partition(":")
            if algo not in _FREE and not (read and algo in ("md5", "sha1")):
                continue
            path = resolve(listed)
            e = merged.entry_at(path, k)
            if e is None or e.type not in (FILE, HARDLINK) or e.data_entry.digest is None:
                continue
            if algo == "sha256":
                got = e.data_entry.digest.hex()
            else:
                h = hashlib.new(algo)
                try:
                    for chunk in iter_content(merged.image, e):
                        h.update(chunk)
                except ContentError:
                    continue
                got = h.hexdigest()
            if got != want:
                out.append(Mismatch(path, pkg, e.data_entry.layer, expected, f"{algo}:{got}"))
    return sorted(out, key=lambda m: m.path)
