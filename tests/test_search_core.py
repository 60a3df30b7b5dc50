"""The core's fragment search equals the Python matcher it replaced, name for name.

``search``/``count_matches`` hand a plain fragment to ``Tree.find_fragment``
(``src/search.rs``), which lowercases paths in Rust. The reference here is
the matcher as Python wrote it (``fragment.lower() in path.lower()`` over
every path, state as of the layer, ghosts or not), run on names where the two
lowercasings could part: non-ASCII letters, the Kelvin sign (lowercases to an
ASCII ``k``), dotted capital I (to two code points), final sigma, bytes that
are not UTF-8, an emoji, and a deleted subtree (ghosts).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from imagegen import build, d, file, wh

from layerscope.api import load
from layerscope.merge import Merged
from layerscope.model import Deletion, Entry
from layerscope.snapshot import cached_paths, count_matches, search

NAMES = [
    "/srv/Straße.txt",
    "/srv/ÄRGER.md",
    "/srv/KELVIN-\u212a.bin",  # KELVIN SIGN: lower() gives ASCII "k"
    "/srv/\u0130stanbul",  # LATIN CAPITAL I WITH DOT: lower() gives "i" + U+0307
    "/srv/ΟΔΟΣ",  # a final capital sigma
    "/srv/ΣΑΣ-x",
    "/srv/raw-\udcff\udcfe-Bytes",  # not UTF-8
    "/srv/emoji-\U0001f600-Key.pem",
    "/srv/MiXeD/Case/Secret.KEY",
    "/srv/plain.txt",
]
QUERIES = ["k", "K", "key", "ß", "ss", "ärger", "ÄR", "i\u0307", "istanbul", "σ", "ς", "οδος", "\udcff", "bytes",
           "\U0001f600", "/srv/m", "secret", "", "/", "zzz", ".txt", "ΣΑΣ"]  # fmt: skip


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> Merged:
    tmp = Path(tmp_path_factory.mktemp("search"))
    l0 = [d("/srv"), *[file(n, "x") for n in NAMES], file("/srv/gone/Old-KEY.pem", "k")]
    l1 = [wh("/srv/gone"), file("/srv/new-Key.txt", "n")]  # a ghost subtree, then one more file
    l2 = [wh("/srv/plain.txt")]  # deleted by the top layer
    return load(build(str(tmp), [l0, l1, l2]))


def reference(merged: Merged, k: int, fragment: str, ghosts: bool) -> list[Entry | Deletion]:
    """The Python matcher: every path, its state as of k, shown or not."""
    lower = fragment.lower()
    out: list[Entry | Deletion] = []
    for p in cached_paths(merged):
        if lower not in p.lower():
            continue
        ev = merged.state_at(p, k)
        if ev is None or (type(ev) is Deletion and ev.layer != k and not ghosts):
            continue
        out.append(ev)
    return out


@pytest.mark.parametrize("ghosts", [True, False])
@pytest.mark.parametrize("k", [0, 1, 2])
def test_core_fragment_search_equals_the_python_matcher(merged: Merged, k: int, ghosts: bool) -> None:
    for q in QUERIES:
        want = reference(merged, k, q, ghosts)
        found, total = search(merged, k, q, limit=10**6, ghosts=ghosts)
        assert [(ev.path, ev.layer, type(ev).__name__) for ev in found] == [
            (ev.path, ev.layer, type(ev).__name__) for ev in want
        ], q
        assert total == len(want), q
        assert count_matches(merged, k, q, ghosts=ghosts) == (len(want), sum(type(e) is Deletion for e in want)), q
        # the first few, stopping at the limit as the search screen asks
        first, shown = search(merged, k, q, limit=2, ghosts=ghosts, count=False)
        assert [ev.path for ev in first] == [ev.path for ev in want[:2]] and shown == min(2, len(want)), q


def test_the_catalogue_hits_what_it_means_to(merged: Merged) -> None:
    """Independent of both matchers: what a reader expects each tricky query to find."""
    paths = {ev.path for ev in search(merged, 2, "k", limit=100)[0]}
    assert "/srv/KELVIN-\u212a.bin" in paths and "/srv/MiXeD/Case/Secret.KEY" in paths
    assert "/srv/gone/Old-KEY.pem" in paths  # a ghost: deleted by L1, its bytes still ship
    assert {ev.path for ev in search(merged, 2, "k", limit=100, ghosts=False)[0]} == paths - {
        "/srv/gone",
        "/srv/gone/Old-KEY.pem",
    }
    assert [ev.path for ev in search(merged, 2, "ärger", limit=10)[0]] == ["/srv/ÄRGER.md"]
    assert [ev.path for ev in search(merged, 2, "\udcff\udcfe", limit=10)[0]] == ["/srv/raw-\udcff\udcfe-Bytes"]
    deleted_now = search(merged, 2, "plain", limit=10, ghosts=False)[0]
    assert [(ev.path, type(ev)) for ev in deleted_now] == [("/srv/plain.txt", Deletion)]  # deleted by L2 itself
    assert search(merged, 1, "plain", limit=10)[0][0].__class__ is Entry
