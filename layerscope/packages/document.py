"""``layerscope packages``: the ``layerscope.packages/1`` document and its text.

The document is a public interface (fields are added, never renamed or
dropped); ``docs/json.md`` describes it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from ..fmt import human_size, plural, short_command
from ..layout import Atom, Keep, Part, write_folded
from ..merge import Merged
from ..textsafe import safe
from .audit import LaterChange, Mismatch, UnmanagedDir, later_changes, mismatches, unmanaged
from .index import How, Key, PackageChange, PackageIndex
from .records import Ecosystem, Package

SCHEMA = "layerscope.packages/1"
Put = Callable[..., None]  # writes one folded line: (parts, indent=4)
_SIGN = {
    How.ADDED: "+",
    How.REMOVED: "-",
    How.UPGRADED: "^",
    How.DOWNGRADED: "v",
    How.REINSTALLED: "=",
    How.TRANSIENT: "±",
}


def _bytes_at(merged: Merged, ix: PackageIndex, k: int) -> dict[Key, int]:
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


def _where(p: Package) -> str:
    """Where a language package lives, for text (an OS package's place is its database)."""
    if p.ecosystem == Ecosystem.NPM:
        return f"  in {posixpath.dirname(p.db)}"
    if p.ecosystem == Ecosystem.PYTHON:
        return f"  in {posixpath.dirname(p.db)}"
    return ""


def _first_layer(ix: PackageIndex, pkg: Package, k: int) -> int:
    while k > 0 and ix.at(k - 1).get(pkg.key) == pkg:
        k -= 1
    return k


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
    sizes = _bytes_at(merged, ix, k)
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
                "layer": _first_layer(ix, p, k),
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


def write_text(
    out: TextIO,
    width: int,
    merged: Merged,
    ix: PackageIndex,
    k: int,
    changes: bool,
    only: int | None,
    verify: bool = False,
) -> None:
    """The packages as of layer k (one a line), or (``changes``) what each layer did."""

    def put(parts: Sequence[Part], indent: int = 4) -> None:
        write_folded(out, parts, width, indent)

    for problem in ix.problems:
        put(["! ", Atom(safe(problem.text()))])
    if not ix.any:
        put(["No package database (dpkg, apk, RPM, Python, npm) in any layer."])
        return
    for m in mismatches(merged, ix, k, verify):
        put(
            [
                "✗ ",
                Atom(safe(m.path)),
                f" (layer {m.layer}) is not the file ",
                Atom(safe(m.owner.owner)),
                " recorded: ",
                Atom(m.found),
                " not ",
                Atom(m.expected),
            ]
        )
    if not changes:
        _write_list(put, merged, ix, k)
        return
    later = later_changes(merged, ix)
    for j in range(merged.top + 1) if only is None else (only,):
        _write_layer(put, merged, ix, j, later)


def _write_list(put: Put, merged: Merged, ix: PackageIndex, k: int) -> None:
    """The packages as of layer k, one a line: owner, arch, bytes, installing layer."""
    sizes = _bytes_at(merged, ix, k)
    pkgs = sorted(ix.at(k).values(), key=lambda p: (p.ecosystem, p.name, p.arch, p.db))
    put([f"Packages as of layer {k}: {len(pkgs)}"])
    for p in pkgs:
        arch = f" {p.arch}" if p.arch else ""
        put(
            [
                Atom(safe(p.owner)),
                Keep(safe(arch)),
                Keep(safe(_where(p))),
                Keep(f"  {human_size(sizes.get(p.key, 0))}"),
                Keep(f"  L{_first_layer(ix, p, k)}"),
            ]
        )


def _write_layer(put: Put, merged: Merged, ix: PackageIndex, j: int, later: Sequence[LaterChange]) -> None:
    """What layer j did to packages, what it added that no package owns, which packaged files it changed."""
    la = merged.image.layers[j]
    found = ix.layers[j].changes
    dirs = unmanaged(merged, ix, j)
    put([f"Layer {j}: ", Atom(safe(short_command(la.command) or "-"))])
    for c in found:
        old = f" (was {c.old_version})" if c.old_version and c.how is not How.REINSTALLED else ""
        size = "" if c.how is How.REMOVED else f"  {human_size(c.layer_bytes)}"
        where = Keep(safe(_where(c.package)))
        put([f"  {_SIGN[c.how]} ", Atom(safe(c.package.owner)), where, Keep(safe(old)), Keep(size)], 6)
    if dirs:
        total = sum(d.files for d in dirs)
        put([f"  {plural(total, 'file')} no package owns ({human_size(sum(d.bytes for d in dirs))}):"])
        for d in sorted(dirs, key=lambda d: -d.bytes)[:10]:
            put(
                [
                    "    ",
                    Atom(safe(d.directory)),
                    Keep(f"  {plural(d.files, 'file')}"),
                    Keep(f"  {human_size(d.bytes)}"),
                ],
                8,
            )
    for lc in (lc for lc in later if lc.layer == j):
        put(
            [
                "  ! ",
                Atom(safe(lc.path)),
                f" {lc.how}: it is ",
                Atom(safe(lc.owner.owner)),
                f"'s (layer {lc.installed})",
            ],
            6,
        )
    if not found and not dirs:
        put(["  no package changes, no unmanaged files"])
