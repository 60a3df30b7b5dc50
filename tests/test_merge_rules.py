"""Each OCI changeset rule, on layers built in memory."""

from __future__ import annotations

from pathlib import Path

import pytest
from imagegen import build, d, file, hard, opq, sym, wh

from layerscope.api import load
from layerscope.merge import Merged
from layerscope.model import Deletion, Entry


def merged(tmp_path: Path, *layers: list, fmt: str = "docker") -> Merged:
    return load(build(tmp_path, list(layers), fmt))


def live(m: Merged, k: int | None = None) -> dict[str, Entry]:
    k = m.top if k is None else k
    return {e.path: e for e in m.files_at(k)}


def test_add_and_overwrite_hides_lower_version(tmp_path: Path) -> None:
    m = merged(tmp_path, [d("etc"), file("etc/a", "one")], [d("etc"), file("etc/a", "two")])
    top = live(m)
    assert top["/etc/a"].layer == 1 and top["/etc/a"].change == "modified"
    below = m.versions_below(top["/etc/a"])
    assert [(v.layer, v.size) for v in below] == [(0, 3)]
    assert live(m, 0)["/etc/a"].layer == 0
    assert m.image.layers[1].counts.modified == 1


def test_chmod_only_is_metadata_and_identical_is_rewritten(tmp_path: Path) -> None:
    m = merged(
        tmp_path,
        [file("a", "x", mode=0o644), file("b", "y"), file("c", "z", uid=0)],
        [file("a", "x", mode=0o755), file("b", "y"), file("c", "z", uid=1000)],
    )
    top = live(m)
    assert top["/a"].change == "metadata"
    assert top["/b"].change == "rewritten"
    assert top["/c"].change == "metadata"
    c = m.image.layers[1].counts
    assert (c.metadata, c.rewritten, c.modified) == (2, 1, 0)


def test_xattr_change_is_metadata(tmp_path: Path) -> None:
    m = merged(tmp_path, [file("bin/ping", "p")], [file("bin/ping", "p", xattrs={"security.capability": "cap"})])
    e = live(m)["/bin/ping"]
    assert e.change == "metadata" and e.xattrs == {"security.capability": b"cap"}


def test_whiteout_deletes_file_and_subtree_of_lower_layers(tmp_path: Path) -> None:
    m = merged(
        tmp_path,
        [d("srv"), file("srv/keep"), d("srv/old"), file("srv/old/a"), d("srv/old/sub"), file("srv/old/sub/b")],
        [wh("srv/old")],
    )
    top = live(m)
    assert "/srv/keep" in top
    assert not any(p.startswith("/srv/old") for p in top)
    hidden = {d.path: (d.how, [v.layer for v in vs]) for d, vs in m.hidden_at(m.top)}
    assert hidden == {
        "/srv/old": ("whiteout", [0]),
        "/srv/old/a": ("whiteout", [0]),
        "/srv/old/sub": ("whiteout", [0]),
        "/srv/old/sub/b": ("whiteout", [0]),
    }
    assert m.image.layers[1].counts.deleted == 4
    # the marker itself never appears
    assert not any(".wh." in p for p in m.paths())


def test_whiteout_of_nothing_is_a_noop(tmp_path: Path) -> None:
    m = merged(tmp_path, [file("a")], [wh("ghost"), wh("dir/ghost")])
    assert set(live(m)) == {"/a"}
    assert m.image.layers[1].counts.deleted == 0
    assert not m.image.messages()


def test_layer_keeps_its_own_file_beside_its_whiteout(tmp_path: Path) -> None:
    m = merged(tmp_path, [file("foo", "old")], [file("foo", "new"), wh("foo")])
    e = live(m)["/foo"]
    assert e.layer == 1 and e.size == 3
    assert [v.layer for v in m.versions_below(e)] == [0]


@pytest.mark.parametrize("marker_first", [True, False])
def test_opaque_hides_lower_children_only(tmp_path: Path, marker_first: bool) -> None:
    upper = [d("opt/cache"), file("opt/cache/fresh", "f")]
    upper = [opq("opt/cache"), *upper] if marker_first else [*upper, opq("opt/cache")]
    m = merged(
        tmp_path,
        [d("opt"), d("opt/cache"), file("opt/cache/one"), d("opt/cache/sub"), file("opt/cache/sub/two")],
        upper,
    )
    top = live(m)
    assert {p for p in top if p.startswith("/opt")} == {"/opt", "/opt/cache", "/opt/cache/fresh"}
    hows = {d.path: d.how for d, _ in m.hidden_at(m.top)}
    assert hows == {"/opt/cache/one": "opaque", "/opt/cache/sub": "opaque", "/opt/cache/sub/two": "opaque"}


def test_aufs_metadata_names_are_not_whiteouts(tmp_path: Path) -> None:
    m = merged(tmp_path, [file("a"), file(".wh..wh.plnk/123.456"), file(".wh..wh.aufs")], [file("b")])
    assert set(live(m)) == {"/a", "/b"}


def test_file_replacing_directory_deletes_subtree_without_whiteout(tmp_path: Path) -> None:
    m = merged(tmp_path, [d("data"), d("data/x"), file("data/x/y"), file("data/z")], [file("data/x", "now a file")])
    top = live(m)
    assert top["/data/x"].type == "file" and top["/data/x"].change == "type-changed"
    assert "/data/x/y" not in top and "/data/z" in top
    hidden = {d.path: (d.how, d.cause) for d, _ in m.hidden_at(m.top)}
    assert hidden == {"/data/x/y": ("replaced", "/data/x")}
    assert [v.type for v in m.versions_below(top["/data/x"])] == ["dir"]


def test_directory_replacing_file(tmp_path: Path) -> None:
    m = merged(tmp_path, [d("var"), file("var/thing", "f")], [d("var/thing"), file("var/thing/inside")])
    top = live(m)
    assert top["/var/thing"].type == "dir" and top["/var/thing"].change == "type-changed"
    assert top["/var/thing/inside"].change == "added"


def test_directory_over_directory_changes_attributes_only(tmp_path: Path) -> None:
    m = merged(tmp_path, [d("etc"), file("etc/a")], [d("etc", mode=0o700)], [d("etc", mode=0o700)])
    assert live(m)["/etc/a"].layer == 0
    assert live(m, 1)["/etc"].change == "metadata"
    assert live(m)["/etc"].change == "rewritten"
    # a re-listed directory is not counted as a rewritten file
    assert m.image.layers[2].counts.rewritten == 0 and m.image.layers[2].counts.dirs_rewritten == 1


def test_hardlink_carries_target_content_and_survives_target_removal(tmp_path: Path) -> None:
    m = merged(tmp_path, [file("a", "shared bytes"), hard("b", "a")], [wh("a")])
    top = live(m)
    assert "/a" not in top
    b = top["/b"]
    assert b.type == "hardlink" and b.link == "/a" and b.size == 12
    assert b.digest == m.history("/a")[0].digest
    assert b.data_entry.path == "/a"


def test_hardlink_to_lower_layer_and_missing_target(tmp_path: Path) -> None:
    m = merged(tmp_path, [file("a", "xyz")], [hard("b", "a"), hard("c", "nope")])
    top = live(m)
    assert top["/b"].size == 3
    assert top["/c"].digest is None
    assert any("target missing" in w for w in m.image.messages())


def test_duplicate_entries_last_wins_with_warning(tmp_path: Path) -> None:
    m = merged(tmp_path, [file("a", "first"), file("a", "second!")])
    assert live(m)["/a"].size == 7
    assert any("more than once" in w for w in m.image.messages())


def test_names_are_normalised_and_dotdot_rejected(tmp_path: Path) -> None:
    m = merged(tmp_path, [d("./etc/"), file("./etc//passwd", "root"), file("../evil", "x"), file("a/../../b", "y")])
    top = live(m)
    assert set(top) == {"/etc", "/etc/passwd"}
    assert any("'..'" in w for w in m.image.messages())


def test_missing_parents_are_implicit_directories(tmp_path: Path) -> None:
    m = merged(tmp_path, [file("deep/er/file", "x")])
    top = live(m)
    assert top["/deep"].type == "dir" and top["/deep/er"].type == "dir"


def test_child_before_parent_in_tar_order(tmp_path: Path) -> None:
    m = merged(tmp_path, [file("p/c", "x"), d("p", mode=0o700)])
    top = live(m)
    assert top["/p"].mode == 0o700 and top["/p"].change == "added"
    assert len(m.history("/p")) == 1


def test_readded_after_delete_is_added_and_keeps_old_versions(tmp_path: Path) -> None:
    m = merged(tmp_path, [file("s", "secret")], [wh("s")], [file("s", "public")])
    e = live(m)["/s"]
    assert e.change == "added" and [v.layer for v in m.versions_below(e)] == [0]
    assert isinstance(m.state_at("/s", 1), Deletion)


def test_symlink_target_change_is_modified(tmp_path: Path) -> None:
    m = merged(tmp_path, [sym("l", "/a")], [sym("l", "/b")])
    assert live(m)["/l"].change == "modified" and live(m)["/l"].link == "/b"


@pytest.mark.parametrize("fmt", ["docker", "oci-gzip", "oci-zstd", "oci-none", "oci-layout"])
def test_every_format_gives_the_same_tree(tmp_path: Path, fmt: str) -> None:
    m = merged(tmp_path, [d("a"), file("a/x", "1")], [wh("a/x"), file("a/y", "2")], fmt=fmt)
    assert {p: e.layer for p, e in live(m).items()} == {"/a": 0, "/a/y": 1}
    assert not m.image.messages()


def test_reading_twice_changes_nothing(tmp_path: Path) -> None:
    """Reading makes new values and changes none: the description read a second
    time neither doubles counts nor repeats warnings, and gives the same timelines."""
    from layerscope.api import read
    from layerscope.sources import open_source

    path = build(tmp_path, [[d("a"), file("a/x", "1"), file("f", "x")], [file("a/x", "2"), file("f/under", "y")]])
    description = open_source(path)
    m = read(description)
    before = ([vars_of(la.counts) for la in m.image.layers], list(m.image.messages()), m.paths())
    again = read(description)
    after = ([vars_of(la.counts) for la in again.image.layers], list(again.image.messages()), again.paths())
    assert before == after and again.image is not m.image
    assert not description.messages() and all(la.counts.entries == 0 for la in description.layers)
    assert m.image.layers[1].counts.modified == 1 and any("used as a directory" in w for w in m.image.messages())
    assert [e.layer for e in again.history("/a/x")] == [0, 1]


def vars_of(counts: object) -> dict[str, int]:
    names = ("entries", "added", "modified", "metadata", "rewritten", "type_changed", "deleted", "dirs_rewritten")
    return {k: getattr(counts, k) for k in names}
