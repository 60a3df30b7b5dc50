"""Property test: random layer stacks merge like a literal reading of the OCI spec.

The reference below applies each layer to a plain dict ``path -> attrs`` in
the simplest way the spec ("Applying Changesets") allows:

* whiteouts (``.wh.NAME``) and opaque markers (``.wh..wh..opq``) hide
  resources of *lower* layers only, whatever their place in the tar;
* then the layer's entries are applied in tar order, as extraction would:
  a non-directory replacing a directory removes the directory's subtree;
  a missing parent, or a parent that is not a directory, becomes a plain
  directory (0755, root) supplied by this layer; an explicit directory entry
  for a path that this layer created implicitly replaces its attributes and
  keeps its children;
* a hardlink takes the size and content of its target as it stands when the
  hardlink is applied (same layer earlier in tar order, or lower layers); a
  target that is missing, itself, or not a regular file leaves it empty.

The tree as of every layer, and which layer supplies each path, must match.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imagegen import F, layer_tar

from layerscope.api import read
from layerscope.model import Image, ImageConfig, Layer

PATHS = ["a", "a/b", "a/b/c", "a/d", "e", "e/f", "g"]

Attrs = tuple[Any, ...]  # (type, mode, size, digest, link, layer)


def _entry() -> st.SearchStrategy[F]:
    path = st.sampled_from(PATHS)
    mode = st.sampled_from([0o644, 0o755, 0o600])
    data = st.sampled_from([b"", b"x", b"yy", b"zzz"])
    return st.one_of(
        st.builds(lambda p, dt, m: F(p, "file", dt, m), path, data, mode),
        st.builds(lambda p, m: F(p, "dir", mode=m), path, st.sampled_from([0o755, 0o700])),
        st.builds(lambda p, t: F(p, "symlink", link=t, mode=0o777), path, st.sampled_from(["a", "../x", "/e/f"])),
        st.builds(lambda p, t: F(p, "hardlink", link=t, mode=0o644), path, st.sampled_from(PATHS)),
        st.builds(lambda p: F(p, "fifo"), path),
        st.builds(lambda p: F(p, "whiteout"), path),
        st.builds(lambda p: F(p, "opaque"), path),
    )


@st.composite
def layer_specs(draw: st.DrawFn) -> list[F]:
    specs = draw(st.lists(_entry(), max_size=7))
    seen: set[tuple[str, bool]] = set()
    out = []
    for s in specs:  # one entry and one marker per path at most (the loader keeps the last duplicate)
        key = (s.path, s.kind in ("whiteout", "opaque"))
        if key in seen:
            continue
        seen.add(key)
        out.append(s)
    return out


# -- the reference ---------------------------------------------------------------


def _under(state: dict[str, Attrs], p: str) -> list[str]:
    prefix = p + "/"
    return [q for q in state if q.startswith(prefix)]


def _remove_tree(state: dict[str, Attrs], p: str) -> None:
    for q in _under(state, p):
        del state[q]
    state.pop(p, None)


def reference(layers: list[list[F]]) -> list[dict[str, Attrs]]:
    state: dict[str, Attrs] = {}
    snapshots = []
    for idx, specs in enumerate(layers):
        lower = dict(state)
        # 1. Markers act on the lower layers only.
        for s in specs:
            p = "/" + s.path
            if s.kind == "opaque" and p in lower and lower[p][0] == "dir":
                for q in _under(lower, p):
                    state.pop(q, None)
            elif s.kind == "whiteout" and p in lower:
                _remove_tree(state, p)
        # 2. Entries in tar order.
        implicit: set[str] = set()
        for s in specs:
            if s.kind in ("whiteout", "opaque"):
                continue
            p = "/" + s.path
            cur = state.get(p)
            is_dir = s.kind == "dir"
            if cur is not None and cur[0] == "dir" and not is_dir:
                for q in _under(state, p):
                    del state[q]
            parts = p.strip("/").split("/")
            for i in range(1, len(parts)):
                q = "/" + "/".join(parts[:i])
                if q not in state or state[q][0] != "dir":
                    state[q] = ("dir", 0o755, 0, None, None, idx)
                    implicit.add(q)
            if s.kind == "file":
                attrs: Attrs = ("file", s.mode, len(s.data), hashlib.sha256(s.data).digest(), None, idx)
            elif s.kind == "dir":
                attrs = ("dir", s.mode, 0, None, None, idx)
            elif s.kind == "symlink":
                attrs = ("symlink", 0o777, 0, None, s.link, idx)
            elif s.kind == "hardlink":
                target = "/" + s.link
                t = state.get(target)
                if target != p and t is not None and t[0] in ("file", "hardlink"):
                    attrs = ("hardlink", s.mode, t[2], t[3], None, idx)
                else:
                    attrs = ("hardlink", s.mode, 0, None, None, idx)
            else:
                attrs = ("fifo", 0o644, 0, None, None, idx)
            state[p] = attrs
        snapshots.append(dict(state))
    return snapshots


# -- the implementation, fed real tar bytes through the loader -----------------------


def implementation(layers: list[list[F]]) -> list[dict[str, Attrs]]:
    tars = [layer_tar(specs) for specs in layers]
    model_layers = [
        Layer(index=i, digest=None, media_type=None, compressed_bytes=len(t), open_blob=lambda t=t: io.BytesIO(t))
        for i, t in enumerate(tars)
    ]
    image = Image("mem", "docker-archive", None, "linux/amd64", None, ImageConfig(), [], model_layers)
    m = read(image, workers=1)
    assert not any(la.error for la in m.image.layers), [la.error for la in m.image.layers]
    out = []
    for k in range(len(layers)):
        tree = {}
        for e in m.files_at(k):
            link = e.link if e.type == "symlink" else None
            tree[e.path] = (e.type, e.mode, e.size, e.digest, link, e.layer)
        out.append(tree)
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(layer_specs(), min_size=1, max_size=5))
def test_merge_matches_reference(layers: list[list[F]]) -> None:
    ref = reference(layers)
    impl = implementation(layers)
    for k, (want, got) in enumerate(zip(ref, impl)):
        assert got == want, f"as of layer {k}"


def test_reference_sanity() -> None:
    """The reference itself on a hand-checked stack."""
    layers = [
        [F("a", "dir", mode=0o755), F("a/b", "file", b"x", 0o644)],
        [F("a", "whiteout"), F("a/d", "file", b"yy", 0o644)],
    ]
    snaps = reference(layers)
    assert set(snaps[0]) == {"/a", "/a/b"}
    assert set(snaps[1]) == {"/a", "/a/d"} and snaps[1]["/a"][5] == 1
    assert implementation(layers) == snaps
