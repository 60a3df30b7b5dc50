"""Hostile paths and links (issue #6): absolute and '..' names, odd whiteouts, hardlinks, symlinks."""

from __future__ import annotations

from pathlib import Path

from imagegen import F, d, docker_archive_blobs, file, hard, layer_tar, member, raw_tar, run_cli, sym, wh
from test_hostile_outer import expect_loaded

from layerscope.merge import Merged


def load_layers(tmp_path: Path, *layers: bytes, needles: tuple[str, ...] = ()) -> Merged:
    m = expect_loaded(docker_archive_blobs(tmp_path / "image.tar", list(layers)), *needles)
    assert not any(la.error for la in m.image.layers)
    return m


def live(m: Merged) -> dict[str, object]:
    return {e.path: e for e in m.files_at(m.top)}


def test_absolute_and_dotdot_entries(tmp_path: Path) -> None:
    blob = raw_tar(member("/etc/abs", "1"), member("../../escape", "2"), member("a/../../b", "3"), member("ok", "4"))
    m = load_layers(tmp_path, blob, needles=("absolute names", "'..' in their names rejected"))
    assert set(live(m)) >= {"/etc/abs", "/ok"} and not any("escape" in p or p == "/b" for p in live(m))


def test_file_used_as_parent_directory(tmp_path: Path) -> None:
    m = load_layers(
        tmp_path, layer_tar([file("a", "x")]), layer_tar([file("a/b", "y")]), needles=("used as a directory",)
    )
    assert live(m)["/a"].type == "dir" and "/a/b" in live(m)  # type: ignore[attr-defined]
    m = load_layers(tmp_path, layer_tar([file("f", "x"), file("f/g", "y")]), needles=("used as a directory",))


def test_whiteouts_of_nothing_dot_dotdot_and_empty(tmp_path: Path) -> None:
    base = layer_tar([d("etc"), file("etc/keep", "k")])
    blob = raw_tar(member(".wh.nothing", ""), member("etc/.wh..", ""), member("etc/.wh...", ""), member(".wh.", ""))
    m = load_layers(tmp_path, base, blob, needles=("invalid name",))
    assert "/etc/keep" in live(m) and "/etc" in live(m)
    blob = raw_tar(member(".wh..wh..opq", ""))  # opaque root: hides everything below, not the root itself
    m = load_layers(tmp_path, base, blob)
    assert live(m) == {}


def test_whiteout_then_readd_in_same_layer(tmp_path: Path) -> None:
    m = load_layers(tmp_path, layer_tar([d("x"), file("x/old")]), layer_tar([file("x/new"), wh("x")]))
    assert "/x/new" in live(m) and "/x/old" not in live(m)  # whiteouts hide lower layers only


def test_hardlinks(tmp_path: Path) -> None:
    lower = layer_tar([d("bin"), file("bin/real", "content"), d("somedir")])
    upper = layer_tar(
        [
            hard("bin/tolower", "bin/real"),
            hard("bin/missing", "bin/nothere"),
            hard("bin/todir", "somedir"),
            hard("bin/self", "bin/self"),
            hard("bin/forward", "bin/later"),
            file("bin/later", "later!"),
            hard("bin/chain1", "bin/tolower"),
            hard("bin/chain2", "bin/chain1"),
        ]
    )
    m = load_layers(tmp_path, lower, upper, needles=("target missing", "target is a dir", "points to itself"))
    top = live(m)
    assert top["/bin/tolower"].size == 7 and top["/bin/chain2"].size == 7  # type: ignore[attr-defined]
    assert top["/bin/chain2"].data_entry.path == "/bin/real"  # type: ignore[attr-defined]
    assert top["/bin/missing"].size == 0  # type: ignore[attr-defined]
    esc = raw_tar(member("esc", b"", flag=b"1", linkname="../../etc/shadow"), member("ok", "1"))
    m = load_layers(tmp_path, esc, needles=("escapes the root",))
    assert "/esc" not in live(m) and "/ok" in live(m)


def test_symlinks_are_data_never_followed(tmp_path: Path) -> None:
    blob = layer_tar(
        [
            sym("loop1", "loop2"),
            sym("loop2", "loop1"),
            sym("self", "self"),
            sym("out", "../../../../etc/shadow"),
            sym("abs", "/etc/shadow"),
            sym("dev", "/dev/zero"),
            sym("dir", "/"),
            F("dev/zero", "char"),
            file("dir/inside", "x"),
        ]
    )
    m = load_layers(tmp_path, blob)
    top = live(m)
    assert top["/out"].link == "../../../../etc/shadow"  # type: ignore[attr-defined]
    assert top["/dev/zero"].type == "char"  # type: ignore[attr-defined]
    code, out, err = run_cli("report", "--json", str(tmp_path / "image.tar"))
    assert code == 0 and not err and "/etc/shadow" in out


def test_type_changes_across_layers(tmp_path: Path) -> None:
    m = load_layers(
        tmp_path,
        layer_tar([d("a"), file("a/b", "1"), file("c", "2")]),
        layer_tar([file("a", "now a file"), d("c"), file("c/d", "3")]),
        layer_tar([sym("a", "c"), F("c", "fifo")]),
    )
    top = live(m)
    assert top["/a"].type == "symlink" and top["/c"].type == "fifo"  # type: ignore[attr-defined]
    assert "/a/b" not in top and "/c/d" not in top


def test_directory_after_its_children_and_file_after_children(tmp_path: Path) -> None:
    blob = raw_tar(member("x/y", "1"), member("x", b"", flag=b"5", mode=0o700))
    m = load_layers(tmp_path, blob)
    assert live(m)["/x"].mode == 0o700 and "/x/y" in live(m)  # type: ignore[attr-defined]
    blob = raw_tar(member("p/q", "1"), member("p", "a file now"))
    m = load_layers(tmp_path, blob)
    top = live(m)
    assert top["/p"].type == "file" and "/p/q" not in top  # type: ignore[attr-defined]
