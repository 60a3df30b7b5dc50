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


# The core's own failures, defined once in Rust (``src/pymodel.rs``, ``src/py.rs``)
# and raised across the boundary as these types, never as strings: ``CoreError``
# is a caught panic (a bug), ``ReadError`` a blob that cannot be read or
# decompressed (an ``OSError``, so callers that catch those still do).
from ._core import CoreError as CoreError  # noqa: E402
from ._core import ReadError as ReadError  # noqa: E402
