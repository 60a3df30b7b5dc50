"""Time ``layerscope container://NAME`` on a container with many changes.

Makes a private podman store (overlay driver, under /tmp; the machine's own
store is not touched), loads ``sample_images/sample-docker.tar``, creates a
container (never run), writes N files through ``podman mount`` (plus a chmod, an
overwrite and a delete of image files), then times, best of ``--repeat``:

- ``podman diff NAME`` (what the engine says, for scale);
- ``layerscope report container://NAME --json`` (upper directory read in place);
- with ``--fallback``, the same on a vfs store, whose containers have no
  upper directory: the layer comes from ``podman diff`` + ``podman export``.

Everything it made is removed at the end. Needs root (podman's overlay driver).

    python benchmarks/container.py [--files 10000] [--size 1024] [--repeat 3] [--fallback]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "localhost/layerscope/sample:1"


def best(cmd: list[str], env: dict[str, str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t)
    return min(times)


def make(driver: str, files: int, size: int) -> tuple[list[str], Path, float]:
    """A private store with the sample image and a container ``ls-bench`` changed through its mount."""
    base = Path(tempfile.mkdtemp(prefix="lsb-", dir="/tmp"))
    podman = ["podman", "--root", str(base / "root"), "--runroot", str(base / "run"), "--storage-driver", driver]
    run = [*podman]
    subprocess.run(
        [*run, "load", "-i", str(ROOT / "sample_images" / "sample-docker.tar")], capture_output=True, check=True
    )
    subprocess.run([*run, "create", "--name", "ls-bench", IMAGE], capture_output=True, check=True)
    mnt = Path(subprocess.run([*run, "mount", "ls-bench"], capture_output=True, text=True, check=True).stdout.strip())
    t = time.perf_counter()
    payload = os.urandom(size)
    for i in range(files):
        d = mnt / "data" / f"d{i % 100:03d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i:06d}.bin").write_bytes(payload[: max(0, size - 8)] + i.to_bytes(8, "big"))
    (mnt / "app" / "data.bin").chmod(0o600)
    (mnt / "app" / "config.txt").write_text("overwritten\n")
    (mnt / "app" / "NEWS.txt").unlink()
    written = time.perf_counter() - t
    subprocess.run([*run, "umount", "ls-bench"], capture_output=True, check=True)
    return podman, base, written


def drop(podman: list[str], base: Path) -> None:
    subprocess.run([*podman, "rm", "--force", "ls-bench"], capture_output=True)
    subprocess.run([*podman, "rmi", "--all", "--force"], capture_output=True)
    shutil.rmtree(base, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=1024, help="bytes per file written")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--fallback", action="store_true", help="also time the diff + export fallback (a vfs store)")
    args = ap.parse_args()
    ls = [sys.executable, "-m", "layerscope"]
    ref = "container://ls-bench"
    for driver in ("overlay", "vfs") if args.fallback else ("overlay",):
        podman, base, written = make(driver, args.files, args.size)
        try:
            env = {**os.environ, "LAYERSCOPE_PODMAN": shlex.join(podman), "PYTHONPATH": str(ROOT)}
            how = "upper dir" if driver == "overlay" else "diff+export"
            print(f"{driver}: {args.files} files of {args.size} B written through the mount in {written:.2f} s")
            r = best([*podman, "diff", "ls-bench"], env, args.repeat)
            print(f"  {'podman diff':<42}{r:6.2f} s")
            r = best([*ls, "report", ref, "--json"], env, args.repeat)
            print(f"  {f'layerscope report --json ({how})':<42}{r:6.2f} s")
            r = best([*ls, "ls", ref, "--changes", "--layer", "-1"], env, args.repeat)
            print(f"  {f'layerscope ls --changes ({how})':<42}{r:6.2f} s")
        finally:
            drop(podman, base)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
