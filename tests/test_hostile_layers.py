"""Hostile and broken layer streams (issue #6): every one loads with a warning.

A layer that cannot be read is marked damaged (its partial entries kept);
the other layers and the rest of the image still show.
"""

from __future__ import annotations

import gzip
import json
import random
import time
from pathlib import Path

import pytest
import zstandard
from imagegen import (
    d,
    docker_archive_blobs,
    file,
    gnu_long,
    layer_tar,
    member,
    pax_member,
    raw_tar,
    run_cli,
    tar_header,
)
from test_hostile_outer import expect_loaded

from layerscope.merge import Merged

GOOD = layer_tar([d("etc"), file("etc/base", "base")])


def image_with(tmp_path: Path, blob: bytes) -> str:
    """A docker archive: a good layer 0, then the hostile blob as layer 1."""
    return docker_archive_blobs(tmp_path / "image.tar", [GOOD, blob])


def damaged(tmp_path: Path, blob: bytes, *needles: str) -> Merged:
    m = expect_loaded(image_with(tmp_path, blob), "layer 1 is damaged", *needles)
    assert m.image.layers[1].error
    assert "/etc/base" in {e.path for e in m.files_at(m.top)}  # everything else still shows
    return m


def warned(tmp_path: Path, blob: bytes, *needles: str) -> Merged:
    m = expect_loaded(image_with(tmp_path, blob), *needles)
    assert not m.image.layers[1].error, m.image.layers[1].error
    return m


def paths(m: Merged) -> set[str]:
    return {e.path for e in m.files_at(m.top)}


def rnd_bytes(n: int, seed: int = 6) -> bytes:
    return random.Random(seed).randbytes(n)


# -- not a tar / truncated / corrupt compression ------------------------------------


def test_not_a_tar(tmp_path: Path) -> None:
    damaged(tmp_path, rnd_bytes(5000), "layer 1")
    damaged(tmp_path, b"hello world\n" * 100, "tar header")


def test_truncated_tar_keeps_entries_before_the_cut(tmp_path: Path) -> None:
    blob = layer_tar([file("one", "1"), file("two", "2" * 5000), file("three", "3")])
    m = damaged(tmp_path, blob[:2500], "truncated")
    assert "/one" in paths(m) and "/three" not in paths(m)


def test_corrupt_and_truncated_gzip(tmp_path: Path) -> None:
    gz = gzip.compress(layer_tar([file("x", rnd_bytes(20000))]))
    bad = bytearray(gz)
    bad[len(bad) // 2] ^= 0xFF
    damaged(tmp_path, bytes(bad), "gzip")
    damaged(tmp_path, gz[: len(gz) // 2], "truncated")
    damaged(tmp_path, gz[:5], "truncated")


def test_corrupt_and_truncated_zstd(tmp_path: Path) -> None:
    zs = zstandard.ZstdCompressor().compress(layer_tar([file("x", rnd_bytes(20000))]))
    bad = bytearray(zs)
    bad[len(bad) // 2] ^= 0xFF  # inside a raw block: zstd has no checksum here, the diff_id catches it
    expect_loaded(image_with(tmp_path, bytes(bad)), "diff_id mismatch")
    bad = bytearray(zs)
    bad[5] ^= 0xFF
    bad[6] ^= 0xFF
    damaged(tmp_path, bytes(bad), "layer 1")
    damaged(tmp_path, zs[: len(zs) // 2], "truncated")


def test_zstd_frame_asking_for_a_huge_window(tmp_path: Path) -> None:
    params = zstandard.ZstdCompressionParameters(window_log=31, enable_ldm=True)
    zs = zstandard.ZstdCompressor(compression_params=params).compress(layer_tar([file("x", b"y")]))
    # Either refused (damaged, memory bounded) or read: never a traceback or a 2 GiB window.
    expect_loaded(image_with(tmp_path, zs))


def test_xz_and_bzip2_layers(tmp_path: Path) -> None:
    import bz2
    import lzma

    tar = layer_tar([file("x", "1")])
    warned(tmp_path, lzma.compress(tar))
    warned(tmp_path, bz2.compress(tar))
    xz = lzma.compress(tar)
    damaged(tmp_path, xz[: len(xz) // 2], "xz")
    warned(tmp_path, xz[:-20], "xz stream is truncated (after the end of the tar")  # every member was read
    damaged(tmp_path, bz2.compress(tar)[:-20], "bzip2")


def test_garbage_after_the_end(tmp_path: Path) -> None:
    tar = layer_tar([file("x", "1")])
    warned(tmp_path, gzip.compress(tar) + b"GARBAGE!" * 10, "garbage after the end")
    m = warned(tmp_path, zstandard.ZstdCompressor().compress(tar) + b"GARBAGE!" * 10, "after the end of the tar")
    assert "/x" in paths(m)
    warned(tmp_path, tar + b"hidden stuff" * 100, "non-zero data after the tar end-of-archive marker")
    # Files hidden after a lone zero block are reported, not silently dropped.
    lone = member("a", "1") + bytes(512) + member("hidden", "2") + bytes(1024)
    warned(tmp_path, lone, "non-zero data after the tar end")


def test_gzip_members_back_to_back_are_fine(tmp_path: Path) -> None:
    tar = layer_tar([file("x", "1"), file("y", "2")])
    blob = gzip.compress(tar[:512]) + gzip.compress(tar[512:])
    m = warned(tmp_path, blob)
    assert {"/x", "/y"} <= paths(m)


# -- tar headers that lie ---------------------------------------------------------------


def test_size_lies_bigger(tmp_path: Path) -> None:
    blob = raw_tar(member("a", "1"), member("liar", b"x" * 100, size=10**9), member("b", "2"))
    m = damaged(tmp_path, blob, "truncated", "liar")
    assert "/a" in paths(m)


def test_size_lies_smaller(tmp_path: Path) -> None:
    blob = raw_tar(member("a", "1"), tar_header("liar", size=10) + b"x" * 2048, member("b", "2"))
    damaged(tmp_path, blob, "checksum")


@pytest.mark.parametrize(
    "field",
    [b"-0000000001\0", b"\xff" * 12, b"+0000000001\0", b"0000_000001\0", b"9999999999\0\0", b"zzzz\0\0\0\0\0\0\0\0"],
)
def test_bad_and_negative_size_fields(tmp_path: Path, field: bytes) -> None:
    blob = raw_tar(member("a", "1"), tar_header("neg", size_field=field) + bytes(512), member("b", "2"))
    damaged(tmp_path, blob, "offset 1024")


def test_negative_base256_mtime_is_fine(tmp_path: Path) -> None:
    mt = (-86400).to_bytes(12, "big", signed=True)
    blob = raw_tar(member("old", "1", mtime_field=mt))
    m = warned(tmp_path, blob)
    assert m.entry_at("/old", m.top).mtime == -86400  # type: ignore[union-attr]


def test_bad_checksums(tmp_path: Path) -> None:
    blob = raw_tar(member("a", "1"), member("b", "2", checksum=12345), member("c", "3"))
    m = damaged(tmp_path, blob, "bad tar header checksum at offset 1024")
    assert "/a" in paths(m)


def test_huge_pax_header_and_gnu_long_name(tmp_path: Path) -> None:
    damaged(tmp_path, raw_tar(tar_header("pax", size=1 << 40, flag=b"x")), "exceeds")
    big = pax_member({"comment": "x" * (9 << 20)})
    damaged(tmp_path, raw_tar(big, member("a", "1")), "exceeds")
    damaged(tmp_path, raw_tar(gnu_long("n" * (9 << 20)), member("a", "1")), "exceeds")
    many = [pax_member({f"k{i}": "v" * (4 << 20)}) for i in range(6)]
    damaged(tmp_path, raw_tar(*many, member("a", "1")), "pax headers before one member")


def test_many_global_pax_headers_are_bounded(tmp_path: Path) -> None:
    many = [pax_member({f"g{i}": "v" * (4 << 20)}, flag=b"g") for i in range(6)]
    damaged(tmp_path, raw_tar(*many, member("a", "1")), "pax headers")


def test_pax_rename_to_dotdot(tmp_path: Path) -> None:
    blob = raw_tar(pax_member({"path": "../../etc/evil"}), member("innocent", "x"), member("ok", "1"))
    m = warned(tmp_path, blob, "'..' in their names rejected")
    assert "/ok" in paths(m) and not any("evil" in p for p in paths(m))
    blob = raw_tar(pax_member({"path": "/abs/olute"}), member("innocent", "x"))
    m = warned(tmp_path, blob, "absolute names")
    assert "/abs/olute" in paths(m)


@pytest.mark.parametrize("records", [{"mtime": "inf"}, {"mtime": "nan"}, {"size": "-5"}, {"uid": "x"}, {"size": "1e9"}])
def test_bad_pax_numbers(tmp_path: Path, records: dict[str, str]) -> None:
    m = damaged(tmp_path, raw_tar(member("a", "1"), pax_member(records), member("b", "2")), "'b'")
    assert "/a" in paths(m)


def test_malformed_pax_records_are_warned(tmp_path: Path) -> None:
    bad = member("PaxHeader", b"zz path=x\n", flag=b"x")
    warned(tmp_path, raw_tar(bad, member("a", "1")), "malformed pax")


def test_huge_xattr_dropped(tmp_path: Path) -> None:
    xattrs = {"SCHILY.xattr.user.big": "x" * (100 << 10), "SCHILY.xattr.user.ok": "y"}
    blob = raw_tar(pax_member(xattrs), member("a", "1"))
    m = warned(tmp_path, blob, "dropped")
    assert m.entry_at("/a", m.top).xattrs == {"user.ok": b"y"}  # type: ignore[union-attr]


def test_unknown_type_flags(tmp_path: Path) -> None:
    blob = raw_tar(member("a", "1"), member("weird", b"data" * 200, flag=b"Z"), member("b", "2"))
    m = warned(tmp_path, blob, "unknown tar types")
    assert {"/a", "/b"} <= paths(m) and "/weird" not in paths(m)


def test_sparse_files_including_one_tib(tmp_path: Path) -> None:
    tib = 1 << 40
    pax = pax_member(
        {
            "GNU.sparse.major": "1",
            "GNU.sparse.minor": "0",
            "GNU.sparse.realsize": str(tib),
            "GNU.sparse.name": "big.img",
        }
    )
    data = b"1\n0\n512\n".ljust(512, b"\0") + b"x" * 512
    blob = raw_tar(pax, member("GNUSparseFile.0/big.img", data), member("after", "1"))
    m = warned(tmp_path, blob, "sparse file")
    e = m.entry_at("/big.img", m.top)
    assert e is not None and e.size == tib and e.digest is None
    assert "/after" in paths(m)
    # Old GNU 'S' header, real size in base-256.
    h = bytearray(tar_header("old.img", size=512, flag=b"S"))
    h[483:495] = b"\x80" + tib.to_bytes(11, "big")
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    m = warned(tmp_path, raw_tar(bytes(h) + b"y" * 512, member("z", "1")), "sparse")
    assert m.entry_at("/old.img", m.top).size == tib  # type: ignore[union-attr]


def test_hundred_thousand_entries(tmp_path: Path) -> None:
    hdrs = b"".join(tar_header(f"d/f{i}", 0) for i in range(100_000))
    t0 = time.monotonic()
    m = warned(tmp_path, gzip.compress(raw_tar(hdrs), 1))
    assert len(m.layer_entries(1)) == 100_000
    assert time.monotonic() - t0 < 30


def test_two_thousand_layers(tmp_path: Path) -> None:
    blobs = [raw_tar(member(f"l{i}", str(i))) for i in range(2000)]
    t0 = time.monotonic()
    p = docker_archive_blobs(tmp_path / "many.tar", blobs)
    m = expect_loaded(p)
    assert len(m.image.layers) == 2000 and len(paths(m)) == 2000
    assert time.monotonic() - t0 < 60


def test_deep_nesting_and_long_names(tmp_path: Path) -> None:
    deep = "/".join(["d"] * 200)
    deeper = "/".join(["d"] * 3000)
    long = "n" * 20000
    blob = raw_tar(
        pax_member({"path": deep + "/leaf"}),
        member("x", "1"),
        gnu_long(long),
        member("y", "2"),
        pax_member({"path": deeper + "/leaf"}),
        member("z", "3"),
    )
    m = warned(tmp_path, blob, "1 entries nested deeper than 256 directories left out")
    assert "/" + deep + "/leaf" in paths(m) and "/" + long in paths(m)
    code, out, err = run_cli("report", "--json", image_with(tmp_path, blob))
    assert code == 0 and "Traceback" not in err
    assert json.loads(out)["schema"]


def test_non_utf8_and_escape_sequence_names(tmp_path: Path) -> None:
    evil = b"\x1b]0;pwned\x07\x1b[2J\xff\xfe/name\x9b31m"
    blob = raw_tar(member(evil, "1"), member(evil, "2"), member(b"ok\r\nfake line", "3"))
    p = image_with(tmp_path, blob)
    m = warned(tmp_path, blob, "more than once")
    assert any("\x1b" in x for x in paths(m))  # kept faithfully in the model
    code, out, err = run_cli("report", p)
    assert code == 0 and "\x1b" not in out and "\x07" not in out and "\x9b" not in out and not err
    code, out, err = run_cli("report", "--json", p)
    assert code == 0 and "\x1b" not in out and "\x07" not in out and "\udcff" not in out
    doc = json.loads(out)
    assert any("\x1b" in f["path"] for f in doc["files"])  # escaped in JSON, decoded back faithfully


def test_duplicates_last_wins(tmp_path: Path) -> None:
    blob = raw_tar(member("a", "first"), member("a", "second!"))
    m = warned(tmp_path, blob, "more than once")
    assert m.entry_at("/a", m.top).size == 7  # type: ignore[union-attr]


def test_member_cap_marks_layer_damaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import layerscope.loader as loader

    monkeypatch.setattr(loader, "MAX_LAYER_MEMBERS", 8192)
    hdrs = b"".join(tar_header(f"f{i}", 0) for i in range(10000))
    damaged(tmp_path, raw_tar(hdrs), "over 8192 tar members")


def test_many_warnings_are_capped(tmp_path: Path) -> None:
    hdrs = b"".join(tar_header(f"../esc{i}", 0) + member("dup", "") for i in range(300))
    blob = raw_tar(hdrs, *(member(f"x{i}", "", flag=bytes([65 + i % 20])) for i in range(300)))
    m = warned(tmp_path, blob)
    assert len(m.image.layers[1].messages()) <= 60
