"""``layerscope packages --json``: the ``layerscope.packages/1`` document.

The document is a public interface (fields are added, never renamed or
dropped); ``docs/json.md`` describes it. Its text is ``text/packages.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..merge import Merged
from .audit import LaterChange, Mismatch, UnmanagedDir, later_changes, mismatches, unmanaged
from .index import Key, PackageChange, PackageIndex
from .records import Package

SCHEMA = "layerscope.packages/1"


def bytes_at(merged: Merged, ix: PackageIndex, k: int) -> dict[Key, int]:
    """Bytes of each package's files as the merged tree holds them at layer k, by
    package (not by owner: two directories may hold one npm name at one version)."""
    owners = ix.owners_at(k)
    per: dict[int, tuple[Package, int]] = {}  # by the package object: its key is computed once
    for pkg, size in zip(owners.values(), merged.file_sizes(list(owners), k)):
        if size:
            got = per.get(id(pkg))
            per[id(pkg)] = (pkg, size if got is None else got[1] + size)
    out: dict[Key, int] = {}
    for pkg, size in per.values():
        out[pkg.key] = out.get(pkg.key, 0) + size
    return out


def _change(c: PackageChange) -> dict[str, Any]:
    p = c.package
    return {
        "how": str(c.how),
        "owner": p.owner,
        "ecosystem": str(p.ecosystem),
        "name": p.name,
        "version": p.version,
        "old_version": c.old_version,
        "arch": p.arch,
        "bytes": c.layer_bytes,
    }


def _unmanaged(dirs: Sequence[UnmanagedDir]) -> dict[str, Any]:
    return {
        "files": sum(d.files for d in dirs),
        "bytes": sum(d.bytes for d in dirs),
        "dirs": [{"dir": d.directory, "files": d.files, "bytes": d.bytes} for d in dirs],
    }


def _later(c: LaterChange) -> dict[str, Any]:
    return {"path": c.path, "owner": c.owner.owner, "installed_layer": c.installed, "layer": c.layer, "how": c.how}


def _mismatch(m: Mismatch) -> dict[str, Any]:
    return {"path": m.path, "owner": m.owner.owner, "layer": m.layer, "expected": m.expected, "found": m.found}


def document(merged: Merged, ix: PackageIndex, k: int, only: int | None = None, verify: bool = False) -> dict[str, Any]:
    """The packages as of layer ``k``, and each layer's changes (only layer ``only`` if given).

    ``digest_mismatches``: packaged files as of k whose content is not what the
    package recorded (sha256 always; md5/sha1 read the content, with ``verify``).
    """
    sizes = bytes_at(merged, ix, k)
    pkgs = sorted(ix.at(k).values(), key=lambda p: (p.ecosystem, p.name, p.arch, p.db))
    layers = range(merged.top + 1) if only is None else (only,)
    return {
        "schema": SCHEMA,
        "image": merged.image.source,
        "layer": k,
        "packages": [
            {
                "owner": p.owner,
                "ecosystem": str(p.ecosystem),
                "name": p.name,
                "version": p.version,
                "arch": p.arch,
                "db": p.db,
                "files": len(p.files),
                "bytes": sizes.get(p.key, 0),
                "layer": ix.first_layer(p, k),
            }
            for p in pkgs
        ],
        "layers": [
            {
                "index": j,
                "changes": [_change(c) for c in ix.layers[j].changes],
                "unmanaged": _unmanaged(unmanaged(merged, ix, j)),
            }
            for j in layers
        ],
        "changed_later": [_later(c) for c in later_changes(merged, ix) if only is None or c.layer == only],
        "digest_mismatches": [_mismatch(m) for m in mismatches(merged, ix, k, verify)],
        "verified": "all" if verify else "sha256",
        "problems": [{"layer": p.layer, "path": p.path, "message": p.message} for p in ix.problems],
    }
