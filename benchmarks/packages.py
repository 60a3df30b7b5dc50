#!/usr/bin/env python3
"""What reading package databases adds to ``report --json``, on a real Debian image.

    python benchmarks/packages.py DEBIAN_IMAGE.tar [--files 100000] [--repeat 5]

Builds (once, in a temp dir) a docker archive made of DEBIAN_IMAGE's layers
(a real dpkg database: tests/fixtures/debian_image.py makes one) plus one
layer of --files small files, so the image has ~100k entries and packages;
then times ``report --json`` in this process with the package index read and
with it replaced by an empty one, alternated, and prints the medians and the
ratio. Load is included in both (it is what a user waits for).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _bulk_layer(n: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for i in range(n):
            data = f"{i}\n".encode()
            info = tarfile.TarInfo(f"srv/data/{i // 1000:03d}/f{i:06d}.txt")
            info.size, info.mtime = len(data), 1_700_000_000
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def composite(debian: Path, n: int, out: Path) -> Path:
    with tarfile.open(debian) as src:
        manifest = json.load(src.extractfile("manifest.json"))  # type: ignore[arg-type]
        config = json.load(src.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
        layers = [(name, src.extractfile(name).read()) for name in manifest[0]["Layers"]]  # type: ignore[union-attr]
    bulk = _bulk_layer(n)
    digest = hashlib.sha256(bulk).hexdigest()
    layers.append((f"{digest}.tar", bulk))
    config["rootfs"]["diff_ids"].append(f"sha256:{digest}")
    config.setdefault("history", []).append({"created_by": f"COPY data/ /srv/data/ ({n} files)"})
    cfg = json.dumps(config).encode()
    cfg_name = f"{hashlib.sha256(cfg).hexdigest()}.json"
    with tarfile.open(out, "w") as t:
        for name, data in [*layers, (cfg_name, cfg)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        m = json.dumps([{"Config": cfg_name, "RepoTags": None, "Layers": [n for n, _ in layers]}]).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(m)
        t.addfile(info, io.BytesIO(m))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("debian")
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    from layerscope import api, report
    from layerscope.packages import index

    real_build = index.build

    def empty(merged: object) -> index.PackageIndex:
        """The index of an image with no database: what report --json costs without packages."""
        return index.PackageIndex(merged, [], [])  # type: ignore[arg-type]

    with tempfile.TemporaryDirectory() as tmp:
        image = composite(Path(args.debian), args.files, Path(tmp) / "debian-bulk.tar")
        times: dict[str, list[float]] = {"with": [], "without": []}
        cpu: dict[str, list[float]] = {"with": [], "without": []}
        for _ in range(args.repeat):
            for mode in ("with", "without"):
                index.build = real_build if mode == "with" else empty  # type: ignore[assignment]
                t0, c0 = time.perf_counter(), time.process_time()
                merged = api.load(str(image))
                report.write_json(merged, io.StringIO())
                times[mode].append(time.perf_counter() - t0)
                cpu[mode].append(time.process_time() - c0)
        index.build = real_build
        entries = len(merged.paths())
        print(f"image: {args.debian} + {args.files} files ({entries} paths)")
        # CPU time too: on a shared machine the wall clock also counts the waits for a core.
        for what, got in (("wall", times), ("cpu", cpu)):
            w, wo = statistics.median(got["with"]), statistics.median(got["without"])
            print(f"report --json with packages    median {w * 1000:.0f} ms {what}")
            print(f"report --json without packages median {wo * 1000:.0f} ms {what}")
            print(f"ratio ({what}) {w / wo:.3f}  (packages add {(w - wo) * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
