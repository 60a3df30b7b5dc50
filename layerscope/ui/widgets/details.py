"""Details of the selected layer and of the image (config, warnings)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ...analysis import LayerWaste
from ...fmt import plural
from ...model import Image, Layer
from ...text.report import layers_text
from .. import literal
from ..format import human_size
from ..palette import CLASS_MARK, CLASS_STYLE
from .lines import LinesPane


class DetailsPane(LinesPane):
    """The selected layer's details above the image's, in one pane of fixed size;
    above them, in an image with packages, the owner of the highlighted file.

    The details change on every layer change and their height with them. As
    two auto-height widgets in a scrolling container, each change re-laid out
    and redrew the whole screen (~55 ms at 160×48 on a big image, measured).
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text(), Text(), id=id)
        self._layer: RenderableType = Text()
        self._image: RenderableType = Text()
        self._file: RenderableType | None = None

    def show_layer(self, renderable: RenderableType) -> None:
        self._layer = renderable
        self._show()

    def show_image(self, renderable: RenderableType) -> None:
        self._image = renderable
        self._show()

    def show_file(self, renderable: RenderableType | None) -> None:
        """The highlighted path's part (None: none, as in an image without packages)."""
        if renderable is None and self._file is None:
            return
        self._file = renderable
        self._show()

    def _show(self) -> None:
        if self._file is None:
            self.show(self._layer, self._image)
        else:
            self.show(self._file, self._layer, self._image)


def _kv() -> Table:
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold", no_wrap=True)
    t.add_column(overflow="fold")
    return t


def layer_details(
    layer: Layer,
    loaded: bool,
    waste: LayerWaste | None = None,
    damage: tuple[str, str] | None = None,
    warnings: Sequence[str] = (),
) -> RenderableType:
    """``damage``: (``DAMAGED`` or ``UNVERIFIED``, the first problem), from ``Image.layer_damage``;
    ``warnings``: more of the layer's (a package database it could not read)."""
    t = _kv()
    t.add_row(Text(f"Layer {layer.label}", style="bold underline"), "")
    if damage is not None:
        word, problem = damage
        t.add_row(Text(word, style="bold red reverse"), literal.text(problem, style="bold red"))
    elif layer.error:
        t.add_row("DAMAGED", literal.text(layer.error, style="bold red"))
    t.add_row("Command", literal.text(layer.command or "(no history)"))
    if layer.created:
        t.add_row("Created", literal.text(layer.created))
    t.add_row("Digest", literal.text(layer.digest or layer.computed_digest or "?"))
    t.add_row("DiffID", literal.text(layer.diff_id or layer.computed_diff_id or "?"))
    t.add_row("Blob", Text(f"{human_size(layer.compressed_bytes)} {layer.compression or ''}".strip()))
    if loaded:
        c = layer.counts
        t.add_row("Content", Text(f"{human_size(layer.size_bytes)} in {plural(c.entries, 'entry', 'entries')}"))
        counts = Text()
        for n, cls, label in (
            (c.added, "added", "added"),
            (c.modified, "modified", "modified"),
            (c.type_changed, "type-changed", "type-changed"),
            (c.metadata, "metadata", "metadata-only"),
            (c.rewritten, "rewritten", "rewritten"),
            (c.deleted, "deleted", "deleted"),
        ):
            style = CLASS_STYLE[cls].replace("strike", "").strip()
            counts.append(f"{CLASS_MARK[cls]}{n} {label}", style=style if n else "dim")
            counts.append("  ")
        counts.rstrip()
        t.add_row("Changes", counts)
        if layer.whiteouts or layer.opaque_dirs:
            t.add_row(
                "Markers",
                Text(f"{plural(len(layer.whiteouts), 'whiteout')}, {plural(len(layer.opaque_dirs), 'opaque dir')}"),
            )
    if waste is not None:
        t.add_row("Waste", Text(f"{human_size(waste.shipped.total)} of this layer's bytes are hidden above it"))
        t.add_row(
            "Hides", Text(f"{human_size(waste.caused.total)} of lower layers' bytes (overwritten/copied/deleted)")
        )
        if waste.base:
            t.add_row("Base", Text("part of the base image", style="dim"))
    for w in [*layer.messages(), *warnings][:20]:
        t.add_row("Warning", literal.text(w, style="yellow"))
    return t


def file_details(path: str, owner: str) -> RenderableType:
    """The highlighted path and the package that owns it (``deb:curl@7.88.1-10``, or why none)."""
    t = _kv()
    t.add_row("Path", literal.text(path))
    t.add_row("Owner", literal.text(owner, style="dim" if owner.startswith("none") else ""))
    return t


def image_details(image: Image) -> RenderableType:
    cfg = image.config
    t = _kv()
    t.add_row(Text("Image", style="bold underline"), "")
    t.add_row("Source", literal.text(image.source))
    t.add_row("Format", literal.text(image.format))
    t.add_row("Ref", literal.text(image.ref or "-"))
    t.add_row("Platform", literal.text(image.platform or "-"))
    t.add_row("Config", literal.text(image.config_digest or "-"))
    t.add_row("Layers", Text(layers_text(image)))  # the words of report's header
    blobs = sum(la.compressed_bytes for la in image.layers)
    t.add_row("Size", Text(f"{human_size(image.size_bytes)} content, {human_size(blobs)} blobs"))
    if cfg.created:
        t.add_row("Created", literal.text(cfg.created))
    t.add_row("Entrypoint", literal.text(" ".join(cfg.entrypoint or []) or "-"))
    t.add_row("Cmd", literal.text(" ".join(cfg.cmd or []) or "-"))
    t.add_row("User", literal.text(cfg.user or "(root)"))
    t.add_row("Workdir", literal.text(cfg.workdir or "/"))
    for e in cfg.env:
        t.add_row("Env", literal.text(e))
    for k, v in sorted(cfg.labels.items()):
        t.add_row("Label", literal.text(f"{k}={v}"))
    if cfg.exposed_ports:
        t.add_row("Ports", literal.text(", ".join(cfg.exposed_ports)))
    if cfg.volumes:
        t.add_row("Volumes", literal.text(", ".join(cfg.volumes)))
    parts: list[RenderableType] = [t]
    messages = image.messages()
    if messages:
        w = Text(f"\n{plural(len(messages), 'warning')} while loading:\n", style="bold yellow")
        for msg in messages[:200]:
            w.append_text(literal.text(f"! {msg}", style="yellow"))
            w.append("\n")
        parts.append(w)
    return Group(*parts)
