"""``report --html`` without a browser: the bounds (folding, the treemap's
rectangles) keep every byte, held to ``report --json``; the page fetches nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from imagegen import build, d, file, run_cli

from layerscope.api import load
from layerscope.html import treemap
from layerscope.html.browse import browse

ROOT = Path(__file__).resolve().parent.parent


def _wide_image(tmp: Path) -> str:
    specs = [d("srv")]
    for i in range(40):
        specs.append(d(f"srv/d{i:02d}"))
        specs += [file(f"srv/d{i:02d}/f{j:03d}", "x" * (i * 7 + j + 1)) for j in range(60)]
    return build(tmp, [specs, [file("srv/d00/f000", "changed")]])


def test_folding_keeps_every_byte(tmp_path: Path) -> None:
    image = _wide_image(tmp_path)
    _, js, _ = run_cli("report", image, "--json")
    total = json.loads(js)["image"]["size_bytes"]
    merged = load(image)
    timelines = list(merged.timelines())
    nav = browse(timelines, limit=100)
    assert len(nav.nodes) <= 100
    assert nav.paths == len(timelines) and nav.folded == nav.paths - len(nav.nodes)
    own = sum(e[2] for node in nav.nodes for e in node[2] if len(e) > 2)
    folded = sum(node[3][1] for node in nav.nodes if len(node) > 3)
    assert own + folded == total
    assert browse(timelines).folded == 0  # under the limit nothing folds


def test_treemap_is_bounded_and_adds_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image = _wide_image(tmp_path)
    _, js, _ = run_cli("report", image, "--json")
    doc = json.loads(js)
    merged = load(image)
    versions = []
    for path, evs in merged.timelines():
        for ev in evs:
            if getattr(ev, "type", None) == "file" and ev.size > 0:
                versions.append((path, ev.size, ev.layer, ev is not evs[-1]))
    tree = treemap.build_tree(versions)
    assert tree.bytes == doc["image"]["size_bytes"]
    assert [tree.by_layer.get(la["index"], 0) for la in doc["layers"]] == [la["size_bytes"] for la in doc["layers"]]
    monkeypatch.setattr(treemap, "MAX_RECTS", 200)
    rects = treemap.layout(tree)
    assert len(rects) <= 200 + treemap.MAX_CHILDREN
    assert sum(r.bytes for r in rects if r.kind != "dir") == tree.bytes
    for r in rects:
        assert r.x >= -0.01 and r.x + r.w <= treemap.WIDTH + 0.01
        assert r.y >= -0.01 and r.y + r.h <= treemap.HEIGHT + 0.01


def test_page_fetches_nothing(tmp_path: Path) -> None:
    out = tmp_path / "page.html"
    code, _, _ = run_cli("report", str(ROOT / "sample_images" / "sample-docker.tar"), "--html", str(out))
    assert code == 0
    text = out.read_text("utf-8")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text)
    assert csp is not None and csp.group(1).startswith("default-src 'none'")
    assert not re.search(r"(?:src|href)=[\"'](?:https?:)?//", text)  # nothing from the network
    assert not re.search(r"@import|url\((?!#)", text)
