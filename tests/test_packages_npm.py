"""Node packages against npm itself: a real image whose ``node_modules`` trees
npm laid out from Debian's ``node-*`` packages (tests/fixtures/node_image.py),
unpacked layer by layer; the truth is what npm says of the unpacked tree
(``npm query '*'`` for the packages at each location, ``npm pack --dry-run``
for the files each one ships, ``node`` for the version ``require`` sees)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from conftest import need_tools
from layertrees import tar_layers

from layerscope.api import load
from layerscope.merge import Merged
from layerscope.packages.audit import unmanaged
from layerscope.packages.index import How, PackageIndex, build
from layerscope.packages.records import Ecosystem, Package

# where the image's layers put an npm tree, and how npm is told to read it there
PROJECTS = {"/srv/app": (), "/usr/local/lib": ("--global", "--prefix", "{root}/usr/local")}


def _npm(*args: str, cwd: Path) -> str:
    cmd = ["npm", *args, "--offline", "--ignore-scripts", "--loglevel=error"]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True).stdout


def _npm_truth(root: Path) -> dict[str, dict[str, object]]:
    """Image path of each installed package -> npm's record of it (its package.json and place)."""
    out: dict[str, dict[str, object]] = {}
    for project, flags in PROJECTS.items():
        if not (root / project.lstrip("/")).is_dir():
            continue
        args = [f.format(root=root) for f in flags]
        for node in json.loads(_npm("query", "*", *args, cwd=root / project.lstrip("/"))):
            if node["location"]:  # "" is the project (or the global prefix) itself
                out[f"{project}/{node['location']}"] = node
    return out


def _require_version(root: Path, path: str) -> str:
    """The version ``require`` gets for the package at ``path`` (node reads the file itself)."""
    script = "console.log(require(process.argv[1] + '/package.json').version)"
    return subprocess.run(
        ["node", "-e", script, str(root) + path], capture_output=True, text=True, check=True
    ).stdout.strip()


def _shipped(root: Path, path: str) -> set[str]:
    """The files npm counts as the package's own at ``path``: what ``npm pack`` would publish."""
    (doc,) = json.loads(_npm("pack", "--dry-run", "--json", cwd=root / path.lstrip("/")))
    return {f"{path}/{f['path']}" for f in doc["files"]}


def _npm_packages(ix: PackageIndex, k: int) -> dict[str, Package]:
    return {p.db: p for p in ix.at(k).values() if p.ecosystem == Ecosystem.NPM}


def _regular_files(merged: Merged, k: int, paths: tuple[str, ...]) -> set[str]:
    return {p for p in paths if (e := merged.entry_at(p, k)) is not None and e.type == "file"}


def test_npm_packages_per_layer_match_npm_query(node_image: Path, tmp_path: Path) -> None:
    need_tools("npm", "node")
    roots = tar_layers(node_image, tmp_path)
    merged = load(str(node_image))
    ix = build(merged)
    assert not ix.problems
    for k, root in enumerate(roots):
        truth = _npm_truth(root)
        ours = _npm_packages(ix, k)
        assert {p: (n.name, n.version) for p, n in ours.items()} == {
            p: (t["name"], t["version"]) for p, t in truth.items()
        }, f"layer {k}"
        for path, pkg in ours.items():
            assert pkg.version == _require_version(root, path)
            assert _regular_files(merged, k, pkg.files) == _shipped(root, path), path
    # npm nests debug's own ms@2.1.2 beside the top-level ms@2.1.3: two packages, one name
    assert len(roots) == 2 and len(_npm_packages(ix, 0)) == 6 and len(_npm_packages(ix, 1)) == 8
    # layer 1 installed two more copies (globally), it changed none of layer 0's
    added = {(c.how, c.package.db) for c in ix.layers[1].changes}
    assert added == {(How.ADDED, "/usr/local/lib/node_modules/ms"), (How.ADDED, "/usr/local/lib/node_modules/yallist")}


def test_npm_bin_links_and_hidden_lockfile_are_npms(node_image: Path, tmp_path: Path) -> None:
    """npm links a package's ``bin`` into ``node_modules/.bin`` and records the tree in
    ``node_modules/.package-lock.json``: the link is the package's, the lockfile npm's state;
    only the project's own files are unmanaged."""
    need_tools("npm", "node")
    (root, _) = tar_layers(node_image, tmp_path)
    merged = load(str(node_image))
    ix = build(merged)
    truth = _npm_truth(root)
    links = {
        f"/srv/app/node_modules/.bin/{name}": path
        for path, node in truth.items()
        if isinstance(node.get("bin"), dict) and path.startswith("/srv/app/node_modules/")
        for name in node["bin"]  # type: ignore[union-attr]
    }
    assert links == {"/srv/app/node_modules/.bin/semver": "/srv/app/node_modules/semver"}
    for link, path in links.items():
        assert os.path.islink(str(root) + link)
        owner = ix.owner_at(link, 0)
        assert owner is not None and owner.db == path
    assert [(d.directory, d.files) for d in unmanaged(merged, ix, 0)] == [("/srv/app", 2)]
