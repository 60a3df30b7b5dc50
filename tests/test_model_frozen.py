"""The stages are read-only: a source describes an image, ``read`` makes the
model from it, and nothing changes a value once made. ``Merged`` is the only
holder of the core's tree."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from conftest import SAMPLES

from layerscope.api import load, read
from layerscope.model import UNVERIFIED_KINDS, LoadWarning, WarningKind
from layerscope.sources import open_source

ROOT = Path(__file__).parent.parent
SAMPLE = str(SAMPLES / "sample-docker.tar")
FROZEN = (dataclasses.FrozenInstanceError, AttributeError)


def test_image_layer_and_merged_cannot_be_changed_after_load() -> None:
    m = load(SAMPLE)
    image, layer = m.image, m.image.layers[1]
    with pytest.raises(FROZEN):
        image.source = "other"  # type: ignore[misc]
    with pytest.raises(FROZEN):
        image.layers = ()  # type: ignore[misc]
    with pytest.raises(FROZEN):
        image.warnings = ()  # type: ignore[misc]
    with pytest.raises(FROZEN):
        layer.size_bytes = 0  # type: ignore[misc]
    with pytest.raises(FROZEN):
        layer.counts = layer.counts  # type: ignore[misc]
    with pytest.raises(FROZEN):
        layer.counts.entries = 0  # type: ignore[misc]
    with pytest.raises(FROZEN):
        m.image = image  # type: ignore[misc]
    assert not hasattr(image, "tree")  # the model holds no tree: Merged does
    with pytest.raises(AttributeError):
        layer.rows  # type: ignore[attr-defined]  # noqa: B018 - the rows are the merge's, not the layer's


def test_read_leaves_the_description_as_it_was() -> None:
    description = open_source(SAMPLE)
    before = [(la.size_bytes, la.uncompressed_bytes, la.warnings, la.counts) for la in description.layers]
    m = read(description)
    assert m.image is not description and m.image.layers[1] is not description.layers[1]
    assert [(la.size_bytes, la.uncompressed_bytes, la.warnings, la.counts) for la in description.layers] == before
    assert all(la.counts.entries == 0 for la in description.layers)
    assert sum(la.counts.entries for la in m.image.layers) > 0


def test_warning_kinds_are_one_enum_with_the_json_strings() -> None:
    """Kinds are ``WarningKind`` members whose values are the strings ``ci --json`` writes."""
    assert {k.value for k in UNVERIFIED_KINDS} <= {k.value for k in WarningKind}
    assert WarningKind("digest-mismatch") is WarningKind.DIGEST_MISMATCH
    assert f"{WarningKind.SPARSE}" == "sparse" and str(WarningKind.TAR_HEADER) == "tar-header"
    w = LoadWarning(WarningKind.SPARSE, "x", 1)
    assert w.unverified and w.listed


def test_one_list_of_warnings(tmp_path: Path) -> None:
    """A layer's warnings are LoadWarnings only; views read their messages from the same list."""
    from imagegen import build, file, hard

    m = load(build(tmp_path, [[file("a", "1"), file("a", "2"), hard("h", "missing")]]))
    layer = m.image.layers[0]
    assert layer.warnings and all(isinstance(w, LoadWarning) and type(w.kind) is WarningKind for w in layer.warnings)
    assert layer.messages() == [w.message for w in layer.warnings if w.listed]
    assert m.image.messages() == [w.message for w in m.image.all_warnings()]
    assert not hasattr(m.image, "issues") and not hasattr(layer, "issues") and not hasattr(m.image, "split_warnings")


def test_only_merge_touches_the_core_tree() -> None:
    """Callers ask ``Merged``; only merge.py names the core's tree handle."""
    offenders = []
    for p in sorted((ROOT / "layerscope").rglob("*.py")):
        if p.name == "merge.py":
            continue
        for n, line in enumerate(p.read_text().splitlines(), 1):
            if re.search(r"\._tree\b|\b(merged|image|m)\.tree\b|_core\.Tree\b|\bmerge_layers\b", line):
                offenders.append(f"{p.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []
