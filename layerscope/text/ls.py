"""``layerscope ls``'s text: one path a line, read like ``tar -tv``, fitted to the width.

The selection (:func:`layerscope.listing.rows`) is the model's; this module
only words and lays it out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TextIO

from .. import fmt
from ..fmt import human_size
from ..layout import Atom, Keep, Part, joined, output_width, write_folded
from ..listing import CLASS_WIDTH, DELETED, Row
from ..merge import Merged
from ..model import (
    FILE,
    HARDLINK,
    OPAQUE,
    REPLACED,
    SYMLINK,
    Deletion,
    Entry,
)
from ..textsafe import safe

SIZE_WIDTH = 9  # bytes in --long: 999 MB stay aligned, bigger sizes push the line right (as tar -tv)
INDENT = 4  # continuation lines of a line that does not fit


def mode_string(e: Entry) -> str:
    """``drwxr-xr-x``, as ``tar -tv`` prints it (``h`` for a hardlink)."""
    return fmt.mode_string(e.type, e.mode & 0o7777)


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
