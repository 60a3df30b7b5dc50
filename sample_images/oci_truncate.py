#!/usr/bin/env python3
"""Derive an OCI image layout that keeps only the first K+1 layers of an image.

Usage: python3 oci_truncate.py SRC_LAYOUT SRC_REF DST_LAYOUT DST_REF K

SRC_LAYOUT is an OCI image layout directory (e.g. an extracted oci-archive or
the output of ``skopeo copy ... oci:DIR:REF``).  The new layout DST_LAYOUT
(created, must not exist) shares the layer blobs (hard-linked or copied) and
gets a new config (rootfs.diff_ids and history cut after layer K; history
entries with ``empty_layer: true`` that follow layer K are dropped) and a new
manifest, both written as blobs with their correct sha256 digest and size.
Used by build.sh to compute per-layer expected listings with ``umoci unpack``.
Stdlib only.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from typing import Any


def _blob_path(layout: str, digest: str) -> str:
    algo, hexd = digest.split(":", 1)
    return os.path.join(layout, "blobs", algo, hexd)


def _read_json_blob(layout: str, digest: str) -> Any:
    with open(_blob_path(layout, digest), "rb") as f:
        return json.load(f)


def _write_blob(layout: str, data: bytes) -> tuple[str, int]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = _blob_path(layout, digest)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return digest, len(data)


def _find_manifest(layout: str, ref: str) -> dict[str, Any]:
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    manifests = index.get("manifests", [])
    for desc in manifests:
        if desc.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
            return desc
    if len(manifests) == 1:
        return manifests[0]
    raise SystemExit(f"ref {ref!r} not found in {layout}/index.json")


def truncate(src: str, src_ref: str, dst: str, dst_ref: str, k: int) -> None:
    desc = _find_manifest(src, src_ref)
    manifest = _read_json_blob(src, desc["digest"])
    config = _read_json_blob(src, manifest["config"]["digest"])
    layers = manifest["layers"]
    if not 0 <= k < len(layers):
        raise SystemExit(f"K={k} out of range 0..{len(layers) - 1}")

    os.makedirs(os.path.join(dst, "blobs", "sha256"))
    with open(os.path.join(dst, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)

    kept = layers[: k + 1]
    for layer in kept:
        s, d = _blob_path(src, layer["digest"]), _blob_path(dst, layer["digest"])
        try:
            os.link(s, d)
        except OSError:
            shutil.copyfile(s, d)

    config["rootfs"]["diff_ids"] = config["rootfs"]["diff_ids"][: k + 1]
    history = config.get("history")
    if history is not None:
        new_history = []
        seen = 0
        for h in history:
            if not h.get("empty_layer", False):
                if seen == k + 1:
                    break
                seen += 1
            new_history.append(h)
        config["history"] = new_history
    cfg_digest, cfg_size = _write_blob(dst, json.dumps(config).encode())

    manifest = dict(manifest)
    manifest["config"] = dict(manifest["config"], digest=cfg_digest, size=cfg_size)
    manifest["layers"] = kept
    man_digest, man_size = _write_blob(dst, json.dumps(manifest).encode())

    new_desc = {
        "mediaType": desc.get("mediaType", "application/vnd.oci.image.manifest.v1+json"),
        "digest": man_digest,
        "size": man_size,
        "annotations": {"org.opencontainers.image.ref.name": dst_ref},
    }
    with open(os.path.join(dst, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [new_desc]}, f)


def main(argv: list[str]) -> int:
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    src, src_ref, dst, dst_ref, k = argv
    truncate(src, src_ref, dst, dst_ref, int(k))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
