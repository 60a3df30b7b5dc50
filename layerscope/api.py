"""One call from a path to a merged image: the entry point views build on.

``open_source`` (re-exported from ``sources``) describes the image; ``read``
takes the description to the model: ``read_layers`` reads it through the
core, ``merge`` merges it. Each stage makes a new value and changes none.
"""

from __future__ import annotations

import gc
import threading
import time

from .errors import LayerscopeError
from .loader import ProgressFn, read_layers
from .merge import Merged, merge
from .model import Image
from .sources import open_source

__all__ = ["BackgroundLoad", "base_value", "load", "open_source", "read"]


def read(description: Image, progress: ProgressFn | None = None, workers: int | None = None) -> Merged:
    """The model of a described image: every layer read through the core, then
    merged. The description is left as it was (it can be read again)."""
    return merge(read_layers(description, progress, workers))


def load(
    path: str,
    platform: str | None = None,
    image_ref: str | None = None,
    progress: ProgressFn | None = None,
    workers: int | None = None,
    upper: str | None = None,
) -> Merged:
    """Open, read every layer and merge. Raises LayerscopeError on unusable input."""
    return read(open_source(path, platform, image_ref, upper), progress, workers)


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


class BackgroundLoad:
    """Reads every layer and merges on a thread of its own, started as soon as
    the manifest is read: the terminal UI starts it before it even imports
    Textual, so the core is scanning layers while the interface is built.

    The cyclic garbage collector is off while the model is built (it would
    re-scan millions of new acyclic objects and could free none of them); the
    thread freezes what it built and turns the collector back on.
    """

    def __init__(self, image: Image, workers: int | None = None) -> None:
        self.image = image  # the description: the model is ``result().image``
        self.progress: dict[int, int] = {}  # layer index -> uncompressed bytes read so far
        self._workers = workers
        self._done = threading.Event()
        self._merged: Merged | None = None
        self._error: BaseException | None = None
        self.seconds: float | None = None  # reading and merging took this long, once done
        self._started = time.perf_counter()
        gc.disable()
        self._thread = threading.Thread(target=self._run, name="layerscope-load", daemon=True)
        self._thread.start()

    def _on_progress(self, index: int, nbytes: int) -> None:
        self.progress[index] = nbytes

    def _run(self) -> None:
        try:
            self._merged = read(self.image, self._on_progress, self._workers)
        except BaseException as exc:  # handed to whoever waits for the result
            self._error = exc
        finally:
            gc.freeze()
            gc.enable()
            self.seconds = time.perf_counter() - self._started
            self._done.set()

    def result(self) -> Merged:
        """The merged image, once read (re-raises what stopped the read)."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._merged is not None
        return self._merged
