"""Each fix proven by a rebuild: a Containerfile that makes one mistake, the
Containerfile its fix describes, both built by podman, and the bytes the fix
predicted equal to what the rebuild really dropped.

The measure is independent of layerscope: the regular-file bytes of every
layer tar of ``podman save``, summed with Python's ``tarfile``. The base is a
busybox userland built FROM scratch (Debian's busybox-static), so ``RUN`` has
a shell and nothing comes from a registry.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import skip_or_fail
from imagegen import run_cli

from layerscope.analysis import analyze
from layerscope.api import load
from layerscope.fixes import Fix, Fixes, FixKind, fixes

TIMESTAMP = "1704067200"
BASE = "localhost/layerscope-fixes-base:1"
BUSYBOX = Path("/bin/busybox")


@dataclass
class Podman:
    cmd: list[str]
    work: Path

    def build(self, name: str, containerfile: str, files: dict[str, bytes]) -> Path:
        """Build ``containerfile`` with ``files`` beside it; the docker archive's path."""
        ctx = self.work / name
        ctx.mkdir()
        for rel, data in files.items():
            (ctx / rel).parent.mkdir(parents=True, exist_ok=True)
            (ctx / rel).write_bytes(data)
            (ctx / rel).chmod(0o755 if rel == "busybox" else 0o644)
        (ctx / "Containerfile").write_text(containerfile)
        secret = ctx / "secret.txt"
        extra = ["--secret", f"id=key,src={secret}"] if secret.exists() else []
        tag = f"localhost/layerscope-fixes-{name}:1"
        run = subprocess.run(
            [
                *self.cmd,
                "build",
                "--isolation=chroot",
                "--cgroup-manager=cgroupfs",
                "--pull=never",
                "--timestamp",
                TIMESTAMP,
                *extra,
                "-t",
                tag,
                str(ctx),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if run.returncode != 0:
            raise AssertionError(f"podman build {name} failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
        out = self.work / f"{name}.tar"
        subprocess.run(
            [*self.cmd, "save", "--format", "docker-archive", "-o", str(out), tag],
            check=True,
            capture_output=True,
            timeout=300,
        )
        return out


@pytest.fixture(scope="module")
def podman() -> Iterator[Podman]:
    if shutil.which("podman") is None or os.geteuid() != 0:
        skip_or_fail("podman is not installed (or not running as root)")
    if not BUSYBOX.is_file() or b"/ld-linux" in BUSYBOX.read_bytes()[: 1 << 20]:
        skip_or_fail("the static busybox is not installed (busybox-static)")
    store = Path(tempfile.mkdtemp(prefix="ls-fx-", dir="/tmp"))  # podman wants a short runroot
    cmd = ["podman", "--root", str(store / "root"), "--runroot", str(store / "run"), "--storage-driver", "vfs"]
    pm = Podman(cmd, store)
    try:
        pm.build(
            "base",
            "FROM scratch\nCOPY busybox /bin/busybox\n"
            'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && mkdir -p /tmp /root /etc"]\n',
            {"busybox": BUSYBOX.read_bytes()},
        )
        subprocess.run([*cmd, "tag", "localhost/layerscope-fixes-base:1", BASE], check=True, capture_output=True)
        yield pm
    finally:
        subprocess.run([*cmd, "rmi", "-a", "-f"], capture_output=True, timeout=300)
        shutil.rmtree(store, ignore_errors=True)


def content_bytes(archive: Path) -> int:
    """Regular-file bytes of every layer of a docker archive, read with
    ``tarfile``: each layer its manifest lists, in order (two identical
    layers are one file in the archive, and two layers of the image)."""
    import json

    total = 0
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        for name in manifest[0]["Layers"]:
            f = outer.extractfile(name)
            assert f is not None
            with tarfile.open(fileobj=f) as layer:
                total += sum(x.size for x in layer.getmembers() if x.isreg())
    return total


def fixes_of(archive: Path) -> Fixes:
    return fixes(analyze(load(str(archive))))


def only(fx: Fixes, kind: FixKind) -> Fix:
    found = [f for f in fx.user if f.kind is kind]
    assert len(found) == 1, [(f.kind, f.layer, f.paths) for f in fx.user]
    return found[0]


def blob(n: int, seed: int = 1) -> bytes:
    """``n`` bytes that no compression or dedup makes smaller."""
    import hashlib

    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{seed}:{i}".encode()).digest()
        i += 1
    return bytes(out[:n])


# Each case: the mistake, the fix's kind, the layer the fix names (the
# base is layers 0 and 1), a word its change must say, and the Containerfile
# written as that change says.
CASES = {
    "chmod-later": (
        f"FROM {BASE}\nCOPY data.bin /app/data.bin\nRUN chmod 0600 /app/data.bin\n",
        FixKind.METADATA,
        3,
        "COPY --chmod",
        f"FROM {BASE}\nCOPY --chmod=0600 data.bin /app/data.bin\n",
        {"data.bin": blob(150_000)},
    ),
    "chown-later": (
        f"FROM {BASE}\nRUN head -c 80000 /bin/busybox > /app.bin\nRUN chown 1000:1000 /app.bin\n",
        FixKind.METADATA,
        3,
        "chown them in layer 2's own RUN",
        f"FROM {BASE}\nRUN head -c 80000 /bin/busybox > /app.bin && chown 1000:1000 /app.bin\n",
        {},
    ),
    "deleted-later": (
        f"FROM {BASE}\nRUN head -c 120000 /bin/busybox > /tmp/build.o && echo built > /out\nRUN rm /tmp/build.o\n",
        FixKind.DELETED,
        2,
        "rm -rf /tmp/build.o",
        f"FROM {BASE}\nRUN head -c 120000 /bin/busybox > /tmp/build.o && echo built > /out && rm -rf /tmp/build.o\n",
        {},
    ),
    "copied-then-deleted": (
        f"FROM {BASE}\nCOPY src.tar /src.tar\nRUN tar -xf /src.tar -C / && rm /src.tar\n",
        FixKind.DELETED,
        2,
        "RUN --mount=type=bind",
        f"FROM {BASE}\nRUN --mount=type=bind,source=src.tar,target=/src.tar tar -xf /src.tar -C /\n",
        {"src.tar": b""},  # filled in by the test
    ),
    "apt-lists-left": (
        f"FROM {BASE}\nRUN mkdir -p /var/lib/apt/lists && head -c 90000 /bin/busybox "
        "> /var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease && echo installed > /marker\n",
        FixKind.CACHE,
        2,
        "rm -rf /var/lib/apt/lists/*",
        f"FROM {BASE}\nRUN mkdir -p /var/lib/apt/lists && head -c 90000 /bin/busybox "
        "> /var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease && echo installed > /marker "
        "&& rm -rf /var/lib/apt/lists/*\n",
        {},
    ),
    "copied-twice": (
        f"FROM {BASE}\nCOPY app/ /app/\nRUN echo step > /step\nCOPY app/ new/ /app/\n",
        FixKind.IDENTICAL,
        4,
        "leave them out of layer 4's COPY",
        f"FROM {BASE}\nCOPY app/ /app/\nRUN echo step > /step\nCOPY new/ /app/\n",
        {"app/a.bin": blob(40_000, 2), "app/b.bin": blob(25_000, 3), "new/c.txt": b"the new file\n"},
    ),
    "overwritten": (
        f"FROM {BASE}\nCOPY v1.conf /etc/app.conf\nCOPY v2.conf /etc/app.conf\n",
        FixKind.OVERWRITTEN,
        2,
        "add only the final version",
        f"FROM {BASE}\nCOPY v2.conf /etc/app.conf\n",
        {"v1.conf": blob(60_000, 4), "v2.conf": blob(61_000, 5)},
    ),
    "secret-deleted": (
        f"FROM {BASE}\nCOPY id_rsa /root/.ssh/id_rsa\nRUN wc -c /root/.ssh/id_rsa > /used && rm /root/.ssh/id_rsa\n",
        FixKind.SECRET,
        2,
        "RUN --mount=type=secret",
        f"FROM {BASE}\nRUN --mount=type=secret,id=key,target=/root/.ssh/id_rsa wc -c /root/.ssh/id_rsa > /used\n",
        {"id_rsa": b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + blob(3000, 6).hex().encode() + b"\n"},
    ),
}


def _src_tar(tmp: Path) -> bytes:
    """A tar whose members the RUN extracts (the real bytes of a source drop)."""
    import io

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in (("opt/src/a.c", blob(30_000, 7)), ("opt/src/b.c", blob(20_000, 8))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(TIMESTAMP)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.parametrize("case", list(CASES))
def test_a_fix_saves_what_the_rebuild_drops(podman: Podman, case: str, tmp_path: Path) -> None:
    mistake, kind, layer, says, fixed, files = CASES[case]
    files = dict(files)
    if "src.tar" in files:
        files["src.tar"] = _src_tar(tmp_path)
    before = podman.build(f"{case}-mistake", mistake, files)
    fixed_files = dict(files)
    if kind is FixKind.SECRET:
        fixed_files = {"secret.txt": files["id_rsa"]}
    after = podman.build(f"{case}-fixed", fixed, fixed_files)
    fx = fixes_of(before)
    fix = only(fx, kind)
    assert fix.layer == layer, fix
    assert says in fix.change, fix.change
    measured = content_bytes(before) - content_bytes(after)
    print(f"\nrebuild {case}: predicted {fix.saves} B, measured {measured} B")
    assert fix.saves == measured, (fix.saves, measured)
    assert fx.after(fix) == content_bytes(after)
    # the fixed image has nothing left to fix
    assert fixes_of(after).user == ()


def test_fixes_together_save_what_the_rebuild_of_all_drops(podman: Podman) -> None:
    """Several mistakes in one Containerfile, each fix once: the sum is the
    rebuild's difference (no byte counted by two fixes)."""
    mistake = (
        f"FROM {BASE}\n"
        "COPY data.bin /app/data.bin\n"
        "RUN mkdir -p /root/.cache/pip/http && head -c 70000 /bin/busybox > /root/.cache/pip/http/x "
        "&& head -c 50000 /bin/busybox > /tmp/scratch\n"
        "RUN chmod 0640 /app/data.bin && rm /tmp/scratch && rm -rf /root/.cache/pip\n"
        "COPY data.bin /app/copy.bin\n"
        "COPY data.bin /app/copy.bin\n"
    )
    fixed = (
        f"FROM {BASE}\n"
        "COPY --chmod=0640 data.bin /app/data.bin\n"
        "RUN mkdir -p /root/.cache/pip/http && head -c 70000 /bin/busybox > /root/.cache/pip/http/x "
        "&& head -c 50000 /bin/busybox > /tmp/scratch && rm -rf /root/.cache/pip && rm -rf /tmp/scratch\n"
        "COPY data.bin /app/copy.bin\n"
    )
    files = {"data.bin": blob(33_000, 9)}
    before = podman.build("all-mistake", mistake, files)
    after = podman.build("all-fixed", fixed, files)
    fx = fixes_of(before)
    kinds = sorted(f.kind.value for f in fx.user)
    assert kinds == sorted(
        [FixKind.METADATA.value, FixKind.CACHE.value, FixKind.DELETED.value, FixKind.IDENTICAL.value]
    ), [(f.kind, f.layer, f.paths, f.saves) for f in fx.user]
    measured = content_bytes(before) - content_bytes(after)
    print(f"\nrebuild all: predicted {fx.fixable_bytes} B, measured {measured} B")
    assert fx.fixable_bytes == measured, (fx.fixable_bytes, measured)
    assert fx.after() == content_bytes(after)


def _worked_containerfiles() -> tuple[str, str]:
    """The two Containerfiles of docs/fixes.md's worked example, in order."""
    import re

    section = _DOC.read_text().split("## A worked example", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```dockerfile\n(.*?)```", section, re.S)
    assert len(blocks) == 2, blocks
    return blocks[0], blocks[1]


def _app_tar() -> bytes:
    import io

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, n, seed in (("opt/app/server", 400_000, 1), ("opt/app/lib.so", 250_000, 2)):
            data = blob(n, seed)
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o700, int(TIMESTAMP)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


_DOC = Path(__file__).parent.parent / "docs" / "fixes.md"


def test_the_worked_example_is_what_a_rebuild_gives(podman: Podman, monkeypatch: pytest.MonkeyPatch) -> None:
    mistake, fixed = (c.replace("FROM base\n", f"FROM {BASE}\n", 1) for c in _worked_containerfiles())
    files = {"app.tar": _app_tar()}
    before = podman.build("readme-mistake", mistake, files)
    after = podman.build("readme-fixed", fixed, files)
    fx = fixes_of(before)
    assert [(f.kind, f.layer, f.saves) for f in fx.user] == [
        (FixKind.CACHE, 3, 900_000),
        (FixKind.DELETED, 2, 655_360),  # the tar: 650,000 B of members, headers, padding
        (FixKind.METADATA, 4, 650_000),
    ]
    measured = content_bytes(before) - content_bytes(after)
    assert measured == fx.fixable_bytes == 2_205_360
    assert fixes_of(after).user == ()
    doc = _DOC.read_text()
    assert f"{content_bytes(before):,} B to {content_bytes(after):,} B" in doc
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert f"drops by {measured:,} B" in readme
    # the output the page shows is the report's at 80 columns, its paths lines left out
    monkeypatch.setenv("COLUMNS", "80")
    rc, out, _ = run_cli("report", str(before))
    assert rc == 0
    shown = "".join(line + "\n" for line in out.split("\nFixes: ", 1)[1].splitlines() if "paths: " not in line)
    assert "\nFixes: " + shown in doc
    assert shown.splitlines()[0] in readme
