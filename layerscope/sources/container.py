"""Containers: ``container://NAME``, and ``--upper DIR`` on top of an image.

A container is its image's read-only layers plus the one writable layer the
engine put on top when it created the container: every file the container
wrote, copied up to change its mode, or deleted (a whiteout) is there, while
the image's bytes stay underneath. layerscope shows that layer as one more
layer of kind ``container`` on top of the image, so the merge, the waste
accounting, the findings and every view see what the container changed, hid
and deleted.

``container://NAME`` asks podman, then docker, to ``inspect`` the container
(``podman-container://`` / ``docker-container://`` ask only that one;
``LAYERSCOPE_PODMAN`` / ``LAYERSCOPE_DOCKER`` override the commands as for
``podman://``). The image layers come from ``ENGINE save IMAGE-ID``. The
writable layer is read where the engine keeps it: with an overlay driver, the
upper directory ``inspect`` names (:mod:`.sources.overlay`); when that
directory cannot be read, through ``ENGINE diff`` and ``ENGINE export``
(:mod:`.sources.exported`), with a warning saying what that view cannot tell.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..errors import LayerscopeError
from ..model import CONTAINER_LAYER, CONTAINER_NOTE, ContainerInfo, Image, Layer, LoadWarning
from .engine import EngineError, engine_command, open_engine_image
from .exported import ExportError, engine_diff, rebuild
from .overlay import UpperDir, UpperDirError, upper_layer

SCHEMES = {"container://": None, "podman-container://": "podman", "docker-container://": "docker"}
ENGINES = ("podman", "docker")
OVERLAY_DRIVERS = ("overlay", "overlay2", "overlayfs", "fuse-overlayfs")
INSPECT_TIMEOUT = 120


def parse_container_ref(spec: str) -> tuple[str | None, str] | None:
    """``container://web`` -> (None, "web"); ``docker-container://web`` -> ("docker", "web"); None for others."""
    for prefix, engine in SCHEMES.items():
        if spec.startswith(prefix):
            name = spec[len(prefix) :]
            if not name:
                raise EngineError(f"{spec}: missing container name or id after {prefix}")
            return engine, name
    return None


def _inspect(cmd: list[str], name: str) -> dict[str, Any] | str:
    """The container's ``inspect`` object, or why there is none."""
    try:
        proc = subprocess.run(
            [*cmd, "inspect", "--type", "container", name],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=INSPECT_TIMEOUT,
            check=False,
        )
    except OSError as exc:
        return f"cannot run {cmd[0]} ({exc.strerror})"
    except subprocess.TimeoutExpired:
        return f"{cmd[0]} inspect did not answer in {INSPECT_TIMEOUT} s"
    if proc.returncode != 0:
        lines = [ln.strip() for ln in proc.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
        return (lines[-1] if lines else f"exit status {proc.returncode}")[:300]
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        return "inspect printed no JSON"
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return data[0]
    return "inspect printed no container"


def find_container(spec: str) -> tuple[str, list[str], dict[str, Any]]:
    """(engine, its command, the container's ``inspect`` object); podman first unless the scheme names one."""
    parsed = parse_container_ref(spec)
    if parsed is None:
        raise EngineError(f"{spec}: not a container:// reference")
    forced, name = parsed
    why: list[str] = []
    for engine in (forced,) if forced else ENGINES:
        try:
            cmd = engine_command(engine, spec)
        except EngineError as exc:
            if forced:
                raise
            why.append(f"{engine}: {str(exc).removeprefix(spec + ': ')}")
            continue
        found = _inspect(cmd, name)
        if isinstance(found, dict):
            return engine, cmd, found
        why.append(f"{engine}: {found}")
    raise EngineError(f"{spec}: no such container ({'; '.join(why)})")


def _str(obj: Any, *keys: str) -> str:
    for k in keys:
        obj = obj.get(k) if isinstance(obj, dict) else None
    return obj if isinstance(obj, str) else ""


def container_info(engine: str, data: dict[str, Any]) -> ContainerInfo:
    """What podman's and docker's ``inspect`` say, in one shape (docker names start with ``/``)."""
    return ContainerInfo(
        engine=engine,
        name=_str(data, "Name").lstrip("/"),
        id=_str(data, "Id"),
        state=_str(data, "State", "Status"),
        image=_str(data, "ImageName") or _str(data, "Config", "Image"),
        image_id=_str(data, "Image"),
        driver=_str(data, "GraphDriver", "Name"),
        upper_dir=_str(data, "GraphDriver", "Data", "UpperDir") or None,
        read_via="upper-dir",
    )


def _remote(engine: str, cmd: list[str]) -> bool:
    """Does the engine run on another machine (its paths are not ours)?"""
    if engine == "docker":
        host = os.environ.get("DOCKER_HOST", "")
        return bool(host and not host.startswith("unix://")) or any(a in ("-H", "--host") for a in cmd)
    return bool(os.environ.get("CONTAINER_HOST")) or any(
        a in ("-r", "--remote", "--url", "--connection") or a.startswith(("--url=", "--connection=")) for a in cmd
    )


def _open_upper(info: ContainerInfo, engine: str, cmd: list[str]) -> UpperDir | str:
    """The upper directory, opened, or why it cannot be read here."""
    if info.driver not in OVERLAY_DRIVERS:
        return f"the {info.driver or 'unknown'} storage driver keeps no overlay upper directory"
    if not info.upper_dir:
        return "inspect names no upper directory"
    if _remote(engine, cmd):
        return f"{engine} runs on another machine"
    try:
        return UpperDir(info.upper_dir)
    except UpperDirError as exc:
        return str(exc)


def _note(layer: Layer, message: str) -> Layer:
    """The layer with a note on how it was read."""
    return replace(layer, warnings=(*layer.warnings, LoadWarning(CONTAINER_NOTE, message, layer.index)))


def open_container(spec: str, platform: str | None = None, image_ref: str | None = None) -> Image:
    """The container's image (saved from the engine) with its writable layer on top (layers not read yet)."""
    engine, cmd, data = find_container(spec)
    info = container_info(engine, data)
    who = info.name or spec
    if not info.image_id:
        raise EngineError(f"{spec}: {engine} names no image for this container (made from a root filesystem?)")
    try:
        image = open_engine_image(f"{engine}://{info.image_id}", platform, image_ref)
    except LayerscopeError as exc:
        raise EngineError(f"{spec}: cannot read the container's image {info.image or info.image_id}: {exc}") from None
    index = len(image.layers)
    command = f"container {who} ({info.state or 'state unknown'}): writable layer"
    upper = _open_upper(info, engine, cmd)
    if isinstance(upper, UpperDir):
        layer = upper_layer(upper, index, command)
        if info.state in ("running", "paused"):
            layer = _note(
                layer, f"{spec}: the container is {info.state}: its writable layer may change while it is read"
            )
    else:
        layer = _exported_layer(spec, engine, cmd, info, index, command, upper)
        info = replace(info, read_via="diff-export", upper_dir=None)  # not read: the layer's note says why
    return replace(
        image, source=spec, ref=image.ref or info.image or None, layers=(*image.layers, layer), container=info
    )


def _exported_layer(
    spec: str, engine: str, cmd: list[str], info: ContainerInfo, index: int, command: str, why: str
) -> Layer:
    """The writable layer rebuilt from ``ENGINE diff`` and ``ENGINE export`` (see :mod:`.sources.exported`)."""
    name = info.id or info.name
    tmp = tempfile.mkdtemp(prefix="layerscope-container-")  # mode 0700
    try:
        changes = engine_diff(cmd, name, spec)
        path, _ = rebuild(cmd, name, spec, changes, tmp)
        fh = open(path, "rb")  # noqa: SIM115 - the layer keeps it open for content reads
    except ExportError as exc:
        raise EngineError(str(exc)) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the open file keeps the layer readable
    size = os.fstat(fh.fileno()).st_size

    def open_blob() -> Any:
        # A new descriptor on the same (unlinked) file for every reader: reads run in parallel.
        return os.fdopen(os.dup(fh.fileno()), "rb")

    layer = Layer(
        index=index,
        digest=None,
        media_type=None,
        compressed_bytes=size,
        open_blob=open_blob,
        source_name=f"{engine} diff + export of {info.name or name}",
        command=command,
        kind=CONTAINER_LAYER,
    )
    layer = _note(
        layer,
        f"{spec}: writable layer read through `{engine} diff` and `{engine} export`, not from its upper "
        f"directory ({why}): it holds what the diff lists ({len(changes.added)} added, {len(changes.changed)} "
        f"changed, {len(changes.deleted)} deleted), so a copy-up the diff does not list (one that changed "
        "nothing, with drivers that compare files by size, mode and time) is not seen; modes, owners and "
        "xattrs are as the export writes them; opaque directories show as deleted and re-created",
    )
    if changes.unparsed:
        layer = _note(
            layer,
            f"{spec}: {changes.unparsed} line{'' if changes.unparsed == 1 else 's'} of `{engine} diff` "
            "not understood; left out",
        )
    return layer


def with_upper(path: str) -> Callable[[Image], Image]:
    """``--upper DIR``: open the directory now (a bad one is the first error), and
    return what puts it on top of an image as a container's writable layer."""
    try:
        upper = UpperDir(path)
    except UpperDirError as exc:
        raise LayerscopeError(f"--upper {exc}") from None

    def put_on(image: Image) -> Image:
        layer = upper_layer(upper, len(image.layers), f"writable layer from {path}")
        container = ContainerInfo(
            engine="",
            name="",
            id="",
            state="",
            image=image.ref or image.source,
            image_id=image.config_digest or "",
            driver="overlay",
            upper_dir=path,
            read_via="upper-dir",
        )
        return replace(image, layers=(*image.layers, layer), container=container)

    return put_on
