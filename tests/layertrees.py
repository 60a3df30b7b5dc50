"""An image's rootfs as of each layer, unpacked by real tools, and what dpkg says of it.

The package tests' truth: the trees are laid out by ``tar`` (images with no
whiteouts) or by ``umoci unpack`` (any image, whiteouts applied as the OCI
spec says), never by layerscope; what is installed there is
``dpkg-query --admindir`` on the unpacked database.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tarfile
from pathlib import Path


def layer_names(archive: Path) -> list[str]:
    """The layer members of a docker archive, bottom first."""
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
    return list(manifest[0]["Layers"])


def tar_layers(archive: Path, tmp: Path, under: str = "") -> list[Path]:
    """The rootfs as of each layer (only what is ``under`` a path, if given), unpacked by tar:
    each layer's tar over a copy of the tree below. For images with no whiteouts."""
    out: list[Path] = []
    with tarfile.open(archive) as outer:
        for i, name in enumerate(layer_names(archive)):
            root = tmp / f"layer{i}"
            if out:
                shutil.copytree(out[-1], root, symlinks=True)
            root.mkdir(exist_ok=True)
            with tarfile.open(fileobj=outer.extractfile(name)) as layer:
                members = [m for m in layer.getmembers() if m.name.lstrip("./").startswith(under)]
                assert not any(".wh." in m.name for m in members)
                layer.extractall(root, members=members, filter="data")
            out.append(root)
    return out


def dpkg_dbs(archive: Path, tmp: Path) -> list[Path]:
    """Roots holding only dpkg's admin dir as of each layer (enough for dpkg-query)."""
    return tar_layers(archive, tmp, under="var/lib/dpkg/")


def umoci_layers(archive: Path, tmp: Path) -> list[Path]:
    """The rootfs as of each layer, unpacked by ``umoci unpack``.

    skopeo turns the docker archive into an OCI layout; for each k one more
    manifest (and config) there holds the first k+1 layers, tagged ``L<k>``,
    and umoci unpacks that tag into a bundle of its own.
    """
    layout = tmp / "oci"
    subprocess.run(["skopeo", "copy", "-q", f"docker-archive:{archive}", f"oci:{layout}:image"], check=True)
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads(_blob(layout, index["manifests"][0]["digest"]).read_text())
    config = json.loads(_blob(layout, manifest["config"]["digest"]).read_text())
    out: list[Path] = []
    for k in range(len(manifest["layers"])):
        cfg = {**config, "rootfs": {"type": "layers", "diff_ids": config["rootfs"]["diff_ids"][: k + 1]}}
        man = {**manifest, "config": _put(layout, cfg, manifest["config"]["mediaType"])}
        man["layers"] = manifest["layers"][: k + 1]
        desc = _put(layout, man, index["manifests"][0]["mediaType"])
        index["manifests"].append({**desc, "annotations": {"org.opencontainers.image.ref.name": f"L{k}"}})
    (layout / "index.json").write_text(json.dumps(index))
    for k in range(len(manifest["layers"])):
        bundle = tmp / f"bundle{k}"
        subprocess.run(["umoci", "unpack", "--image", f"{layout}:L{k}", str(bundle)], check=True, capture_output=True)
        out.append(bundle / "rootfs")
    return out


def _blob(layout: Path, digest: str) -> Path:
    algo, _, hexdigest = digest.partition(":")
    return layout / "blobs" / algo / hexdigest


def _put(layout: Path, doc: object, media_type: str) -> dict[str, object]:
    data = json.dumps(doc).encode()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    _blob(layout, digest).write_bytes(data)
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def dpkg_query(root: Path) -> dict[str, str]:
    """``name:arch`` -> version of each package dpkg counts as installed in ``root``."""
    res = subprocess.run(
        [
            "dpkg-query",
            f"--admindir={root}/var/lib/dpkg",
            "-W",
            "-f",
            "${Package}:${Architecture}\t${Version}\t${db:Status-Abbrev}\n",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = {}
    for line in res.stdout.splitlines():
        key, version, status = line.split("\t")
        if status.strip() not in ("un", "pn", "rc"):  # not installed / config files only
            out[key] = version
    return out


def dpkg_listfiles(root: Path, package: str) -> list[str]:
    """``dpkg-query -L``: the paths dpkg lists for ``package`` in ``root``'s database."""
    res = subprocess.run(
        ["dpkg-query", f"--admindir={root}/var/lib/dpkg", "-L", package], capture_output=True, text=True, check=True
    )
    return res.stdout.split()
