"""The HTML report's file browser data: every path with its versions, compact.

Each node is ``[name, parent, events]`` (``parent`` an index, -1 at the
root), each event ``[layer, code, size]`` (no size but a file's): the code is the entry's type and
change class (``fa`` a file added, ``dM`` a directory's metadata changed...)
or ``x`` and how it went for a deletion (``xw`` whiteout, ``xo`` opaque,
``xr`` replaced). The page's script works out the tree as of any layer from
these, as the model's ``state_at`` does: the last event at or below it.

Past :data:`NODE_LIMIT` paths the smallest subtrees (by bytes shipped) are
folded into their directory, which then carries ``[count, bytes]`` of what it
hides: the page stays bounded and its totals still add up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..merge import parent_of
from ..model import Change, DeleteHow, Deletion, Entry
from ..textsafe import safe

NODE_LIMIT = 60_000
TYPE_CODE = {"file": "f", "dir": "d", "symlink": "l", "hardlink": "h", "char": "c", "block": "b", "fifo": "p"}
CHANGE_CODE = {
    Change.ADDED: "a",
    Change.MODIFIED: "m",
    Change.METADATA: "M",
    Change.REWRITTEN: "s",
    Change.TYPE_CHANGED: "t",
}
DELETE_CODE = {DeleteHow.WHITEOUT: "xw", DeleteHow.OPAQUE: "xo", DeleteHow.REPLACED: "xr"}

Node = list[object]


@dataclass(frozen=True, slots=True)
class Browse:
    nodes: list[Node]
    paths: int  # paths in the image
    folded: int  # paths folded into their directory


def event(ev: Entry | Deletion) -> list[object]:
    if isinstance(ev, Deletion):
        return [ev.layer, DELETE_CODE.get(ev.how, "x")]
    code = TYPE_CODE.get(ev.type, "?") + CHANGE_CODE.get(ev.change, "?")
    return [ev.layer, code, ev.size] if ev.type == "file" else [ev.layer, code]


def browse(timelines: Iterable[tuple[str, Sequence[Entry | Deletion]]], limit: int = NODE_LIMIT) -> Browse:
    """The browser's nodes, in path order (a parent before its children)."""
    nodes: list[Node] = []
    own: list[int] = []
    index: dict[str, int] = {}
    for path, evs in timelines:
        parent = parent_of(path)
        while parent not in index and parent not in ("/", ""):
            parent = parent_of(parent)  # a directory the image never lists: hang it on the nearest one
        index[path] = len(nodes)
        nodes.append([safe(path.rsplit("/", 1)[-1]), index.get(parent, -1), [event(e) for e in evs]])
        own.append(sum(e.size for e in evs if isinstance(e, Entry) and e.type == "file"))
    if len(nodes) <= limit:
        return Browse(nodes, len(nodes), 0)
    return _fold(nodes, own, limit)


def _fold(nodes: list[Node], own: list[int], limit: int) -> Browse:
    """Fold the subtrees under the smallest byte threshold that leaves at most ``limit`` nodes."""
    n = len(nodes)
    parents = [int(str(node[1])) for node in nodes]
    desc, total = [0] * n, list(own)
    for i in range(n - 1, -1, -1):
        p = parents[i]
        if p >= 0:
            desc[p] += desc[i] + 1
            total[p] += total[i]
    candidates = sorted({total[i] + 1 for i in range(n) if desc[i]})
    lo, hi = 0, len(candidates) - 1
    while lo < hi:  # the smallest threshold that fits (more folding as it grows)
        mid = (lo + hi) // 2
        if _kept(parents, desc, total, candidates[mid]) <= limit:
            hi = mid
        else:
            lo = mid + 1
    threshold = candidates[lo] if candidates else 0
    keep: list[int] = [-1] * n
    under = [False] * n
    out: list[Node] = []
    folded = 0
    for i in range(n):
        p = parents[i]
        if p >= 0 and (under[p] or (desc[p] and total[p] < threshold)):
            under[i] = True
            folded += 1
            continue
        node = [nodes[i][0], keep[p] if p >= 0 else -1, nodes[i][2]]
        if desc[i] and total[i] < threshold:
            node.append([desc[i], total[i] - own[i]])
        keep[i] = len(out)
        out.append(node)
    return Browse(out, n, folded)


def _kept(parents: list[int], desc: list[int], total: list[int], threshold: int) -> int:
    under = [False] * len(parents)
    kept = 0
    for i, p in enumerate(parents):
        if p >= 0 and (under[p] or (desc[p] and total[p] < threshold)):
            under[i] = True
        else:
            kept += 1
    return kept
