"""Package databases per layer: truth from the real tools (dpkg-query on the
real Debian image's database, importlib.metadata for a real installed
distribution), hostile databases, and the ``packages`` command."""

from __future__ import annotations

import base64
import importlib.metadata
import json
import subprocess
from pathlib import Path

import imagegen as g
import pytest
from conftest import need_tools
from layertrees import dpkg_dbs, dpkg_listfiles, dpkg_query

from layerscope.api import load
from layerscope.packages import apk, dpkg
from layerscope.packages.audit import later_changes, unmanaged
from layerscope.packages.index import How, build


def test_dpkg_packages_per_layer_matchdpkg_query(debian_image: Path, tmp_path: Path) -> None:
    need_tools("dpkg-query")
    roots = dpkg_dbs(debian_image, tmp_path)
    merged = load(str(debian_image))
    ix = build(merged)
    for k, root in enumerate(roots):
        truth = dpkg_query(root)
        ours = {f"{p.name}:{p.arch}": p.version for p in ix.at(k).values() if p.ecosystem == "deb"}
        assert ours == truth, f"layer {k}"
    # layer 1 (apt-get install ca-certificates curl) added exactly what dpkg-query says it did
    before, after = dpkg_query(roots[0]), dpkg_query(roots[1])
    added = {f"{c.package.name}:{c.package.arch}" for c in ix.layers[1].changes if c.how is How.ADDED}
    assert added == set(after) - set(before)
    assert {"curl:amd64", "ca-certificates:all", "openssl:amd64"} <= added
    assert not ix.layers[2].changes and not ix.problems


def test_dpkg_owners_match_dpkg_query_listfiles(debian_image: Path, tmp_path: Path) -> None:
    need_tools("dpkg-query")
    root = dpkg_dbs(debian_image, tmp_path)[-1]
    listed = dpkg_listfiles(root, "curl")
    merged = load(str(debian_image))
    ix = build(merged)
    top = merged.top
    assert "/usr/bin/curl" in listed
    owner = ix.owner_at("/usr/bin/curl", top)
    assert owner is not None and owner.owner.startswith("deb:curl@")
    # merged /usr: coreutils lists /bin/cat; the image holds it at /usr/bin/cat (/bin -> usr/bin)
    cat = ix.owner_at("/usr/bin/cat", top)
    assert cat is not None and cat.name == "coreutils"
    # the file COPY'd in layer 2 is no package's, and is the layer's one unmanaged file
    dirs = unmanaged(merged, ix, 2)
    assert [(d.directory, d.files) for d in dirs] == [("/usr/local/bin", 1)]
    # bytes of curl's files in layer 1 = the sizes of the regular files dpkg lists for it, as the image has them
    change = next(c for c in ix.layers[1].changes if c.package.name == "curl")
    sizes = {e.path: e.size for e in merged.layer_entries(1) if e.type == "file"}
    assert change.layer_bytes == sum(
        sizes.get(p.replace("/bin/", "/usr/bin/", 1) if p.startswith("/bin/") else p, 0) for p in listed
    )
    assert change.layer_bytes > 100_000


def _dist_layer(dist: importlib.metadata.Distribution, site: str) -> list[g.F]:
    """A real installed distribution's metadata and files, copied into an image layer at ``site``."""
    base = Path(str(dist.locate_file("")))
    specs = []
    for f in dist.files or []:
        src = base / f
        if src.is_file() and "__pycache__" not in str(f):
            specs.append(g.file(f"{site}/{f}", src.read_bytes()))
    return specs


def test_python_dist_info_matches_importlib_metadata(tmp_path: Path) -> None:
    dist = importlib.metadata.distribution("rich")
    site = "/usr/lib/python3/site-packages"
    path = g.build(tmp_path, [[g.file("/etc/os-release", "ID=test\n")], _dist_layer(dist, site)])
    merged = load(path)
    ix = build(merged)
    (change,) = ix.layers[1].changes
    assert change.how is How.ADDED and change.package.owner == f"python:rich@{dist.version}"
    expected = {f"{site}/{f}" for f in dist.files or [] if "__pycache__" not in str(f)}
    assert set(change.package.files) >= expected
    init = f"{site}/rich/__init__.py"
    assert ix.owner_at(init, 1) is change.package
    shipped = [f for f in dist.files or [] if f"{site}/{f}" in expected]
    assert change.layer_bytes == sum(Path(str(dist.locate_file(f))).stat().st_size for f in shipped)
    assert not ix.layers[0].packages


STATUS = b"""Package: good
Status: install ok installed
Version: 1.0-1
Architecture: amd64

Package: gone
Status: deinstall ok config-files
Version: 2.0

"""


def test_upgrade_removal_reinstall_and_later_overwrite(tmp_path: Path) -> None:
    v1 = STATUS
    v2 = v1.replace(b"1.0-1", b"1.0-2")
    layers = [
        [
            g.file("/var/lib/dpkg/status", v1),
            g.file("/var/lib/dpkg/info/good.list", "/.\n/usr\n/usr/bin\n/usr/bin/good\n"),
            g.file("/usr/bin/good", b"v1"),
        ],
        [
            g.file("/var/lib/dpkg/status", v2),
            g.file("/var/lib/dpkg/info/good.list", "/.\n/usr\n/usr/bin\n/usr/bin/good\n"),
            g.file("/usr/bin/good", b"v2!"),
        ],
        [g.file("/usr/bin/good", b"evil"), g.file("/opt/tool/bin/x", b"12345")],
        [
            g.file("/var/lib/dpkg/status", v2),
            g.file("/var/lib/dpkg/info/good.list", "/usr/bin/good\n"),
            g.file("/usr/bin/good", b"v2!"),
        ],
        [g.file("/var/lib/dpkg/status", b""), g.wh("/var/lib/dpkg/info/good.list"), g.wh("/usr/bin/good")],
    ]
    merged = load(g.build(tmp_path, layers))
    ix = build(merged)
    hows = [[(str(c.how), c.package.version, c.old_version, c.layer_bytes) for c in la.changes] for la in ix.layers]
    assert hows == [
        [("added", "1.0-1", None, 2)],
        [("upgraded", "1.0-2", "1.0-1", 3)],
        [],
        [("reinstalled", "1.0-2", "1.0-2", 3)],
        [("removed", "1.0-2", None, 0)],
    ]
    assert [(c.path, c.layer, c.how, c.installed) for c in later_changes(merged, ix)] == [
        ("/usr/bin/good", 2, "overwritten", 1)
    ]
    assert [(d.directory, d.files, d.bytes) for d in unmanaged(merged, ix, 2)] == [("/opt/tool/bin", 1, 5)]


@pytest.mark.parametrize(
    "status",
    [
        b"Package: a\nStatus: install ok installed\nVersion: 1\n\nPackage: b\nVersi",  # truncated
        b"\xff\xfe\x00garbage\n\n\n" * 100,  # not text
        b"Package: " + b"x" * 100_000 + b"\nVersion: 1\n",  # an absurd name
        b"Package: a\n Version: 1\n:::\n",  # a continuation line with no field
    ],
)
def test_hostile_status_loads_and_never_raises(tmp_path: Path, status: bytes) -> None:
    merged = load(g.build(tmp_path, [[g.file("/var/lib/dpkg/status", status)]]))
    ix = build(merged)
    for p in ix.at(0).values():
        assert len(p.name) <= 4097 and len(p.version) <= 4097


def test_oversized_database_is_a_problem_naming_file_and_layer(tmp_path: Path) -> None:
    big = b"Package: a\nVersion: 1\n\n" * ((65 << 20) // 23)
    merged = load(g.build(tmp_path, [[g.file("/etc/hostname", "x\n")], [g.file("/lib/apk/db/installed", big)]]))
    ix = build(merged)
    (problem,) = ix.problems
    assert problem.text().startswith("layer 1: /lib/apk/db/installed: ")
    assert "over the 64 MiB" in problem.text()
    assert not ix.any


def test_apk_installed_format() -> None:
    data = (
        b"C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nF:lib\nR:ld-musl-x86_64.so.1\nZ:Q1i3Vgm0nxxOKR7GQJqfxDbxp3Aak=\n"
        b"R:libc.musl-x86_64.so.1\n\nP:busybox\nV:1.36.1-r5\nA:x86_64\nF:bin\nR:busybox\nF:etc\nR:securetty\n"
    )
    pkgs = apk.parse(data)
    assert [(p.name, p.version, p.arch) for p in pkgs] == [
        ("musl", "1.2.4-r2", "x86_64"),
        ("busybox", "1.36.1-r5", "x86_64"),
    ]
    assert pkgs[0].files == ("/lib", "/lib/ld-musl-x86_64.so.1", "/lib/libc.musl-x86_64.so.1")
    sha1 = base64.b64decode("i3Vgm0nxxOKR7GQJqfxDbxp3Aak=").hex()
    assert pkgs[0].digests == (("/lib/ld-musl-x86_64.so.1", "sha1:" + sha1),)
    assert pkgs[1].files == ("/bin", "/bin/busybox", "/etc", "/etc/securetty")


def test_dpkg_lists_are_normalised() -> None:
    assert dpkg.file_list(b"/.\n/usr/bin/../bin/x\n\nrelative\n") == ("/usr/bin/x",)
    assert dpkg.md5sums(b"0123456789abcdef0123456789ABCDEF  usr/bin/x\nshort  y\n") == (
        ("/usr/bin/x", "md5:0123456789abcdef0123456789abcdef"),
    )


def test_packages_command_text_and_json(tmp_path: Path) -> None:
    layers = [
        [
            g.file("/var/lib/dpkg/status", STATUS),
            g.file("/var/lib/dpkg/info/good.list", "/usr/bin/good\n"),
            g.file("/usr/bin/good", b"v1"),
        ]
    ]
    path = g.build(tmp_path, layers)
    rc, out, err = g.run_cli("packages", path, "--json")
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["schema"] == "layerscope.packages/1"
    assert [(p["owner"], p["bytes"], p["layer"]) for p in doc["packages"]] == [("deb:good@1.0-1", 2, 0)]
    assert doc["layers"][0]["changes"][0]["how"] == "added"
    rc, out, _ = g.run_cli("packages", path, "--changes")
    assert rc == 0 and "+ deb:good@1.0-1" in out
    rc, out, err = g.run_cli("packages", path, "--layer", "5")
    assert rc == 2 and "--layer 5" in err


def test_node_packages_own_their_directory_less_nested_packages(tmp_path: Path) -> None:
    nm = "/app/node_modules"
    layers = [
        [
            g.file(f"{nm}/left-pad/package.json", json.dumps({"name": "left-pad", "version": "1.3.0"})),
            g.file(f"{nm}/left-pad/index.js", b"module.exports = 1;\n"),
            g.file(f"{nm}/left-pad/node_modules/inner/package.json", '{"name": "inner", "version": "0.1.0"}'),
            g.file(f"{nm}/left-pad/node_modules/inner/i.js", b"x"),
            g.file(f"{nm}/@scope/tool/package.json", '{"name": "@scope/tool", "version": "2.0.0"}'),
            g.file(f"{nm}/broken/package.json", b"{not json"),
            g.file("/app/server.js", b"require('left-pad')\n"),
        ]
    ]
    merged = load(g.build(tmp_path, layers))
    ix = build(merged)
    assert sorted(p.owner for p in ix.at(0).values()) == [
        "npm:@scope/tool@2.0.0",
        "npm:inner@0.1.0",
        "npm:left-pad@1.3.0",
    ]
    assert ix.owner_at(f"{nm}/left-pad/index.js", 0).name == "left-pad"  # type: ignore[union-attr]
    assert ix.owner_at(f"{nm}/left-pad/node_modules/inner/i.js", 0).name == "inner"  # type: ignore[union-attr]
    assert [p.path for p in ix.problems] == [f"{nm}/broken/package.json"]
    assert [(d.directory, d.files) for d in unmanaged(merged, ix, 0)] == [("/app", 1), (f"{nm}/broken", 1)]


def test_deeply_nested_package_json_is_a_problem(tmp_path: Path) -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    merged = load(g.build(tmp_path, [[g.file("/node_modules/x/package.json", deep)]]))
    ix = build(merged)
    assert [p.path for p in ix.problems] == ["/node_modules/x/package.json"] and not ix.any


def test_a_package_installed_and_removed_in_one_layer_still_shows(tmp_path: Path) -> None:
    log0 = b"2023-11-14 10:00:00 install good:amd64 <none> 1.0-1\n"
    log1 = log0 + (
        b"2023-11-14 10:01:00 startup archives unpack\n"
        b"2023-11-14 10:01:01 install build-essential:amd64 <none> 12.9\n"
        b"2023-11-14 10:01:02 status installed build-essential:amd64 12.9\n"
        b"2023-11-14 10:01:09 remove build-essential:amd64 12.9 <none>\n"
        b"2023-11-14 10:01:10 purge build-essential:amd64 12.9 <none>\n"
    )
    layers = [
        [g.file("/var/lib/dpkg/status", STATUS), g.file("/var/log/dpkg.log", log0)],
        [g.file("/var/lib/dpkg/status", STATUS + b"\n"), g.file("/var/log/dpkg.log", log1)],
    ]
    ix = build(load(g.build(tmp_path, layers)))
    assert [(str(c.how), c.package.owner) for c in ix.layers[1].changes] == [
        ("installed-and-removed", "deb:build-essential@12.9")
    ]
    assert [str(c.how) for c in ix.layers[0].changes] == ["added"]


def test_a_replaced_packaged_binary_is_a_digest_mismatch(tmp_path: Path) -> None:
    import hashlib

    good = b"#!/bin/sh\necho good\n"
    md5 = hashlib.md5(good).hexdigest()
    layers = [
        [
            g.file("/var/lib/dpkg/status", STATUS),
            g.file("/var/lib/dpkg/info/good.list", "/usr/bin/good\n/usr/bin/other\n"),
            g.file("/var/lib/dpkg/info/good.md5sums", f"{md5}  usr/bin/good\n{md5}  usr/bin/other\n"),
            g.file("/usr/bin/good", good),
            g.file("/usr/bin/other", b"tampered in the same RUN"),  # no later layer: only --verify sees it
        ]
    ]
    path = g.build(tmp_path, layers)
    rc, out, _ = g.run_cli("packages", path, "--json")
    assert rc == 0 and json.loads(out)["digest_mismatches"] == []
    rc, out, _ = g.run_cli("packages", path, "--json", "--verify")
    doc = json.loads(out)
    assert doc["verified"] == "all"
    assert [(m["path"], m["owner"], m["expected"]) for m in doc["digest_mismatches"]] == [
        ("/usr/bin/other", "deb:good@1.0-1", f"md5:{md5}")
    ]
    rc, out, _ = g.run_cli("packages", path, "--verify")
    assert "✗ /usr/bin/other (layer 0) is not the file deb:good@1.0-1 recorded" in out


def test_which_names_the_package_dpkg_query_says_owns_each_version(debian_image: Path, tmp_path: Path) -> None:
    """``which`` gives each version's package as of its layer; truth is ``dpkg-query -S``
    on that layer's own database; a COPY'd file is owned by none; no database, no field."""
    need_tools("dpkg-query")
    roots = dpkg_dbs(debian_image, tmp_path)
    for path in ("/usr/bin/curl", "/usr/bin/openssl", "/usr/local/bin/healthcheck.sh"):
        doc = json.loads(_cli("which", "--json", str(debian_image), path))
        for v in doc["versions"]:
            res = subprocess.run(
                ["dpkg-query", f"--admindir={roots[v['layer']]}/var/lib/dpkg", "-S", path],
                capture_output=True,
                text=True,
            )
            want = None
            if res.returncode == 0:
                (name,) = [line.split(":")[0] for line in res.stdout.splitlines()]
                want = f"deb:{name}@{dpkg_query(roots[v['layer']])[name + ':amd64']}"
            assert v["owner"] == want, (path, v["layer"])
    assert json.loads(_cli("which", "--json", str(debian_image), "/usr/bin/curl"))["versions"][0]["owner"]
    text = _cli("which", str(debian_image), "/usr/local/bin/healthcheck.sh")
    assert "pkg none" in text
    sample = Path(__file__).resolve().parent.parent / "sample_images" / "sample-docker.tar"
    doc = json.loads(_cli("which", "--json", str(sample), "/app/NEWS.txt"))
    assert all("owner" not in v for v in doc["versions"])


def _cli(*args: str) -> str:
    rc, out, err = g.run_cli(*args)
    assert rc == 0, err
    return str(out)


def test_report_json_embeds_the_packages_of_its_layer(debian_image: Path, tmp_path: Path) -> None:
    """``report --json`` carries the packages document as of its layer (dpkg-query's set),
    and a report of an image with no database has no ``packages`` key."""
    need_tools("dpkg-query")
    roots = dpkg_dbs(debian_image, tmp_path)
    for k in (0, len(roots) - 1):
        doc = json.loads(_cli("report", "--json", str(debian_image), "--layer", str(k)))
        got = {f"{p['name']}:{p['arch']}": p["version"] for p in doc["packages"]["packages"]}
        assert got == dpkg_query(roots[k])
        assert doc["packages"]["layer"] == k and doc["packages"]["schema"] == "layerscope.packages/1"
    sample = Path(__file__).resolve().parent.parent / "sample_images" / "sample-docker.tar"
    assert "packages" not in json.loads(_cli("report", "--json", str(sample)))


def _stanza(name: str, version: str) -> bytes:
    return f"Package: {name}\nStatus: install ok installed\nVersion: {version}\nArchitecture: amd64\n\n".encode()


def test_diff_lists_package_changes_before_paths(tmp_path: Path) -> None:
    """``diff A B`` names the packages that moved, ahead of the paths; truth for the
    sets is dpkg-query on each status file, for the direction ``dpkg --compare-versions``."""
    need_tools("dpkg-query", "dpkg")
    a_status = _stanza("good", "1.0-1") + _stanza("old", "3.0") + _stanza("same", "1") + _stanza("back", "2:1.0")
    b_status = _stanza("good", "1.0-1~rc1+x") + _stanza("new", "0.1") + _stanza("same", "1") + _stanza("back", "1:9")
    truth: list[dict[str, str]] = []
    images = []
    for name, status in (("a", a_status), ("b", b_status)):
        admin = tmp_path / name / "var/lib/dpkg"
        (admin / "info").mkdir(parents=True)
        (admin / "status").write_bytes(status)
        truth.append({k.split(":")[0]: v for k, v in dpkg_query(tmp_path / name).items()})
        (tmp_path / f"img-{name}").mkdir()
        images.append(g.build(tmp_path / f"img-{name}", [[g.file("/var/lib/dpkg/status", status)]]))
    want = {}
    for pkg in truth[0].keys() | truth[1].keys():
        va, vb = truth[0].get(pkg), truth[1].get(pkg)
        if va is None or vb is None:
            want[pkg] = ("added" if va is None else "removed", va, vb)
        elif va != vb:
            up = subprocess.run(["dpkg", "--compare-versions", va, "lt", vb]).returncode == 0
            want[pkg] = ("upgraded" if up else "downgraded", va, vb)
    rc, out, err = g.run_cli("diff", "--json", images[0], images[1])
    assert rc == 1, err
    got = {d["name"]: (d["how"], d["a"], d["b"]) for d in json.loads(out)["packages"]}
    assert got == want and len(want) == 4
    rc, out, _ = g.run_cli("diff", images[0], images[1])
    lines = out.splitlines()
    assert lines.index("Packages: 1 added, 1 removed, 0 upgraded, 2 downgraded") < next(
        i for i, line in enumerate(lines) if line.startswith("Paths:")
    )
    assert "v deb:good  1.0-1 -> 1.0-1~rc1+x" in lines and "+ deb:new  0.1" in lines
    sample = Path(__file__).resolve().parent.parent / "sample_images" / "sample-docker.tar"
    rc, out, _ = g.run_cli("diff", "--json", str(sample), str(sample))
    assert rc == 0 and "packages" not in json.loads(out)


def test_one_python_distribution_in_two_site_directories_is_two_packages(tmp_path: Path) -> None:
    """A venv and the system site-packages may hold one name each: both are installed."""
    meta = "Metadata-Version: 2.1\nName: six\nVersion: {}\n"
    sites = ("/usr/lib/python3/dist-packages", "/opt/venv/lib/python3.11/site-packages")
    layers = [
        [g.file(f"{sites[0]}/six-1.16.0.dist-info/METADATA", meta.format("1.16.0"))],
        [g.file(f"{sites[1]}/six-1.17.0.dist-info/METADATA", meta.format("1.17.0"))],
    ]
    ix = build(load(g.build(tmp_path, layers)))
    assert sorted((p.owner, p.db) for p in ix.at(1).values()) == [
        ("python:six@1.16.0", f"{sites[0]}/six-1.16.0.dist-info"),
        ("python:six@1.17.0", f"{sites[1]}/six-1.17.0.dist-info"),
    ]
    assert [(str(c.how), c.old_version) for c in ix.layers[1].changes] == [("added", None)]


def _dpkg_search_all(root: Path, aliases: dict[str, str]) -> dict[str, str]:
    """Every path dpkg lists as of ``root``'s database, with its owner as
    layerscope spells it, from ``dpkg-query -S`` alone: a path as the image
    holds it (``aliases``: merged /usr's ``/bin`` -> ``/usr/bin``), several
    packages listing it (under either name) joined, names sorted."""
    versions = {k.split(":")[0]: v for k, v in dpkg_query(root).items()}
    res = subprocess.run(
        ["dpkg-query", f"--admindir={root}/var/lib/dpkg", "-S", "*"], capture_output=True, text=True, check=True
    )
    names: dict[str, set[str]] = {}
    for line in res.stdout.splitlines():
        pkgs, sep, path = line.partition(": ")
        if not sep or pkgs.startswith("diversion "):
            continue
        top, _, rest = path[1:].partition("/")
        if rest and "/" + top in aliases:  # /bin itself is the symlink, and dpkg's /bin
            path = aliases["/" + top] + "/" + rest
        names.setdefault(path, set()).update(n.strip().split(":")[0] for n in pkgs.split(","))
    return {p: ", ".join(f"deb:{n}@{versions[n]}" for n in sorted(ns)) for p, ns in names.items()}


def test_file_objects_carry_the_owner_dpkg_query_names(debian_image: Path, tmp_path: Path) -> None:
    """``ls --long --json`` and ``report --json`` give every file object an
    ``owner``: for each non-directory it is the package(s) ``dpkg-query -S``
    names at that layer, or null (the COPY'd script, files no package lists);
    directories (shared) are null; plain ``ls --json`` and images with no
    database have no such field."""
    need_tools("dpkg-query")
    roots = dpkg_dbs(debian_image, tmp_path)
    for k, argv in ((len(roots) - 1, ("ls", "--long", "--json")), (1, ("report", "--json"))):
        doc = json.loads(_cli(*argv, str(debian_image), "--layer", str(k)))
        files = {f["path"]: f for f in doc["files"]}
        aliases = {}
        for top in ("/bin", "/sbin", "/lib", "/lib64"):
            if top in files and files[top]["type"] == "symlink":
                assert files[top]["link"] == "usr" + top
                aliases[top] = "/usr" + top
        assert "/bin" in aliases and "/lib" in aliases  # bookworm is merged-/usr
        truth = _dpkg_search_all(roots[k], aliases)
        checked = 0
        for path, f in files.items():
            if f["type"] == "dir":
                assert f["owner"] is None, path
            else:
                assert f["owner"] == truth.get(path), (k, path)
                checked += f["owner"] is not None
        assert checked > 1000, k
        assert files["/usr/bin/curl"]["owner"].startswith("deb:curl@")
        if k > 1:
            assert files["/usr/local/bin/healthcheck.sh"]["owner"] is None
    assert all("owner" not in f for f in json.loads(_cli("ls", "--json", str(debian_image)))["files"])
    sample = Path(__file__).resolve().parent.parent / "sample_images" / "sample-docker.tar"
    assert all("owner" not in f for f in json.loads(_cli("ls", "-l", "--json", str(sample)))["files"])
