"""Hidden bytes rolled up: by directory, and by the layer that hid them.

The per-file list of :class:`~layerscope.analysis.WasteItem` answers "which
file"; an auditor next asks "which part of the tree" (a package cache, a
build directory) and "which step of the build" (the ``chmod -R`` that copied
everything up). Both are sums over the same items, so they always add up to
the waste total.

By directory, every directory counts the hidden versions of its whole
subtree (like ``du``). A directory whose hidden versions all sit in one
subdirectory, none directly in it, says nothing its subdirectory does not: it
is left out (``/root`` when everything is in ``/root/.aws``), the root
included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .analysis import Analysis, WasteItem, WasteTotals
from .merge import ROOT, parent_of


def _bigger(a: WasteItem | None, b: WasteItem) -> WasteItem:
    """The bigger item (ties: the first path in order), for a stable jump target."""
    if a is None or (b.size, a.path) > (a.size, b.path):
        return b
    return a


@dataclass(slots=True)
class DirWaste:
    """The hidden versions under one directory."""

    path: str
    size: int = 0
    versions: int = 0
    by_layer: dict[int, int] = field(default_factory=dict)  # hiding layer -> bytes
    biggest: WasteItem | None = None
    direct: int = 0  # versions directly in this directory
    subdirs: set[str] = field(default_factory=set)  # child directories with hidden versions

    def add(self, item: WasteItem) -> None:
        self.size += item.size
        self.versions += 1
        self.by_layer[item.by_layer] = self.by_layer.get(item.by_layer, 0) + item.size
        self.biggest = _bigger(self.biggest, item)

    @property
    def layers(self) -> list[int]:
        """Hiding layers, most bytes first (then by index)."""
        return sorted(self.by_layer, key=lambda k: (-self.by_layer[k], k))


def waste_by_directory(items: Iterable[WasteItem]) -> list[DirWaste]:
    """One row per informative directory, most hidden bytes first (then by path)."""
    dirs: dict[str, DirWaste] = {}
    for item in items:
        child: str | None = None
        d = parent_of(item.path)
        while True:
            row = dirs.get(d)
            if row is None:
                row = dirs[d] = DirWaste(d)
            row.add(item)
            if child is None:
                row.direct += 1
            else:
                row.subdirs.add(child)
            if d == ROOT:
                break
            child, d = d, parent_of(d)
    rows = [r for r in dirs.values() if r.direct or len(r.subdirs) != 1]
    rows.sort(key=lambda r: (-r.size, r.path))
    return rows


@dataclass(slots=True)
class LayerRollup:
    """The hidden bytes one layer made dead, by cause."""

    layer: int
    command: str
    base: bool
    caused: WasteTotals = field(default_factory=WasteTotals)
    biggest: WasteItem | None = None


def waste_by_layer(analysis: Analysis) -> list[LayerRollup]:
    """One row per layer that hid something, most bytes first (then by index)."""
    rows: dict[int, LayerRollup] = {}
    layers = analysis.layers
    for item in analysis.items:
        row = rows.get(item.by_layer)
        if row is None:
            known = 0 <= item.by_layer < len(layers)
            command = layers[item.by_layer].command if known else item.command
            row = rows[item.by_layer] = LayerRollup(item.by_layer, command, known and layers[item.by_layer].base)
        row.caused.add(item.cause, item.size)
        row.biggest = _bigger(row.biggest, item)
    return sorted(rows.values(), key=lambda r: (-r.caused.total, r.layer))
