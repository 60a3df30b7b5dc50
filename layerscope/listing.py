"""``layerscope ls``: the merged tree as of one layer, one path a line.

Three selections of the same timelines: the tree as of layer K (what a
container started from layer K sees), layer K's own changes (its entries and
the paths it deleted), and the deleted paths whose bytes still ship in lower
layers. Text lines read like ``tar -tv``; the JSON objects are the ones
``report --json`` writes under ``files`` and ``hidden``, so a script can move
between the two documents without translation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TextIO

from .globs import compile_glob
from .merge import Merged
from .model import (
    TYPE_CHANGED,
    Deletion,
    Entry,
)
from .report import empty_array, write_json_doc

SCHEMA = "layerscope.ls/1"
DELETED = "deleted"
CLASS_WIDTH = len(TYPE_CHANGED)  # the longest change class


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


def write_json(
    merged: Merged,
    out: TextIO,
    k: int,
    *,
    changes: bool,
    deleted: bool,
    pattern: str | None,
    owners: Mapping[str, str] | None = None,
) -> int:
    """``layerscope.ls/1``: the selection :func:`rows` makes, as ``report
    --json``'s ``files`` and ``hidden`` objects (written by the core, the one
    writer of them; ``owners`` as in ``report --json``). Returns how many
    objects it wrote."""
    head = {
        "schema": SCHEMA,
        "image": merged.image.source,
        "as_of_layer": k,
        "changes": changes,
        "deleted": deleted,
        "pattern": pattern,
    }
    paths = None
    if pattern is not None:
        match = compile_glob(pattern)
        paths = [p for p in merged.paths() if match(p)]
    counted: list[int] = []

    def array(which: str) -> Callable[[TextIO], None]:
        def write(o: TextIO) -> None:
            own = owners if which == "files" else None
            counted.append(merged.write_array(which, k, o.write, paths=paths, layer_only=changes, owners=own))

        return write

    files = empty_array if deleted else array("files")
    hidden = array("hidden") if changes or deleted else empty_array
    write_json_doc(head, [("files", files), ("hidden", hidden)], out)
    return sum(counted)
