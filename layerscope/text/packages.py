"""``layerscope packages`` as text: the packages as of a layer, or what each layer did.

The rules (what a layer added, what no package owns, what a later layer
changed) are ``packages.index`` and ``packages.audit``'s; the JSON document
is ``packages.document``'s; this only words and lays them out.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from typing import TextIO

from ..fmt import human_size, plural, short_command
from ..layout import Atom, Keep, Part, cells, keep_head, write_folded
from ..merge import Merged
from ..packages.audit import LaterChange, later_changes, mismatches, unmanaged
from ..packages.document import bytes_at
from ..packages.index import How, PackageIndex
from ..packages.records import Ecosystem, Package
from ..textsafe import safe

Put = Callable[..., None]  # writes one folded line: (parts, indent=4)
_SIGN = {
    How.ADDED: "+",
    How.REMOVED: "-",
    How.UPGRADED: "^",
    How.DOWNGRADED: "v",
    How.REINSTALLED: "=",
    How.TRANSIENT: "±",
}


def _where(p: Package) -> str:
    """Where a language package lives (an OS package's place is its database)."""
    if p.ecosystem in (Ecosystem.NPM, Ecosystem.PYTHON):
        return f"  in {posixpath.dirname(p.db)}"
    return ""


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
        _write_layer(put, width, merged, ix, j, later)


def _write_list(put: Put, merged: Merged, ix: PackageIndex, k: int) -> None:
    """The packages as of layer k, one a line: owner, arch, bytes, installing layer."""
    sizes = bytes_at(merged, ix, k)
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
                Keep(f"  L{ix.first_layer(p, k)}"),
            ]
        )


def _write_layer(put: Put, width: int, merged: Merged, ix: PackageIndex, j: int, later: Sequence[LaterChange]) -> None:
    """What layer j did to packages, what it added that no package owns, which packaged files it changed.

    The layer's command is cut to the line (marked …), as ``which`` and
    ``report`` cut it: a heading, whole in ``report --json``.
    """
    found = ix.layers[j].changes
    dirs = unmanaged(merged, ix, j)
    head = f"Layer {j}: "
    command = short_command(merged.image.layers[j].command) or "-"
    put([head, Atom(keep_head(command, max(width - cells(head), 12)))])
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
    changed = [lc for lc in later if lc.layer == j]
    for lc in changed:
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
    if not found and not dirs and not changed:
        put(["  no package changes, no unmanaged files"])
