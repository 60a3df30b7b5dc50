"""Hidden bytes by directory and by hiding layer, against sums worked out by hand.

The sample's hidden versions (sample_images/README.md, layers L4–L6):

    L4 hides  /app/config.txt 56 (overwritten), /app/data.bin 300 (chmod: metadata),
              /app/hello.py 236 and /etc/group 39 (identical rewrites), /etc/motd 40 (chmod)
    L5 hides  /root/.aws/credentials 90, /srv/remove-me.txt 10, /srv/old/a.txt 6,
              /srv/old/sub/b.txt 6 (whiteouts), /opt/cache/one.txt 9, two.txt 9 (opaque dir)
    L6 hides  /var/lib/thing 20, /data/dirtofile/x.txt 2, /data/dirtofile/nested/y.txt 2 (type changes)
"""

from __future__ import annotations

from pathlib import Path

from conftest import SAMPLES
from imagegen import build, file

from layerscope.analysis import analyze
from layerscope.api import load
from layerscope.rollup import waste_by_directory, waste_by_layer


def test_sample_by_directory() -> None:
    rows = waste_by_directory(analyze(load(str(SAMPLES / "sample-docker.tar"))).items)
    got = [(r.path, r.size, r.versions, r.layers) for r in rows]
    assert got == [
        ("/", 825, 14, [4, 5, 6]),  # 671 + 130 + 24
        ("/app", 592, 3, [4]),  # 56 + 300 + 236
        ("/root/.aws", 90, 1, [5]),  # /root left out: all of it is in /root/.aws
        ("/etc", 79, 2, [4]),  # 39 + 40
        ("/srv", 22, 3, [5]),  # 10 directly + 12 in /srv/old
        ("/var/lib", 20, 1, [6]),
        ("/opt/cache", 18, 2, [5]),
        ("/srv/old", 12, 2, [5]),
        ("/srv/old/sub", 6, 1, [5]),
        ("/data/dirtofile", 4, 2, [6]),
        ("/data/dirtofile/nested", 2, 1, [6]),
    ]
    biggest = {r.path: r.biggest.path for r in rows if r.biggest is not None}
    assert biggest["/app"] == "/app/data.bin" and biggest["/srv"] == "/srv/remove-me.txt"
    assert biggest["/opt/cache"] == "/opt/cache/one.txt"  # a tie (9 and 9): the first path


def test_sample_by_layer() -> None:
    rows = waste_by_layer(analyze(load(str(SAMPLES / "sample-docker.tar"))))
    got = [(r.layer, r.caused.total, r.caused.files, r.caused.by_cause, r.base) for r in rows]
    assert got == [
        (4, 671, 5, {"overwritten": 56, "metadata": 340, "identical": 275, "deleted": 0}, False),
        (5, 130, 6, {"overwritten": 0, "metadata": 0, "identical": 0, "deleted": 130}, False),
        (6, 24, 3, {"overwritten": 0, "metadata": 0, "identical": 0, "deleted": 24}, False),
    ]
    assert [r.biggest.path for r in rows if r.biggest is not None] == [
        "/app/data.bin",
        "/root/.aws/credentials",
        "/var/lib/thing",
    ]
    assert rows[0].command.endswith("echo 'added in L4' > /app/NEWS.txt")  # the layer's own command


def test_base_layer_rollup() -> None:
    """multistage: L4 of the base (`COPY netrc-blank /root/.netrc`) blanks L0's 62-byte credential."""
    rows = waste_by_layer(analyze(load(str(SAMPLES / "multistage-oci.tar"))))
    assert [(r.layer, r.caused.total, r.base) for r in rows] == [(4, 62, True)]


def test_nesting_and_files_at_the_root(tmp_path: Path) -> None:
    """/a (5 bytes directly) over /a/b/c (7): /a/b holds only /a/b/c's bytes and is left out."""
    path = build(
        tmp_path,
        [
            [file("/top", "1234"), file("/a/x", "12345"), file("/a/b/c/y", "1234567"), file("/z/w", "1")],
            [file("/top", "x"), file("/a/x", "y"), file("/a/b/c/y", "z"), file("/z/w", "2")],
        ],
    )
    rows = waste_by_directory(analyze(load(path)).items)
    assert [(r.path, r.size, r.versions) for r in rows] == [
        ("/", 17, 4),  # /top directly: the root stays
        ("/a", 12, 2),
        ("/a/b/c", 7, 1),
        ("/z", 1, 1),
    ]
