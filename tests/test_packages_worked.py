"""The README's worked example, held to the real tools at every layer.

The image (tests/fixtures/debian_worked.py) installs jq, installs and purges
less in one RUN, COPYs and ADDs files no package owns, writes other bytes
over /usr/bin/jq and chmods /usr/bin/chsh. ``umoci unpack`` lays out the
rootfs as of each layer; the truth there is ``dpkg-query --admindir``, dpkg's
own ``info/*.list`` and ``md5sums`` files read as plain text, ``md5sum -c``,
dpkg's log, ``os.lstat`` and the layer tars' own member lists: never
layerscope's readers.
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path

import imagegen as g
import pytest
from conftest import need_tools
from layertrees import dpkg_query, layer_names, umoci_layers
from test_output_width import _piped, check_fits

from layerscope.api import load
from layerscope.packages.audit import later_changes, mismatches, unmanaged
from layerscope.packages.index import How, PackageIndex, build

# Where dpkg, apt and the system keep their moving state, caches and logs (FHS /var/lib,
# /var/cache, /var/log; /tmp and /run are scratch): a layer writing there is no one's file
# to vouch for, so the audit leaves it out of "unmanaged".
STATE = ("/var/lib/dpkg/", "/var/lib/apt/", "/var/cache/", "/var/log/", "/tmp/", "/run/")


@pytest.fixture(scope="module")
def worked(worked_image: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path], PackageIndex]:
    need_tools("umoci", "skopeo", "dpkg-query", "md5sum")
    roots = umoci_layers(worked_image, tmp_path_factory.mktemp("worked"))
    return worked_image, roots, build(load(str(worked_image)))


def _aliases(root: Path) -> dict[str, str]:
    """Merged /usr: a top-level directory the rootfs holds as a symlink into /usr."""
    out = {}
    for top in os.listdir(root):
        link = root / top
        if link.is_symlink() and os.readlink(link).startswith("usr/"):
            out["/" + top] = "/" + os.readlink(link)
    return out


def _as_held(path: str, aliases: dict[str, str]) -> str:
    top, sep, rest = path[1:].partition("/")
    return aliases["/" + top] + "/" + rest if sep and "/" + top in aliases else path


def _listed(root: Path) -> dict[str, str]:
    """Every path some ``info/*.list`` names, as the rootfs holds it -> the package's name."""
    aliases = _aliases(root)
    out: dict[str, str] = {}
    for lst in sorted((root / "var/lib/dpkg/info").glob("*.list")):
        name = lst.name.removesuffix(".list").split(":")[0]
        for line in lst.read_text().splitlines():
            if line.strip() and line != "/.":
                out.setdefault(_as_held(line, aliases), name)
    return out


def _layer_members(archive: Path, k: int) -> list[tarfile.TarInfo]:
    with tarfile.open(archive) as outer, tarfile.open(fileobj=outer.extractfile(layer_names(archive)[k])) as layer:
        return layer.getmembers()


def _unmanaged_truth(archive: Path, root: Path, k: int) -> dict[str, tuple[int, int]]:
    """Layer k's non-directories no ``.list`` names (outside the managers' state), by directory."""
    listed = _listed(root)
    dirs: dict[str, tuple[int, int]] = {}
    for m in _layer_members(archive, k):
        path = "/" + m.name.removeprefix("./").strip("/")
        if m.isdir() or "/.wh." in path or path in listed or path.startswith(STATE):
            continue
        parent = os.path.dirname(path)
        files, size = dirs.get(parent, (0, 0))
        dirs[parent] = (files + 1, size + (m.size if m.isfile() else 0))
    return dirs


def test_packages_per_layer_match_dpkg_query(worked: tuple[Path, list[Path], PackageIndex]) -> None:
    _, roots, ix = worked
    assert len(roots) == 7
    before: dict[str, str] = {}
    for k, root in enumerate(roots):
        truth = dpkg_query(root)
        assert {f"{p.name}:{p.arch}": p.version for p in ix.at(k).values()} == truth, k
        changes = {(c.how, f"{c.package.name}:{c.package.arch}") for c in ix.layers[k].changes}
        moved = {(How.ADDED, p) for p in truth.keys() - before.keys()}
        moved |= {(How.REMOVED, p) for p in before.keys() - truth.keys()}
        assert {c for c in changes if c[0] in (How.ADDED, How.REMOVED)} == moved, k
        assert not any(before.get(p) not in (None, v) for p, v in truth.items()), "no upgrade in this image"
        before = truth
    assert not ix.problems and [len(la.changes) for la in ix.layers[3:]] == [0, 0, 0, 0]
    assert {c.package.name for c in ix.layers[1].changes} >= {"jq", "libjq1", "libonig5"}


def test_install_and_purge_in_one_run_still_shows(worked: tuple[Path, list[Path], PackageIndex]) -> None:
    """less is in neither layer 1's nor layer 2's database; dpkg's log says layer 2 had it."""
    _, roots, ix = worked
    assert not any(p.startswith("less:") for p in dpkg_query(roots[1]) | dpkg_query(roots[2]))
    old = (roots[1] / "var/log/dpkg.log").read_text().splitlines()
    new = (roots[2] / "var/log/dpkg.log").read_text().splitlines()
    assert new[: len(old)] == old
    # "<date> <time> install less:amd64 <none> 590-2.1~deb12u2",
    # "<date> <time> remove less:amd64 590-2.1~deb12u2 <none>"
    # (dpkg logs "purge" too only for a package with config files to purge; less has none)
    logged = [line.split() for line in new[len(old) :]]
    installs = {(f[3].split(":")[0], f[5]) for f in logged if f[2] == "install"}
    removed = {f[3].split(":")[0] for f in logged if f[2] in ("remove", "purge")}
    assert [(c.how, c.package.name, c.package.version) for c in ix.layers[2].changes] == [
        (How.TRANSIENT, name, version) for name, version in sorted(installs) if name in removed
    ]
    assert removed == {"less"}


def test_unmanaged_files_are_the_layers_files_no_list_names(worked: tuple[Path, list[Path], PackageIndex]) -> None:
    archive, roots, ix = worked
    for k, root in enumerate(roots):
        ours = {d.directory: (d.files, d.bytes) for d in unmanaged(ix.merged, ix, k)}
        assert ours == _unmanaged_truth(archive, root, k), k
    assert {d.directory for d in unmanaged(ix.merged, ix, 3)} == {"/opt/app", "/opt/app/static"}
    assert {d.directory for d in unmanaged(ix.merged, ix, 4)} == {"/opt/tool/bin", "/opt/tool/share/tool"}


def _md5sum_failures(root: Path) -> set[str]:
    """The packaged files ``md5sum -c`` finds changed in ``root``, by every ``info/*.md5sums``."""
    aliases = _aliases(root)
    sums = b"".join(p.read_bytes() for p in sorted((root / "var/lib/dpkg/info").glob("*.md5sums")))
    res = subprocess.run(["md5sum", "-c", "--quiet", "-"], input=sums, cwd=root, capture_output=True)
    failed = set()
    for line in res.stdout.decode().splitlines():
        path, _, verdict = line.rpartition(": ")
        if verdict.startswith("FAILED"):
            failed.add(_as_held("/" + path, aliases))
    return failed


def test_the_replaced_jq_fails_its_md5sums(worked: tuple[Path, list[Path], PackageIndex]) -> None:
    archive, roots, ix = worked
    for k in (4, 5, 6):
        ours = {m.path for m in mismatches(ix.merged, ix, k, read=True)}
        assert ours == _md5sum_failures(roots[k]), k
    (m,) = mismatches(ix.merged, ix, 6, read=True)
    assert (m.path, m.owner.name, m.layer) == ("/usr/bin/jq", "jq", 5)
    rc, out, err = g.run_cli("packages", str(archive), "--json", "--verify")
    assert rc == 0, err
    assert [(d["path"], d["layer"]) for d in json.loads(out)["digest_mismatches"]] == [("/usr/bin/jq", 5)]


def test_packaged_files_changed_later_match_the_unpacked_trees(worked: tuple[Path, list[Path], PackageIndex]) -> None:
    """A later layer's non-directory that a package of the layer below lists: content changed
    (jq) is overwritten, only the mode (chsh's setuid bit) is metadata."""
    archive, roots, ix = worked
    truth = []
    for k in range(1, len(roots)):
        listed = _listed(roots[k - 1])
        was, now = ({n.split(":")[0]: v for n, v in dpkg_query(r).items()} for r in roots[k - 1 : k + 1])
        for m in _layer_members(archive, k):
            path = "/" + m.name.removeprefix("./").strip("/")
            if m.isdir() or path not in listed or path.startswith(STATE) or was[listed[path]] != now.get(listed[path]):
                continue
            a, b = roots[k - 1] / path[1:], roots[k] / path[1:]
            same = os.readlink(a) == os.readlink(b) if a.is_symlink() else a.read_bytes() == b.read_bytes()
            truth.append(
                (
                    path,
                    listed[path],
                    k,
                    "metadata" if same else "overwritten",
                    os.lstat(a).st_mode != os.lstat(b).st_mode,
                )
            )
    ours = [(c.path, c.owner.name, c.layer, c.how) for c in later_changes(ix.merged, ix)]
    assert ours == [t[:4] for t in truth]
    assert truth == [("/usr/bin/jq", "jq", 5, "overwritten", False), ("/usr/bin/chsh", "passwd", 6, "metadata", True)]
    assert (
        os.lstat(roots[5] / "usr/bin/chsh").st_mode & 0o4000
        and not os.lstat(roots[6] / "usr/bin/chsh").st_mode & 0o4000
    )


def test_the_readme_text_names_each_case_at_80_columns(worked: tuple[Path, list[Path], PackageIndex]) -> None:
    """README's example: ``packages --changes --verify`` at 80 columns, every case on its layer."""
    archive, roots, _ = worked
    out = _piped(["packages", str(archive), "--changes", "--verify"], 80)
    check_fits(out, 80)
    jq = f"deb:jq@{dpkg_query(roots[6])['jq:amd64']}"
    chsh = f"deb:passwd@{dpkg_query(roots[6])['passwd:amd64']}"
    layers = out.split("\nLayer ")
    assert layers[0].startswith(f"✗ /usr/bin/jq (layer 5) is not the file {jq} recorded:")
    assert "  ± deb:less@" in layers[3] and "/etc/alternatives" in layers[3]
    assert "/opt/app" in layers[4] and "/opt/tool/bin" in layers[5]
    assert layers[6].splitlines()[1] == f"  ! /usr/bin/jq overwritten: it is {jq}'s (layer 1)"
    assert layers[7].splitlines()[1] == f"  ! /usr/bin/chsh metadata: it is {chsh}'s (layer 0)"
