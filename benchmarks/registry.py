#!/usr/bin/env python3
"""Time a registry:// image against the old way (copy it to a file first).

    python benchmarks/registry.py registry://127.0.0.1:PORT/REPO:TAG [--repeat 3] [--insecure]

Each figure is the median wall time of --repeat fresh processes (so imports and
process start count, as they do for a person), in seconds:

  first screen   the manifest and config read: what the UI needs before it
                 shows the layer stack (``open_source``)
  full tree      every layer read and merged (``load``): the tree is complete

for three ways of getting there:

  registry, cold   registry://, an empty blob cache (every layer downloaded)
  registry, warm   registry:// again, blobs from the cache
  skopeo + file    ``skopeo copy docker://… docker-archive:FILE`` (timed, in
                   the figure) then the same two steps from the file

Needs skopeo for the last row. The registry must be reachable (loopback here).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PROBE = r"""
import sys, time
t0 = time.perf_counter()
from layerscope.api import open_source
from layerscope.loader import read_layers
from layerscope.merge import merge
image = open_source(sys.argv[1])
t1 = time.perf_counter()
read_layers(image)
merged = merge(image)
t2 = time.perf_counter()
assert not any(la.error for la in image.layers), [la.error for la in image.layers]
print(t1 - t0, t2 - t0, sum(len(la.entries) for la in image.layers))
"""


def probe(target: str, env: dict[str, str]) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PROBE, target], env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"{target}: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}")
    first, full, entries = out.stdout.split()
    start = wall - float(full)  # process start and interpreter, before the probe's clock
    return start + float(first), wall, int(entries)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ref", help="registry://HOST[:PORT]/REPO[:TAG]")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--insecure", action="store_true", help="skopeo: --src-tls-verify=false")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="layerscope-bench-")
    env = dict(os.environ)
    rows: dict[str, list[tuple[float, float]]] = {"registry, cold": [], "registry, warm": [], "skopeo + file": []}
    entries = 0
    try:
        for i in range(args.repeat):
            env["LAYERSCOPE_CACHE_DIR"] = os.path.join(work, f"cache-{i}")
            first, full, entries = probe(args.ref, env)
            rows["registry, cold"].append((first, full))
            first, full, _ = probe(args.ref, env)
            rows["registry, warm"].append((first, full))
            if shutil.which("skopeo"):
                dest = os.path.join(work, f"copy-{i}.tar")
                t0 = time.perf_counter()
                cmd = ["skopeo", "copy", "--quiet", *(["--src-tls-verify=false"] if args.insecure else [])]
                docker_ref = "docker://" + args.ref.removeprefix("registry://")
                subprocess.run([*cmd, docker_ref, f"docker-archive:{dest}"], check=True, capture_output=True)
                copy = time.perf_counter() - t0
                first, full, _ = probe(dest, env)
                rows["skopeo + file"].append((copy + first, copy + full))
                os.unlink(dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.ref}: {entries:,} entries, median of {args.repeat}")
    print(f"| {'way':<16} | first screen (s) | full tree (s) |")
    print(f"| {'-' * 16} | ---------------- | ------------- |")
    for name, runs in rows.items():
        if runs:
            first = statistics.median(r[0] for r in runs)
            full = statistics.median(r[1] for r in runs)
            print(f"| {name:<16} | {first:16.2f} | {full:13.2f} |")


if __name__ == "__main__":
    main()
