"""`layerscope ls`: trees, changes and deleted-but-shipping paths, against umoci.

The expected trees are sample_images/<archive>.L<k>.expected.txt, made by
`umoci unpack` of each image truncated after layer k (see
sample_images/README.md): what layer k added is what its tree has that
layer k-1's has not, what it deleted the reverse.
"""

from __future__ import annotations

import json
import stat

import pytest
from conftest import SAMPLE_IMAGES, SAMPLES
from imagegen import build, d, file, run_cli, wh

from layerscope.globs import compile_glob

DOCKER = str(SAMPLES / "sample-docker.tar")
TOP = 6


def expected(k: int, name: str = "sample-docker.tar") -> dict[str, list[str]]:
    """path -> [type, mode, uid, gid, size, digest, link] of umoci's tree after layer k, in listing order."""
    stem = name.removesuffix(".tar")
    text = (SAMPLES / f"{stem}.L{k}.expected.txt").read_text()
    return {f[0]: f[1:] for f in (line.split("\t") for line in text.splitlines() if line)}


def ls(*args: str, code: int = 0) -> list[str]:
    rc, out, err = run_cli("ls", *args)
    assert rc == code, err
    return out.splitlines()


def split(line: str) -> tuple[str, str, str]:
    """(layer, class, rest) of a short line `L3 added        /path...`."""
    layer, cls, rest = line.split(None, 2)
    return layer, cls, rest


@pytest.mark.parametrize("name", SAMPLE_IMAGES)
@pytest.mark.parametrize("k", range(TOP + 1))
def test_tree_as_of_each_layer_is_umocis(name: str, k: int) -> None:
    lines = ls(str(SAMPLES / name), "--layer", str(k))
    assert [split(ln)[2] for ln in lines] == list(expected(k, name))
    for ln in lines:
        layer, cls, _ = split(ln)
        assert layer.startswith("L") and 0 <= int(layer[1:]) <= k
        assert cls in ("added", "modified", "metadata", "rewritten", "type-changed")


_TYPE_BITS = {
    "file": stat.S_IFREG,
    "dir": stat.S_IFDIR,
    "symlink": stat.S_IFLNK,
    "fifo": stat.S_IFIFO,
    "char": stat.S_IFCHR,
    "block": stat.S_IFBLK,
}


def test_long_lines_carry_umocis_mode_owner_and_size() -> None:
    want = expected(TOP)
    lines = ls(DOCKER, "--long")
    assert len(lines) == len(want)
    hardlinks = 0
    for ln, (path, (typ, mode, uid, gid, size, _digest, link)) in zip(lines, want.items()):
        perms, owner, rest = ln.split(None, 2)
        if perms.startswith("h"):  # umoci lists a hardlink as a second regular file
            hardlinks += 1
            assert typ == "file" and f" {path} link to /" in ln
            perms = "-" + perms[1:]
        assert perms == stat.filemode(int(mode, 8) | _TYPE_BITS[typ]), ln
        assert owner == f"{uid}/{gid}"
        if typ == "file":
            assert rest.startswith(f"{size} "), ln  # bytes, as tar -tv and ls -l print them
        else:
            assert rest.startswith("- "), ln
        tail = f" {path} -> {link}" if typ == "symlink" else f" {path}"
        assert tail in ln
    assert hardlinks == 1  # /app/shared.txt
    assert any(ln.endswith("/bin/busybox") and " 1982256 L0 added " in ln for ln in lines)
    assert any(ln.endswith("/usr/local/bin/hello -> /app/hello.py") for ln in lines)


@pytest.mark.parametrize("k", range(1, TOP + 1))
def test_changes_are_the_difference_of_umocis_trees(k: int) -> None:
    before, after = expected(k - 1), expected(k)
    lines = ls(DOCKER, "--changes", "--layer", str(k))
    rows = [split(ln) for ln in lines]
    assert all(layer == f"L{k}" for layer, _, _ in rows)
    added = {rest for _, cls, rest in rows if cls == "added"}
    deleted = {rest.split("  (", 1)[0] for _, cls, rest in rows if cls == "deleted"}
    assert added == set(after) - set(before)
    assert deleted == set(before) - set(after)
    # every path whose type, mode, owner, content or link changed is one of layer k's changes
    changed = {p for p in set(before) & set(after) if before[p] != after[p]}
    listed = {rest.split(" -> ", 1)[0] for _, _, rest in rows}
    assert changed <= listed, changed - listed


def test_deleted_is_what_lower_trees_had_and_the_top_lacks() -> None:
    seen: set[str] = set()
    for k in range(TOP):
        seen |= set(expected(k))
    lines = ls(DOCKER, "--deleted")
    rows = [split(ln) for ln in lines]
    assert all(cls == "deleted" for _, cls, _ in rows)
    assert {rest.split("  (", 1)[0] for _, _, rest in rows} == seen - set(expected(TOP))
    by_path = {rest.split("  (", 1)[0]: (layer, rest) for layer, _, rest in rows}
    # README: L5 deletes the secret with a whiteout; it was written by L3
    assert by_path["/root/.aws/credentials"] == ("L5", "/root/.aws/credentials  (whiteout; still ships in L3)")
    assert by_path["/srv/old/a.txt"][1].endswith("(whiteout of /srv/old; still ships in L3)")
    assert by_path["/opt/cache/one.txt"][1].endswith("(opaque dir /opt/cache; still ships in L3)")
    assert by_path["/data/dirtofile/x.txt"][0] == "L6"
    # before the deleting layer nothing is deleted yet
    assert ls(DOCKER, "--deleted", "--layer", "4") == []
    # --long shows the version that still ships
    long = ls(DOCKER, "--deleted", "--long", "/root/**")
    assert long == [
        "-rw------- 0/0              90 L5 deleted      /root/.aws/credentials  (whiteout; still ships in L3)"
    ]


def test_changes_and_deleted_together_are_layer_ks_deletions() -> None:
    lines = ls(DOCKER, "--changes", "--deleted", "--layer", "6")
    paths = {split(ln)[2].split("  (", 1)[0] for ln in lines}
    assert paths == set(expected(5)) - set(expected(6))


def test_glob_selects_by_the_one_glob_meaning() -> None:
    top = list(expected(TOP))
    txt = [split(ln)[2] for ln in ls(DOCKER, "*.txt")]
    assert txt == [p for p in top if p.rsplit("/", 1)[1].endswith(".txt")]
    app = [split(ln)[2] for ln in ls(DOCKER, "/app/*")]
    assert app == [p for p in top if p.startswith("/app/") and "/" not in p[5:]]
    assert [split(ln)[2] for ln in ls(DOCKER, "app/*")] == app  # the leading / is optional
    deep = [split(ln)[2] for ln in ls(DOCKER, "/usr/**")]
    assert deep == [p for p in top if p.startswith("/usr/")]
    # options may come before the glob
    assert ls(DOCKER, "--deleted", "/srv/**") == ls(DOCKER, "/srv/**", "--deleted")


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        ("*.pem", "/etc/ssl/a.pem", True),  # no /: the basename
        ("*.pem", "/etc/ssl/a.pem.bak", False),
        ("/etc/*", "/etc/passwd", True),
        ("/etc/*", "/etc/ssl/a.pem", False),  # * stays in its segment
        ("/etc/**", "/etc/ssl/a.pem", True),  # ** crosses /
        ("/etc/**", "/etc", False),
        ("/etc/**/*.pem", "/etc/a.pem", True),  # **/ may match no segment
        ("/etc/**/*.pem", "/etc/x/y/a.pem", True),
        ("**/.git/**", "/src/app/.git/config", True),
        ("etc/passwd", "/etc/passwd", True),
        ("/etc/pass?d", "/etc/passwd", True),
        ("/etc/pass?d", "/etc/pass/d", False),
        ("/etc/[ps]*", "/etc/shadow", True),
        ("/etc/[!ps]*", "/etc/shadow", False),
        ("/a[b", "/a[b", True),  # an unclosed [ is literal
        ("id_rsa", "/root/.ssh/id_rsa", True),
        ("id_rsa", "/root/.ssh/id_rsa.pub", False),
    ],
)
def test_match_semantics(pattern: str, path: str, hit: bool) -> None:
    assert compile_glob(pattern)(path) is hit


def test_no_match_exits_1_and_says_so() -> None:
    rc, out, err = run_cli("ls", DOCKER, "*.pem")
    assert (rc, out) == (1, "")
    assert err.strip() == "layerscope: no path matches '*.pem' as of layer 6"


def test_bad_layer_is_one_line_naming_the_option_as_typed() -> None:
    rc, out, err = run_cli("ls", DOCKER, "--layer", "-8")
    assert rc == 2 and out == ""
    assert err.strip() == "layerscope: error: --layer -8: the image has layers 0..6 (or -7..-1 from the top)"


def test_json_objects_are_report_json_objects() -> None:
    rc, out, _ = run_cli("report", DOCKER, "--json", "--layer", "5")
    assert rc == 0
    report = json.loads(out)
    doc = json.loads("\n".join(ls(DOCKER, "--json", "--layer", "5", "/srv/**")))
    assert doc["schema"] == "layerscope.ls/1" and doc["as_of_layer"] == 5 and doc["pattern"] == "/srv/**"
    assert doc["files"] == [f for f in report["files"] if f["path"].startswith("/srv/")] != []
    assert doc["hidden"] == []  # the tree: live paths only
    gone = json.loads("\n".join(ls(DOCKER, "--json", "--layer", "5", "--deleted", "/srv/**")))
    assert gone["files"] == [] and gone["deleted"] is True
    assert gone["hidden"] == [h for h in report["hidden"] if h["path"].startswith("/srv/")]
    want = ["/srv/old", "/srv/old/a.txt", "/srv/old/sub", "/srv/old/sub/b.txt", "/srv/remove-me.txt"]
    assert [h["path"] for h in gone["hidden"]] == want
    changes = json.loads("\n".join(ls(DOCKER, "--json", "--changes", "--layer", "5")))
    assert {f["layer"] for f in changes["files"]} == {5}
    assert {h["deleted_in"] for h in changes["hidden"]} == {5}


def test_hostile_names_are_escaped(tmp_path: object) -> None:
    img = build(
        str(tmp_path),
        [
            [d("/x"), file("/x/evil\x1b]0;pwned\x07.txt", "a"), file("/x/plain", "b")],
            [wh("/x/evil\x1b]0;pwned\x07.txt")],
        ],
    )
    for args in (("--layer", "0"), ("--deleted",), ("--long", "--layer", "0"), ("--changes",)):
        text = "\n".join(ls(img, *args))
        assert "\x1b" not in text and "\x07" not in text
        assert "/x/evil\\x1b]0;pwned\\x07.txt" in text
    assert ls(img, "--deleted")[0].startswith("L1 deleted      /x/evil\\x1b]0;pwned\\x07.txt  (whiteout; ")


def test_readme_ls_examples_are_real_output() -> None:
    from conftest import ROOT

    readme = (ROOT / "docs" / "commands.md").read_text()
    section = readme.split("## `layerscope ls ", 1)[1].split("\n## ", 1)[0]
    examples = {
        "L4 modified     /app/config.txt": ls(DOCKER, "/app/config.txt"),
        "-rw-r--r-- 0/0              53 L4 modified     /app/config.txt": ls(DOCKER, "--long", "/app/config.txt"),
        "-rw-r--r-- 0/0           53 B L4 modified     /app/config.txt": ls(DOCKER, "-lh", "/app/config.txt"),
        "L5 deleted      /root/.aws/credentials  (whiteout; still ships in L3)": ls(DOCKER, "--deleted", "credentials"),
    }
    for line, out in examples.items():
        assert line in section
        assert out == [line]


def test_long_sizes_are_bytes_and_h_makes_them_human() -> None:
    """ls -l and tar -tv print bytes; -h / --human-readable (as ls -lh) prints 2.0 MB."""
    # dive 0.13.1 and umoci agree: /bin/busybox is 1982256 bytes
    assert ls(DOCKER, "--long", "/bin/busybox") == ["-rwxr-xr-x 0/0         1982256 L0 added        /bin/busybox"]
    for flags in (["-l", "-h"], ["-lh"], ["--long", "--human-readable"]):
        assert ls(DOCKER, *flags, "/bin/busybox") == ["-rwxr-xr-x 0/0         2.0 MB L0 added        /bin/busybox"]
    want = expected(TOP)
    for ln in ls(DOCKER, "--long"):
        path = ln.split()[-1] if " -> " not in ln and " link to " not in ln else ln.split()[5]
        typ, size = want[path][0], want[path][4]
        assert ln.split()[2] == (size if typ == "file" else "-"), ln
    # -h alone changes nothing (there are no sizes), as in ls(1); --json is not touched by it
    assert ls(DOCKER, "-h", "/bin/*") == ls(DOCKER, "/bin/*")
    assert ls(DOCKER, "--json", "-l", "-h", "/bin/busybox") == ls(DOCKER, "--json", "/bin/busybox")


def test_ls_help_is_long_only() -> None:
    """-h is taken by --human-readable (GNU ls), so help is --help alone."""
    import subprocess
    import sys

    from conftest import ROOT

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "layerscope", "ls", *argv]
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60)

    r = run("--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: layerscope ls [--help]")
    assert "--human-readable, -h" in r.stdout and "--long, -l" in r.stdout
    r = run("-h")  # not help: the image is missing
    assert r.returncode == 2 and "the following arguments are required: image" in r.stderr


def test_fast_lines_are_the_folded_lines_joined() -> None:
    """write_text builds a live row in one f-string; it must be what parts() joins (and folds)."""
    import io

    from layerscope import listing
    from layerscope.api import load
    from layerscope.text import ls

    m = load(DOCKER)
    labels = [la.label for la in m.image.layers]
    selections = [list(listing.rows(m, k)) for k in range(TOP + 1)]
    selections += [list(listing.rows(m, TOP, deleted=True)), list(listing.rows(m, 5, changes=True))]
    for rows in selections:
        for long in (False, True):
            for human in (False, True):
                buf = io.StringIO()
                assert ls.write_text(m, buf, rows, long=long, human=human, width=10_000) == len(rows)
                want = [ls.line(r, long, 2, labels, human) for r in rows]
                assert buf.getvalue().splitlines() == want
