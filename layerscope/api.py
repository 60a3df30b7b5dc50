"""One call from a path to a merged image: the entry point views build on."""

from __future__ import annotations

from .errors import LayerscopeError
from .loader import ProgressFn, open_image, read_layers
from .merge import Merged, merge
from .model import Image


def open_source(path: str, platform: str | None = None, image_ref: str | None = None) -> Image:
    """Open an image file/dir, or ``docker://REF`` / ``podman://REF`` through the engine."""
    from .engines import is_engine_ref, open_engine_image

    if is_engine_ref(path):
        return open_engine_image(path, platform, image_ref)
    return open_image(path, platform, image_ref)


def load(
    path: str,
    platform: str | None = None,
    image_ref: str | None = None,
    progress: ProgressFn | None = None,
    workers: int = 2,
) -> Merged:
    """Open, read every layer and merge. Raises LayerscopeError on unusable input."""
    image = open_source(path, platform, image_ref)
    read_layers(image, progress, workers)
    return merge(image)


def base_value(spec: str | None, platform: str | None = None) -> tuple[int | Image | None, str | None]:
    """--base: None/'auto' -> detect; 'none' -> 0; N -> count; else an image (config only is read).

    Errors name the flag: a bad ``--base`` must not read like a bad IMAGE.
    """
    if spec is None or spec == "auto":
        return None, None
    if spec == "none":
        return 0, None
    if spec.isdigit():
        return int(spec), None
    if spec.lstrip("-+").isdigit():
        raise LayerscopeError(f"--base {spec}: a layer count is 0 or more")
    try:
        return open_source(spec, platform), spec
    except LayerscopeError as exc:
        raise LayerscopeError(f"--base {exc}") from None
