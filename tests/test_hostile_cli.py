"""The CLI on the worst cases, as a user runs it (subprocess), and a decompression bomb's memory."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from imagegen import (
    d,
    docker_archive_blobs,
    file,
    gnu_long,
    gzip_bomb,
    layer_tar,
    member,
    oci_blobs,
    oci_index,
    pax_member,
    raw_tar,
    tar_header,
    write_oci_layout,
)

ROOT = Path(__file__).resolve().parent.parent
GOOD = layer_tar([d("etc"), file("etc/base", "base")])


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("LAYERSCOPE_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "layerscope", *args],
        capture_output=True,
        text=True,
        errors="surrogateescape",
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


def cases(tmp: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    (tmp / "empty.tar").write_bytes(b"")
    out["empty"] = str(tmp / "empty.tar")
    (tmp / "random.tar").write_bytes(os.urandom(8192))
    out["random"] = str(tmp / "random.tar")
    os.mkfifo(tmp / "fifo.tar")
    out["fifo"] = str(tmp / "fifo.tar")
    out["missing"] = str(tmp / "nope.tar")
    evil = b"\x1b]0;owned\x07\x1b[31mred\xff"
    nasty = raw_tar(member(evil, "1"), member(b"../" + evil, "2"), member(b"x", "3", flag=b"Q"))
    out["escapes"] = docker_archive_blobs(tmp / "escapes.tar", [GOOD, nasty])
    out["damaged"] = docker_archive_blobs(
        tmp / "damaged.tar", [GOOD, raw_tar(member("a", "1"), member("b", "2", checksum=7)), b"not a tar at all" * 64]
    )
    long_name = raw_tar(gnu_long("n" * (9 << 20)), member("x", "1"))
    huge_pax = raw_tar(tar_header("p", size=0o77777777777, flag=b"x"))
    out["huge-meta"] = docker_archive_blobs(tmp / "meta.tar", [GOOD, long_name, huge_pax])
    inf = raw_tar(pax_member({"mtime": "inf"}), member("a", "1"))
    out["pax-mtime-inf"] = docker_archive_blobs(tmp / "inf.tar", [GOOD, inf])
    blobs, desc = oci_blobs([GOOD])
    fake = "sha256:" + "cd" * 32
    body = oci_index([{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": fake, "size": 1}])
    root = Path(write_oci_layout(tmp / "cycle", blobs, body))
    (root / "blobs" / "sha256" / ("cd" * 32)).write_text(json.dumps(body))
    out["index-cycle"] = str(root)
    out["bad-json"] = str(tmp / "badjson")
    write_oci_layout(tmp / "badjson", blobs, oci_index([desc]))
    (tmp / "badjson" / "index.json").write_text("[" * 100000)
    return out


def test_cli_worst_cases(tmp_path: Path) -> None:
    for label, path in cases(tmp_path).items():
        for extra in ([], ["--json"]):
            r = run("report", *extra, path)
            assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, (label, r.stderr)
            assert "internal error" not in r.stderr, (label, r.stderr)
            if r.returncode:
                lines = r.stderr.splitlines()
                assert len(lines) == 1 and lines[0].startswith("layerscope: error:"), (label, r.stderr)
                assert "\x1b" not in r.stderr
            else:
                assert not r.stderr, (label, r.stderr)
                if extra:
                    doc = json.loads(r.stdout)
                    assert doc["image"]["warnings"], label
                else:
                    assert "Warnings" in r.stdout, label
            assert "\x1b" not in r.stdout and "\x07" not in r.stdout, label


@pytest.mark.parametrize("label", ["escapes", "damaged", "huge-meta"])
def test_cli_loads_with_visible_warnings(tmp_path: Path, label: str) -> None:
    path = cases(tmp_path)[label]
    r = run("report", "--json", path)
    assert r.returncode == 0, r.stderr
    warnings = json.loads(r.stdout)["image"]["warnings"]
    assert warnings
    if label != "escapes":
        assert any("is damaged" in w for w in warnings)


def test_decompression_bomb_memory(tmp_path: Path) -> None:
    """1 GiB of zeros in ~1 MB of gzip: streamed, hashed, never held (< 512 MB peak RSS)."""
    bomb = gzip_bomb(tmp_path / "bomb.tar.gz", 1 << 30, name="zeros")
    assert os.path.getsize(bomb) < 4 << 20
    with open(bomb, "rb") as fh:
        blob = fh.read()
    image = docker_archive_blobs(tmp_path / "bomb.tar", [GOOD, blob])
    code = (
        "import sys\n"
        "from layerscope.cli import main\n"
        "rc = main(['report', '--json', sys.argv[1]])\n"
        "sys.stdout.flush()\n"
        # VmHWM is this process's own peak: ru_maxrss would also carry the peak
        # of the (pytest) process this one was forked from.
        "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0].split()[1]\n"
        "print('RSS', hwm, file=sys.stderr)\n"
        "raise SystemExit(rc)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", code, image], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    rss_kib = int(r.stderr.split("RSS", 1)[1].split()[0])
    assert rss_kib < 512 * 1024, f"peak RSS {rss_kib // 1024} MiB"
    doc = json.loads(r.stdout)
    zeros = next(f for f in doc["files"] if f["path"] == "/zeros")
    assert zeros["size"] == 1 << 30
    assert doc["layers"][1]["uncompressed_bytes"] > 1 << 30


def test_compressed_outer_archive_bomb_stays_on_disk_in_private_tmp(tmp_path: Path) -> None:
    """A .tar.gz outer archive is inflated once into a private temp dir, removed afterwards."""
    image = docker_archive_blobs(tmp_path / "img.tar", [GOOD])
    gz = tmp_path / "img.tar.gz"
    gz.write_bytes(gzip.compress(Path(image).read_bytes()))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env_tmp = {"TMPDIR": str(tmp)}
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env_tmp}
    r = subprocess.run([sys.executable, "-m", "layerscope", "report", str(gz)], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert list(tmp.iterdir()) == []
