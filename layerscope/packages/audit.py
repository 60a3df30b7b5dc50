"""What the package databases say about a layer's files: which came from no
package (the ``COPY``, ``curl | tar`` and build outputs someone must vouch
for), and which packaged files a later layer replaced, chmod-ed or deleted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .. import _core
from ..content import ContentError, iter_content
from ..merge import Merged
from ..model import DIR, FILE, HARDLINK, Change, Deletion, Entry
from . import apk, dpkg, npm
from .index import PackageIndex
from .records import Package

# Paths that are a package manager's or the system's own moving state: a
# layer writing there is the manager at work, not an unmanaged file. The core
# applies the rule to a layer's every entry (``Merged.unowned_dirs``); this is
# its one statement.
STATE = _core.PathRule(
    prefixes=[
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
        dpkg.ROOT + "/",
        apk.STATE + "/",
    ],
    exact=[dpkg.ROOT, apk.STATE],
    fragments=["__pycache__/"],  # bytecode Python writes beside a package's files
    suffixes=[npm.HIDDEN_LOCKFILE],  # npm's own record of an installed tree (npm >= 7)
)


def is_state(path: str) -> bool:
    """A path no package owns that is still not unmanaged: a manager's state, caches, logs, bytecode."""
    return STATE.matches(path)


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
    """Layer k's new or changed non-directories no package owns (as of k), by
    directory, in byte order of the directories (the core walks the layer)."""
    return [UnmanagedDir(f.dir, f.files, f.bytes) for f in merged.unowned_dirs(k, ix.owned(k), STATE)]


def later_changes(merged: Merged, ix: PackageIndex) -> list[LaterChange]:
    """Packaged files changed by a layer that did not change their package."""
    out: list[LaterChange] = []
    for k in range(1, merged.top + 1):
        below = ix.owners_at(k - 1)
        if not below:
            continue
        now = ix.at(k)
        for ev in merged.events_on(k, ix.owned(k - 1)):  # the layer's events on packaged paths
            owner = below[ev.path]
            if is_state(ev.path) or _is_dir(merged, ev, k):
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
_READ = ("md5", "sha1")  # compared only when asked to read the content
_FREE_PREFIXES = tuple(a + ":" for a in _FREE)
_ALL_PREFIXES = tuple(a + ":" for a in (*_FREE, *_READ))


def mismatches(merged: Merged, ix: PackageIndex, k: int, read: bool = False) -> list[Mismatch]:
    """Packaged files as of layer k whose content differs from the recorded digest.

    SHA-256 digests (rpm, Python's RECORD) are compared with the core's own;
    md5 (dpkg) and sha1 (apk) need the content read, so only with ``read``.
    """
    out: list[Mismatch] = []
    prefixes = _ALL_PREFIXES if read else _FREE_PREFIXES
    for pkg in ix.at(k).values():
        wanted = [(p, d) for p, d in pkg.digests if d.startswith(prefixes)]
        if not wanted:
            continue
        for path, (_listed, expected) in zip(merged.resolve_dirs([p for p, _ in wanted], k), wanted):
            algo, _, want = expected.partition(":")
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
