"""The HTML report's treemap: every shipped byte by directory, coloured by the
layer that ships it, hidden versions (waste) hatched.

Laid out here, in Python (squarified, Bruls et al.), so the page draws it as
plain SVG: it shows without JavaScript and prints. The biggest directories
are split first; once :data:`MAX_RECTS` rectangles are drawn, or a directory
is smaller than :data:`MIN_AREA`, it is one rectangle with its total, so an
image of any size makes a bounded picture whose rectangles still add up to
every byte. Each rectangle carries its bytes (``data-bytes``), which the
browser tests add up against ``report --json``.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field

WIDTH, HEIGHT = 1200.0, 640.0
MAX_RECTS = 4000
MIN_AREA = 0.5  # px²: a directory smaller than this is not split (zooming in can show what is split)
MAX_CHILDREN = 300  # per directory; the rest are one "other" rectangle
HEADER = 14.0  # px kept at a directory's top for its label, when it is tall enough


@dataclass(slots=True)
class Dir:
    """A directory's shipped bytes: its files' versions and its subdirectories."""

    path: str
    bytes: int = 0
    hidden: int = 0
    by_layer: dict[int, int] = field(default_factory=dict)
    dirs: dict[str, Dir] = field(default_factory=dict)
    files: list[tuple[str, int, int, bool]] = field(default_factory=list)  # (path, size, layer, hidden)

    def layer(self) -> int:
        """The layer that ships most of these bytes (a folded rectangle's colour)."""
        return max(self.by_layer.items(), key=lambda kv: (kv[1], -kv[0]))[0] if self.by_layer else 0


def build_tree(versions: Iterable[tuple[str, int, int, bool]]) -> Dir:
    """The directory tree of ``(path, size, layer, hidden)`` file versions, totals summed up."""
    root = Dir("/")
    for path, size, layer, hidden in versions:
        node = root
        parts = path.strip("/").split("/")
        for depth in range(len(parts) + 1):
            node.bytes += size
            node.hidden += size if hidden else 0
            node.by_layer[layer] = node.by_layer.get(layer, 0) + size
            if depth == len(parts) - 1:
                node.files.append((path, size, layer, hidden))
                break
            name = parts[depth]
            child = node.dirs.get(name)
            if child is None:
                child = node.dirs[name] = Dir(node.path.rstrip("/") + "/" + name)
            node = child
    return root


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    kind: str  # "dir" (an outline with a label), "file", "fold" (a directory not split) or "other"
    path: str
    bytes: int
    layer: int
    hidden: bool = False
    dir: str = "/"  # the directory drawn around it (what a click zooms into)
    files: int = 1


def squarify(values: list[float], x: float, y: float, w: float, h: float) -> list[tuple[float, float, float, float]]:
    """Rectangles for ``values`` (sorted biggest first, summing to ``w*h``), as square as rows allow."""
    out: list[tuple[float, float, float, float]] = []
    i = 0
    while i < len(values):
        short = max(min(w, h), 1e-9)
        row = [values[i]]
        i += 1
        while i < len(values) and _worst([*row, values[i]], short) <= _worst(row, short):
            row.append(values[i])
            i += 1
        s = sum(row) or 1e-9
        if w >= h:
            cw = s / max(h, 1e-9)
            yy = y
            for v in row:
                out.append((x, yy, cw, v / cw))
                yy += v / cw
            x, w = x + cw, w - cw
        else:
            rh = s / max(w, 1e-9)
            xx = x
            for v in row:
                out.append((xx, y, v / rh, rh))
                xx += v / rh
            y, h = y + rh, h - rh
    return out


def _worst(row: list[float], short: float) -> float:
    s = sum(row)
    lo, hi = min(row), max(row)
    if lo <= 0 or s <= 0:
        return float("inf")
    return max(short * short * hi / (s * s), s * s / (short * short * lo))


def layout(root: Dir) -> list[Rect]:
    """The treemap's rectangles: directories split biggest first (a heap on area)."""
    rects: list[Rect] = []
    if not root.bytes:
        return rects
    heap: list[tuple[float, int, Dir, tuple[float, float, float, float]]] = [
        (-WIDTH * HEIGHT, 0, root, (0, 0, WIDTH, HEIGHT))
    ]
    n = 1
    while heap:
        neg_area, _, d, (x, y, w, h) = heapq.heappop(heap)
        if -neg_area < MIN_AREA or len(rects) + len(heap) >= MAX_RECTS or (not d.files and not d.dirs):
            rects.append(_fold(d, x, y, w, h))
            continue
        rects.append(Rect(x, y, w, h, "dir", d.path, d.bytes, d.layer(), dir=d.path))
        top = HEADER if h > 3 * HEADER and w > 40 else 0.0
        ix, iy, iw, ih = x + 1, y + top + 1, max(w - 2, 0.1), max(h - top - 2, 0.1)
        for (kind, item), (cx, cy, cw, ch) in _children(d, ix, iy, iw, ih):
            if isinstance(item, Dir):
                heapq.heappush(heap, (-(cw * ch), n, item, (cx, cy, cw, ch)))
                n += 1
            else:
                path, size, layer, hidden, files = item
                rects.append(Rect(cx, cy, cw, ch, kind, path, size, layer, hidden, d.path, files))
    return rects


def _children(
    d: Dir, x: float, y: float, w: float, h: float
) -> list[tuple[tuple[str, Dir | tuple[str, int, int, bool, int]], tuple[float, float, float, float]]]:
    """A directory's subdirectories and file versions laid out in its inner rectangle."""
    items: list[tuple[int, str, Dir | tuple[str, int, int, bool, int]]] = [
        (sub.bytes, "dir", sub) for sub in d.dirs.values() if sub.bytes
    ]
    items += [(size, "file", (p, size, layer, hid, 1)) for p, size, layer, hid in d.files if size]
    items.sort(key=lambda t: -t[0])
    if len(items) > MAX_CHILDREN:
        rest = items[MAX_CHILDREN - 1 :]
        total = sum(t[0] for t in rest)
        by_layer: dict[int, int] = {}
        for size, _, it in rest:
            for layer, b in it.by_layer.items() if isinstance(it, Dir) else [(it[2], size)]:
                by_layer[layer] = by_layer.get(layer, 0) + b
        top_layer = max(by_layer.items(), key=lambda kv: kv[1])[0]
        other = (f"{d.path.rstrip('/')}/… {len(rest)} more", total, top_layer, False, len(rest))
        items = [*items[: MAX_CHILDREN - 1], (total, "other", other)]
    scale = (w * h) / d.bytes if d.bytes else 0.0
    boxes = squarify([t[0] * scale for t in items], x, y, w, h)
    return [((kind, it), box) for (_, kind, it), box in zip(items, boxes)]


def _fold(d: Dir, x: float, y: float, w: float, h: float) -> Rect:
    files = sum(len(node.files) for node in _walk(d))
    return Rect(x, y, w, h, "fold", d.path, d.bytes, d.layer(), d.hidden == d.bytes, d.path, files)


def _walk(d: Dir) -> Iterable[Dir]:
    stack = [d]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.dirs.values())
