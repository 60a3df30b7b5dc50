"""Where images come from: one table of schemes, one call that opens any of them.

Every source turns what the user typed into an ``Image``: the manifest's and
config's description with one opener per layer blob, no layer read yet (the
core reads them next: ``loader.read_layers``). Each scheme's module is
imported only when a reference of that scheme is opened, so a command on a
file never pays for a registry's HTTP stack or an engine's helpers.

To add a source: a module here with a function of the ``Opener`` shape, and a
row in ``SCHEMES``.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import LayerscopeError
from ..model import Image

# (spec as typed, --platform, --image) -> the image, layers not read yet
Opener = Callable[[str, str | None, str | None], Image]


def _engine(spec: str, platform: str | None, image_ref: str | None) -> Image:
    from .engine import open_engine_image

    return open_engine_image(spec, platform, image_ref)


def _container(spec: str, platform: str | None, image_ref: str | None) -> Image:
    from .container import open_container

    return open_container(spec, platform, image_ref)


def _registry(spec: str, platform: str | None, image_ref: str | None) -> Image:
    from .registry import open_registry_image

    return open_registry_image(spec, platform, image_ref)


def _archive(spec: str, platform: str | None, image_ref: str | None) -> Image:
    from .image import open_archive

    return open_archive(spec, platform, image_ref)


# Prefix -> opener, and whether what it opens already has a writable layer.
SCHEMES: dict[str, tuple[Opener, bool]] = {
    "docker://": (_engine, False),
    "podman://": (_engine, False),
    "container://": (_container, True),
    "podman-container://": (_container, True),
    "docker-container://": (_container, True),
    "registry://": (_registry, False),
}


def scheme_of(spec: str) -> str | None:
    """The scheme prefix ``spec`` starts with, or None for a file or directory."""
    return next((prefix for prefix in SCHEMES if spec.startswith(prefix)), None)


def open_source(
    spec: str, platform: str | None = None, image_ref: str | None = None, upper: str | None = None
) -> Image:
    """Open an image file/dir, ``docker://REF`` / ``podman://REF`` through the
    engine, ``container://NAME`` (its image plus its writable layer), or
    ``registry://HOST/REPO[:TAG|@DIGEST]`` straight from a registry.

    ``upper``: an overlay upper directory to put on top of the image as a
    container's writable layer (``--upper DIR``).
    """
    prefix = scheme_of(spec)
    opener, has_upper = SCHEMES[prefix] if prefix is not None else (_archive, False)
    if upper is None:
        return opener(spec, platform, image_ref)
    if has_upper:
        raise LayerscopeError(f"--upper {upper}: {spec} already has its writable layer")
    from .container import with_upper

    put_on = with_upper(upper)  # a bad directory fails before the image is opened
    return put_on(opener(spec, platform, image_ref))
