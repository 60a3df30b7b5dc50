"""``layerscope ls``: the merged tree as of one layer, one path a line.

Three selections of the same timelines: the tree as of layer K (what a
container started from layer K sees), layer K's own changes (its entries and
the paths it deleted), and the deleted paths whose bytes still ship in lower
layers. Text lines read like ``tar -tv``; the JSON objects are the ones
``report --json`` writes under ``files`` and ``hidden``, so a script can move
between the two documents without translation.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

from .fmt import human_size
from .globs import compile_glob
from .layout import Atom, Keep, Part, joined, output_width, write_folded
from .merge import Merged
from .model import (
    BLOCK,
    CHAR,
    DIR,
    ENTRY_TYPES,
    FIFO,
    FILE,
    HARDLINK,
    OPAQUE,
    REPLACED,
    SYMLINK,
    TYPE_CHANGED,
    Deletion,
    Entry,
)
from .report import file_json_pretty, hidden_json_pretty, write_json_doc
from .textsafe import safe

SCHEMA = "layerscope.ls/1"
DELETED = "deleted"
CLASS_WIDTH = len(TYPE_CHANGED)  # the longest change class
SIZE_WIDTH = 9  # bytes in --long: 999 MB stay aligned, bigger sizes push the line right (as tar -tv)
INDENT = 4  # continuation lines of a line that does not fit


@dataclass(frozen=True, slots=True)
class Row:
    """One line of ``ls``: a live entry, or a deletion with the versions that still ship."""

    path: str
    entry: Entry | None
    deletion: Deletion | None = None
    shipped: tuple[Entry, ...] = ()


def rows(
    merged: Merged, k: int, *, changes: bool = False, deleted: bool = False, pattern: str | None = None
) -> Iterator[Row]:
    """The selected paths in path (byte) order.

    Default: the tree as of layer ``k``. ``changes``: only what layer ``k``
    itself did (its entries and deletions). ``deleted``: only deleted paths
    whose versions still ship (with ``changes``: the ones layer ``k`` deleted).
    """
    match = compile_glob(pattern) if pattern is not None else None
    for p in merged.paths():
        if match is not None and not match(p):
            continue
        ev = merged.state_at(p, k)
        if ev is None or (changes and ev.layer != k):
            continue
        if type(ev) is Entry:
            if not deleted:
                yield Row(p, ev)
        elif (changes or deleted) and type(ev) is Deletion:
            shipped = tuple(v for v in merged.history(p) if type(v) is Entry and v.layer < ev.layer)
            if shipped:
                yield Row(p, None, ev, shipped)


_KIND_BITS = {
    FILE: stat.S_IFREG,
    HARDLINK: stat.S_IFREG,
    DIR: stat.S_IFDIR,
    SYMLINK: stat.S_IFLNK,
    CHAR: stat.S_IFCHR,
    BLOCK: stat.S_IFBLK,
    FIFO: stat.S_IFIFO,
}
assert set(_KIND_BITS) == set(ENTRY_TYPES)


def mode_string(e: Entry) -> str:
    """``drwxr-xr-x``, as ``tar -tv`` prints it (``h`` for a hardlink)."""
    s = stat.filemode((e.mode & 0o7777) | _KIND_BITS.get(e.type, stat.S_IFREG))
    return "h" + s[1:] if e.type == HARDLINK else s


def line(row: Row, long: bool, layer_width: int, labels: Sequence[str] = (), human: bool = False) -> str:
    """One text line: ``[MODE UID/GID SIZE] L<n> CLASS PATH [-> LINK] [(deleted how; ships in ...)]``.

    A deleted path shows the layer that deleted it and class ``deleted``; in
    the long form, the mode, owner and size of the newest version that still
    ships: in bytes, as ``tar -tv`` and ``ls -l`` print it, or ``human`` (``-h``)
    as ``1.0 kB``. ``labels`` names the layers (``C7`` for a container's
    writable layer); layers beyond it are ``L<n>``.
    """
    return joined(parts(row, long, layer_width, labels, human))


def parts(row: Row, long: bool, layer_width: int, labels: Sequence[str] = (), human: bool = False) -> list[Part]:
    """:func:`line` in pieces for :func:`layerscope.layout.fold`: the path and
    the link target are :class:`~layerscope.layout.Atom` (never broken)."""

    def name(n: int) -> str:
        return labels[n] if 0 <= n < len(labels) else f"L{n}"

    e = row.entry
    d = row.deletion
    shown = e if e is not None else row.shipped[-1]
    layer = shown.layer if d is None else d.layer
    cls = shown.change if d is None else DELETED
    out: list[Part] = []
    if long:
        owner = f"{shown.uid}/{shown.gid}"
        if shown.content_type != FILE:
            size = "-"
        else:
            size = human_size(shown.size) if human else str(shown.size)
        out.append(f"{mode_string(shown)} {owner:<9} {size:>{8 if human else SIZE_WIDTH}} ")
    out += [f"{name(layer):<{layer_width}} {cls:<{CLASS_WIDTH}} ", Atom(safe(row.path))]
    if long:
        if e is not None and e.type == SYMLINK:
            out += [" ", Atom("-> " + safe(e.link or ""))]  # the arrow stays with its target
        elif e is not None and e.type == HARDLINK:
            out += [" ", Atom("link to " + safe(e.link or ""))]
    if d is not None:
        layers = ", ".join(name(n) for n in sorted({v.layer for v in row.shipped}))
        out.append(Keep("  (", *_how(d), f"; still ships in {layers})"))
    return out


def _how(d: Deletion) -> list[str]:
    """``whiteout``, ``whiteout of /dir``, ``opaque dir /dir``, ``/dir replaced`` (the path an Atom)."""
    if d.cause == d.path:
        return [d.how]
    cause = Atom(safe(d.cause))
    if d.how == OPAQUE:
        return ["opaque dir ", cause]
    if d.how == REPLACED:
        return [cause, " replaced"]
    return [f"{d.how} of ", cause]


def write_text(
    merged: Merged,
    out: TextIO,
    selected: Iterable[Row],
    long: bool = False,
    human: bool = False,
    width: int | None = None,
) -> int:
    """Write the lines, each fitted to ``width`` (default: the output's, see
    :func:`layerscope.layout.output_width`); returns how many paths.

    A line too long goes on over indented lines, broken before the path or
    the note, never inside a path.
    """
    layer_width = len(f"L{merged.top}")
    labels = [la.label for la in merged.image.layers]
    w = output_width(out) if width is None else width
    # The common row, a live entry, built in one f-string (500k times on a big image):
    # what parts() joins, held equal to it by tests/test_ls.py.
    heads = [f"{name:<{layer_width}} " for name in labels]
    size_width = 8 if human else SIZE_WIDTH
    n = 0
    for r in selected:
        e = r.entry
        if e is not None and e.layer < len(heads):
            text = f"{heads[e.layer]}{e.change:<{CLASS_WIDTH}} {safe(r.path)}"
            if long:
                if e.content_type != FILE:
                    size = "-"
                else:
                    size = human_size(e.size) if human else str(e.size)
                owner = f"{e.uid}/{e.gid}"
                text = f"{mode_string(e)} {owner:<9} {size:>{size_width}} {text}"
                if e.type == SYMLINK:
                    text += f" -> {safe(e.link or '')}"
                elif e.type == HARDLINK:
                    text += f" link to {safe(e.link or '')}"
            if len(text) <= w and text.isascii():
                out.write(text + "\n")
                n += 1
                continue
        ps = parts(r, long, layer_width, labels, human)
        text = joined(ps)
        if len(text) <= w and text.isascii():  # the common case, 500k times on a big image
            out.write(text + "\n")
        else:
            write_folded(out, ps, w, INDENT)
        n += 1
    return n


def write_json(
    merged: Merged,
    out: TextIO,
    selected: Iterable[Row],
    k: int,
    *,
    changes: bool,
    deleted: bool,
    pattern: str | None,
) -> None:
    """``layerscope.ls/1``: the selection as ``report --json``'s ``files`` and ``hidden`` objects."""
    head = {
        "schema": SCHEMA,
        "image": merged.image.source,
        "as_of_layer": k,
        "changes": changes,
        "deleted": deleted,
        "pattern": pattern,
    }
    live: list[Entry] = []
    gone: list[Row] = []
    for r in selected:
        if r.entry is not None:
            live.append(r.entry)
        else:
            gone.append(r)
    write_json_doc(
        head,
        [
            ("files", (file_json_pretty(merged, e) for e in live)),
            ("hidden", (hidden_json_pretty(r.deletion, list(r.shipped)) for r in gone if r.deletion is not None)),
        ],
        out,
    )
