"""Images from a container engine: ``docker://REF`` and ``podman://REF``.

The engine's ``save`` command streams a docker-archive on its stdout. The
loader needs random access to the archive (it reads the manifest first and
then each layer blob in place, in parallel), so the stream goes into a file in
a private temporary directory (mode 0700). The file is unlinked as soon as the
archive is opened: the open descriptor keeps the data readable for lazy
content reads, and nothing is left behind even if layerscope is killed later.

``LAYERSCOPE_DOCKER`` / ``LAYERSCOPE_PODMAN`` override the engine command,
e.g. ``LAYERSCOPE_PODMAN="podman --root /srv/store --runroot /run/store"``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import replace

from ..errors import ImageError, LayerscopeError
from ..model import Image
from .image import open_archive

SCHEMES = {"docker://": "docker", "podman://": "podman"}


class EngineError(LayerscopeError):
    """The engine is missing or could not save the image."""


def parse_ref(spec: str) -> tuple[str, str] | None:
    """``docker://alpine:3`` -> ("docker", "alpine:3"); None for a plain path."""
    for prefix, engine in SCHEMES.items():
        if spec.startswith(prefix):
            ref = spec[len(prefix) :]
            if not ref:
                raise EngineError(f"{spec}: missing image reference after {prefix}")
            return engine, ref
    return None


def engine_command(engine: str, spec: str = "") -> list[str]:
    override = os.environ.get(f"LAYERSCOPE_{engine.upper()}")
    cmd = shlex.split(override) if override else [engine]
    if not cmd or shutil.which(cmd[0]) is None:
        raise EngineError(
            f"{spec or engine + '://'}: the {cmd[0] if cmd else engine} command is not installed or not on PATH"
        )
    return cmd


def save(engine: str, ref: str, dest_dir: str) -> str:
    """Run ``ENGINE save REF`` into ``dest_dir/image.tar``; return that path."""
    cmd = [*engine_command(engine, f"{engine}://{ref}"), "save"]
    if engine == "podman":
        cmd += ["--format", "docker-archive"]
    cmd.append(ref)
    path = os.path.join(dest_dir, "image.tar")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        try:
            proc = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, check=False)
        except OSError as exc:
            raise EngineError(f"{engine}://{ref}: cannot run {cmd[0]} ({exc.strerror})") from None
    if proc.returncode != 0:
        lines = [ln.strip() for ln in proc.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
        why = lines[-1] if lines else f"exit status {proc.returncode}"
        raise EngineError(f"{engine}://{ref}: {engine} save failed: {why[:300]}")
    if os.path.getsize(path) == 0:
        raise EngineError(f"{engine}://{ref}: {engine} save wrote nothing")
    return path


def open_engine_image(spec: str, platform: str | None = None, image_ref: str | None = None) -> Image:
    """Save the image from the engine and open it (layers not read yet)."""
    parsed = parse_ref(spec)
    if parsed is None:
        raise EngineError(f"{spec}: not a docker:// or podman:// reference")
    engine, ref = parsed
    tmp = tempfile.mkdtemp(prefix="layerscope-engine-")  # mode 0700
    try:
        path = save(engine, ref, tmp)
        try:
            image = open_archive(path, platform, image_ref)
        except ImageError as exc:
            raise EngineError(f"{spec}: {engine} save produced an unreadable archive ({exc})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the open descriptor keeps the archive readable
    return replace(image, source=spec)
