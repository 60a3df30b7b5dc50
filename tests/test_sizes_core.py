"""A layer's own byte figures (the UI's layer view and size sort) come from the
core; they must equal this plain Python reading of the same rule, the one the
UI used before the core computed them, on real and generated images at every
layer."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SAMPLE_IMAGES, SAMPLES
from imagegen import build, file, opq, wh
from imagegen import d as mkdir

from layerscope.api import load
from layerscope.merge import ROOT, Merged, parent_of
from layerscope.model import DIR, FILE, REWRITTEN, Deletion, Entry, Event
from layerscope.sizes import layer_bytes


def file_bytes(ev: Event | None) -> int:
    return ev.size if type(ev) is Entry and ev.type == FILE else 0


def changed_paths(merged: Merged, k: int) -> dict[str, None]:
    """The layer's entries (not its re-listed directories) and deletions, with their ancestors."""
    out: dict[str, None] = {}
    for e in merged.layer_entries(k):
        if e.type == DIR and e.change == REWRITTEN:
            continue
        out[e.path] = None
    for d in merged.deletions(k):
        out[d.path] = None
    out.pop(ROOT, None)
    for p in list(out):
        q = p.rsplit("/", 1)[0]
        while q and q not in out:
            out[q] = None
            q = q.rsplit("/", 1)[0]
    return out


def _roll_up(direct: dict[str, int]) -> dict[str, int]:
    """Per-directory sums from per-parent ones: each directory adds into its parent once.

    Deepest directories first, so a layer of 80k entries costs one addition
    per directory rather than one per entry and ancestor.
    """
    levels: dict[int, dict[str, int]] = {}
    for d, n in direct.items():
        level = levels.setdefault(d.count("/") if d != ROOT else 0, {})
        level[d] = level.get(d, 0) + n
    out: dict[str, int] = {}
    for depth in range(max(levels, default=0), 0, -1):
        for d, n in levels.get(depth, {}).items():
            out[d] = n
            up = levels.setdefault(depth - 1, {})
            q = parent_of(d)
            up[q] = up.get(q, 0) + n
    if 0 in levels:
        out[ROOT] = levels[0].get(ROOT, 0)
    return {d: n for d, n in out.items() if n}


def reference(merged: Merged, k: int) -> tuple[dict[str, int], dict[str, int], dict[str, int], dict[str, None]]:
    """Layer ``k``'s figures, from the paths it touched (its entries and deletions)."""
    touched = {e.path: None for e in merged.layer_entries(k)}
    touched.update((d.path, None) for d in merged.deletions(k))
    touched.pop(ROOT, None)
    state_at = merged.state_at
    added: dict[str, int] = {}
    hidden: dict[str, int] = {}
    hidden_self: dict[str, int] = {}
    delta: dict[str, int] = {}
    for p in touched:
        new = state_at(p, k)
        now = file_bytes(new)
        before = file_bytes(state_at(p, k - 1)) if k else 0
        if now == before == 0:
            continue
        parent = parent_of(p)
        if now and new is not None and new.layer == k:
            added[parent] = added.get(parent, 0) + now
        if before and type(new) is Deletion and new.layer == k:
            hidden_self[p] = before
            hidden[parent] = hidden.get(parent, 0) + before
        if now != before:
            delta[parent] = delta.get(parent, 0) + now - before
    rolled = _roll_up(hidden)
    for p, n in hidden_self.items():
        rolled[p] = rolled.get(p, 0) + n  # a deleted file's own figure (a directory holds none of its own)
    return _roll_up(added), rolled, _roll_up(delta), changed_paths(merged, k)


def _generated(tmp: Path) -> str:
    """Overwrites, a chmod copy-up, a whiteout of a tree, an opaque dir, a file replacing a dir."""
    return build(
        str(tmp),
        [
            [
                mkdir("a"),
                mkdir("a/b"),
                file("a/b/x", b"x" * 100),
                file("a/y", b"y" * 10),
                mkdir("c"),
                file("c/z", b"z" * 7),
            ],
            [file("a/b/x", b"X" * 120), file("a/y", b"y" * 10, mode=0o600), wh("c")],
            [opq("a"), file("a/new", b"n" * 3), file("c", b"now a file")],
            [wh("a/new"), mkdir("c2"), file("c2/deep/er/f", b"f" * 9)],
        ],
    )


@pytest.mark.parametrize("source", ["generated", *SAMPLE_IMAGES])
def test_layer_figures_equal_the_reference(source: str, tmp_path: Path) -> None:
    merged = load(_generated(tmp_path) if source == "generated" else str(SAMPLES / source))
    nonzero = 0
    for k in range(len(merged.image.layers)):
        got = layer_bytes(merged, k)
        added, hidden, delta, changed = reference(merged, k)
        assert (got.added, got.hidden, got.delta) == (added, hidden, delta), k
        assert set(got.changed) == set(changed), k
        nonzero += bool(hidden) + bool(added)
    assert nonzero >= 3
