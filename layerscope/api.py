"""One call from a path to a merged image: the entry point views build on."""

from __future__ import annotations

from .loader import ProgressFn, open_image, read_layers
from .merge import Merged, merge


def load(
    path: str,
    platform: str | None = None,
    image_ref: str | None = None,
    progress: ProgressFn | None = None,
    workers: int = 2,
) -> Merged:
    """Open, read every layer and merge. Raises LayerscopeError on unusable input."""
    image = open_image(path, platform, image_ref)
    read_layers(image, progress, workers)
    return merge(image)
