"""The core's scans for the package analysis (``src/packages.rs``) and the
batched reads, held to independent answers: hand-counted layers, Python's
own ``str.lower``/``os.path.realpath``, the model's one-path accessors,
``read_content`` one file at a time, and python-debian's own iteration."""

from __future__ import annotations

import os
from pathlib import Path

import imagegen as g
import pytest

from layerscope import _core
from layerscope.api import load
from layerscope.content import read_content, read_many
from layerscope.model import Deletion, Entry
from layerscope.packages import dpkg
from layerscope.packages.audit import STATE, unmanaged
from layerscope.packages.index import build

LIST = "/.\n/usr\n/usr/bin\n/usr/bin/tool\n/usr/share/doc/tool/README\n"
STATUS = b"Package: tool\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n"


def _image(tmp: Path) -> str:
    return g.build(
        tmp,
        [
            [
                g.file("/var/lib/dpkg/status", STATUS),
                g.file("/var/lib/dpkg/info/tool.list", LIST),
                g.file("/usr/bin/tool", b"1234"),
                g.file("/usr/share/doc/tool/README", b"r"),
                g.sym("/bin", "usr/bin"),
            ],
            [
                g.d("/opt/app"),
                g.file("/opt/app/run", b"123456"),  # unmanaged: 6 bytes in /opt/app
                g.file("/opt/app/lib/a.so", b"12"),  # unmanaged: /opt/app/lib
                g.file("/opt/app/lib/b.so", b"345"),
                g.sym("/opt/app/current", "run"),  # a symlink is a non-directory: counted, 0 bytes
                g.file("/usr/bin/tool", b"evil!"),  # owned: a later change, not unmanaged
                g.file("/var/log/apt/history.log", b"state"),  # manager state
                g.file("/srv/x/__pycache__/m.pyc", b"bytecode"),  # state (bytecode)
                g.file("/srv/node_modules/.package-lock.json", b"{}"),  # npm's state
                g.file("/top", b"t"),  # unmanaged, in /
                g.wh("/usr/share/doc/tool/README"),
            ],
        ],
    )


def test_unowned_dirs_by_hand(tmp_path: Path) -> None:
    merged = load(_image(tmp_path))
    ix = build(merged)
    assert [(d.directory, d.files, d.bytes) for d in unmanaged(merged, ix, 1)] == [
        ("/", 1, 1),
        ("/opt/app", 2, 6),
        ("/opt/app/lib", 2, 5),
    ]
    # with nothing owned and no state rule, every non-directory of the layer counts
    figs = merged.unowned_dirs(1, merged.path_set([]), _core.PathRule())
    got = {f.dir: (f.files, f.bytes) for f in figs}
    assert got["/usr/bin"] == (1, 5) and got["/var/log/apt"] == (1, 5) and got["/srv/node_modules"] == (1, 2)
    assert [f.dir for f in figs] == sorted(f.dir for f in figs)  # byte order (ASCII here)


def test_path_rule_is_prefix_exact_suffix_fragment() -> None:
    rule = _core.PathRule(exact=["/a"], prefixes=["/a/"], suffixes=[".lock"], fragments=["__x__/"])
    cases = {
        "/a": True,
        "/a/b": True,
        "/ab": False,
        "/b/c.lock": True,
        "/b/c.lockx": False,
        "/q/__x__/y": True,
        "/q/__x__": False,
    }
    assert {p: rule.matches(p) for p in cases} == cases
    assert STATE.matches("/var/lib/dpkg") and STATE.matches("/var/lib/dpkg/status")
    assert not STATE.matches("/var/lib/dpkgx") and not STATE.matches("/usr/bin/tool")


def test_events_on_and_sizes_agree_with_the_model(tmp_path: Path) -> None:
    merged = load(_image(tmp_path))
    paths = ["/usr/bin/tool", "/usr/share/doc/tool/README", "/opt/app/run", "/nowhere", "/bin", "/opt/app"]
    on = merged.path_set(paths)
    assert len(on) == 5  # /nowhere is no path of the image
    for k in (0, 1):
        want = [e for e in merged.layer_entries(k) if e.path in paths] + [
            d for d in merged.deletions(k) if d.path in paths
        ]
        got = merged.events_on(k, on)
        assert [(type(e).__name__, e.path) for e in got] == [(type(e).__name__, e.path) for e in want]
        sizes = []
        kinds = []
        for p in paths:
            e = merged.entry_at(p, k)
            sizes.append(e.size if e is not None and e.type == "file" else 0)
            kinds.append(e is not None and e.type != "dir")
        assert merged.file_sizes(paths, k) == sizes
        assert merged.non_dirs(paths, k) == kinds
        own = [s if (e := merged.entry_at(p, k)) is not None and e.layer == k else 0 for p, s in zip(paths, sizes)]
        assert merged.file_sizes(paths, k, layer_only=True) == own


def test_links_changed(tmp_path: Path) -> None:
    merged = load(
        g.build(
            tmp_path,
            [
                [g.sym("/bin", "usr/bin"), g.d("/usr/bin")],
                [g.file("/etc/x", b"1")],  # no link touched
                [g.sym("/lib", "usr/lib")],  # a new link
                [g.d("/bin")],  # a link replaced by a directory
                [g.wh("/lib")],  # a link deleted
            ],
        )
    )
    assert [merged.links_changed(k) for k in range(5)] == [True, False, True, True, True]


def test_paths_containing_is_pythons_lower(tmp_path: Path) -> None:
    names = ["/A/Var/Lib/DPKG/x", "/b/site/Foo.Dist-Info/RECORD", "/c/\u212a/y", "/d/none", "/e/package.JSON"]
    merged = load(g.build(tmp_path, [[g.file(n, b"") for n in names]]))
    needles = ["/var/lib/dpkg/", ".dist-info/", "\u212a", "/package.json", "k/"]
    got = {pl.path: pl.needle for pl in merged.paths_containing(needles)}
    want = {}
    for p in merged.paths():
        hit = [i for i, n in enumerate(needles) if n.lower() in p.lower()]
        if hit:
            want[p] = hit[0]
    assert got == want and got
    assert all(pl.layers == [0] for pl in merged.paths_containing(needles))


def test_resolve_dirs_is_realpath_of_the_directory(tmp_path: Path) -> None:
    """Relative links inside a tree built on disk: the directory part resolves as realpath does."""
    specs = [
        g.d("/usr/bin"),
        g.d("/usr/lib/x"),
        g.sym("/bin", "usr/bin"),
        g.sym("/lib", "usr/lib"),
        g.sym("/usr/lib/y", "../lib/x"),
        g.sym("/usr/lib/z", "./y"),
        g.sym("/up", "usr/lib/x/../.."),
    ]
    merged = load(g.build(tmp_path, [specs]))
    root = tmp_path / "root"
    for s in specs:
        host = root / s.path.lstrip("/")
        host.parent.mkdir(parents=True, exist_ok=True)
        if s.kind == "dir":
            host.mkdir(exist_ok=True)
        else:
            os.symlink(s.link, host)
    queries = ["/bin/sh", "/lib/x/a", "/usr/lib/y/b", "/usr/lib/z/c", "/up/lib/d", "/usr/bin/e", "/nowhere/f", "/g"]
    want = []
    for q in queries:
        parent, name = q.rsplit("/", 1)
        rel = os.path.relpath(os.path.realpath(root / parent.lstrip("/")), root)
        want.append(f"/{name}" if rel == "." else f"/{rel}/{name}")
    assert merged.resolve_dirs(queries, 0) == want


def test_resolve_dirs_absolute_and_cyclic_links_stay_inside(tmp_path: Path) -> None:
    merged = load(
        g.build(
            tmp_path,
            [[g.sym("/a", "/etc/../usr"), g.sym("/loop", "/loop/x"), g.sym("/p", "q"), g.sym("/q", "p")]],
        )
    )
    assert merged.resolve_dirs(["/a/bin/sh"], 0) == ["/usr/bin/sh"]
    got = merged.resolve_dirs(["/loop/f", "/p/f", "/p/q/p/f"], 0)  # cycles end, bounded
    assert len(got) == 3 and all(p.startswith("/") and p.endswith("/f") for p in got)


@pytest.mark.parametrize("fmt", ["docker", "oci-gzip"])
def test_read_many_is_read_content(tmp_path: Path, fmt: str) -> None:
    specs = [g.file(f"/db/f{i:03d}", bytes([i]) * (i * 37 % 3000)) for i in range(60)]
    specs += [g.hard("/db/link", "/db/f007"), g.file("/db/empty", b""), g.d("/db/dir"), g.sym("/db/s", "f001")]
    merged = load(g.build(tmp_path, [specs, [g.file("/db/f003", b"new")]], fmt=fmt))
    entries = [e for e in merged.files_at(1) if e.path.startswith("/db/")]
    got = read_many(merged.image, entries, 1000)
    want = {e.key: read_content(merged.image, e, 1000) for e in entries if e.type in ("file", "hardlink")}
    assert got == want


def test_read_many_leaves_out_what_it_cannot_read(tmp_path: Path) -> None:
    merged = load(g.build(tmp_path, [[g.file("/a", b"abc"), g.d("/d")]]))
    a, d = merged.entry_at("/a", 0), merged.entry_at("/d", 0)
    assert a is not None and d is not None
    assert read_many(merged.image, [a, d], 2) == {a.key: b"ab"}


STANZAS = [
    b"Package: a\nVersion: 1\n\nPackage: b\nVersion: 2\n",
    b"\n\n  \nPackage: a\n# comment\nVersion: 1\n \t \nPackage: b\n",
    b"Package: a\nDescription: x\n more\n .\n end\n\n\n\nPackage: c\n",
    b"Package: a\n\njunk line\n\nPackage: b\n",  # a stanza with no field ends the iteration
    b"Package: a\r\nVersion: 1\r\n\r\nPackage: b\r\n",
    b"Package: a\x0cVersion: 1\n\x0b\nPackage: b\n",
    b"Package: a\n\xff\xfe: x\nVersion: \xc3\n\nPackage: b\n",
    "Package: a\u2028\n\nPackage: z\n\x85\nPackage: y\n\u00a0\nPackage: x\n".encode(),
    b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nPackage: a\n\n-----BEGIN PGP SIGNATURE-----\nx\n",
    b"#only comments\n#\n",
    b"",
    b"   \n\t\n",
    b"Package : spaced\nVersion:1\n\nPackage:\n",
    b"Package: a\n\x00\nPackage: b\n",
]


def test_stanza_memo_parses_as_the_library_does() -> None:
    """``paragraphs`` with a memo gives what python-debian's own iteration gives (``memo=None``)."""
    memo: dict[str, dict[str, str]] = {}
    for data in STANZAS:
        assert dpkg.paragraphs(data, memo) == dpkg.paragraphs(data) == dpkg.paragraphs(data, memo), data


def test_stanza_memo_on_the_real_status_files(debian_image: Path) -> None:
    merged = load(str(debian_image))
    memo: dict[str, dict[str, str]] = {}
    seen = 0
    for k in range(merged.top + 1):
        e = merged.entry_at(dpkg.STATUS, k)
        if type(e) is Entry:
            data = read_content(merged.image, e)
            assert dpkg.paragraphs(data, memo) == dpkg.paragraphs(data)
            seen += 1
    assert seen and memo


def test_events_on_lists_deletions(tmp_path: Path) -> None:
    merged = load(g.build(tmp_path, [[g.file("/x/a", b"1"), g.file("/x/b", b"2")], [g.wh("/x/a")]]))
    got = merged.events_on(1, merged.path_set(["/x/a", "/x/b"]))
    assert [(type(e) is Deletion, e.path) for e in got] == [(True, "/x/a")]
