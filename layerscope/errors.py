"""One exception hierarchy for image problems, caught once at the CLI edge."""

from __future__ import annotations


class LayerscopeError(Exception):
    """A problem the user must hear about in one line (never a traceback)."""


class ImageError(LayerscopeError):
    """The image (archive, layout, manifest, config or a layer) is unusable."""


class LayerReadError(ImageError):
    """A layer stream cannot be read; the rest of the image may still load."""


class SelectionError(LayerscopeError):
    """The image holds several images/platforms and the choice is ambiguous."""
