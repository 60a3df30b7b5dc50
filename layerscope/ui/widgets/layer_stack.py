"""The layer stack: one row per layer, base at the top, empty history between.

Empty history entries (ENV, CMD, LABEL…) appear where they happened but are
disabled options, so the cursor skips them: they belong to no layer. Rows are
laid out for the pane's width (``layer_rows``); the highlighted layer also
shows its whole command. The layers of the base image (known from the
config before the first paint, see ``set_base``) are marked and a rule
separates them from the image's own; a damaged layer (``Image.layer_damage``,
known once the layers are read) says so on its row.
"""

from __future__ import annotations

from dataclasses import replace

from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ...analysis import BaseInfo
from ...model import Image
from .layer_rows import BaseRule, Columns, LayerRow, StepRow, columns_for
from .steady import SteadyScroll

BASE_RULE_ID = "base-rule"


class LayerStack(SteadyScroll, OptionList):
    """Selecting (highlighting) a layer re-roots the rest of the screen at it."""

    class LayerChosen(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.image: Image | None = None
        self.loaded = False
        self.base = BaseInfo()
        self._expanded: int | None = None  # option index whose row shows the whole command
        self._max_lines = 4
        self._cols = Columns(2, 5, (), False)
        self._damage: dict[int, str] = {}
        self._reserve_mark = False  # keep the base-mark column before the base is known

    def show_image(self, image: Image, loaded: bool) -> None:
        keep = self.highlighted_layer
        self.image = image
        self.loaded = loaded
        self._damage = image.layer_damage() if loaded else {}
        self._rebuild(keep if keep is not None else len(image.layers) - 1)

    def set_base(self, base: BaseInfo) -> None:
        """Mark the base image's layers. The app tells them before ``show_image``
        when they come from the config (cheap), so the rows never shift; a
        ``--base IMAGE`` is told when the audit has read it."""
        if base.layers != self.base.layers and self.image is not None:
            self.base = base
            self._rebuild(self.highlighted_layer)
        self.base = base

    def reserve_base_mark(self) -> None:
        """Keep the base mark's column from the start (``--base IMAGE``: the
        audit tells the base later), so the rows do not move when it does."""
        self._reserve_mark = True

    def _rebuild(self, target: int | None) -> None:
        image = self.image
        assert image is not None
        nbase = self.base.layers
        cols = columns_for(image, self.loaded, nbase)
        if self._reserve_mark and not cols.gutter:
            cols = replace(cols, gutter=True)
        options: list[Option] = []
        mapped: set[int] = set()
        rule_done = nbase == 0 or nbase >= len(image.layers)

        def layer_option(index: int) -> Option:
            nonlocal rule_done
            if not rule_done and index >= nbase:
                options.append(Option(BaseRule(nbase, self.base.ref), id=BASE_RULE_ID, disabled=True))
                rule_done = True
            return Option(self._row(index, cols, False), id=f"L{index}")

        for n, h in enumerate(image.history):
            if h.layer is None or h.layer >= len(image.layers):
                options.append(Option(StepRow(h.created_by, cols), id=f"h{n}", disabled=True))
            else:
                mapped.add(h.layer)
                options.append(layer_option(h.layer))
        for layer in image.layers:  # layers the history does not account for
            if layer.index not in mapped:
                options.append(layer_option(layer.index))
        self._cols = cols
        self._expanded = None
        self.clear_options()
        self.add_options(options)
        if image.layers and target is not None:
            self.select_layer(target, notify=False)

    def _row(self, index: int, cols: Columns, expanded: bool) -> LayerRow:
        assert self.image is not None
        layer = self.image.layers[index]
        base = index < self.base.layers
        return LayerRow(layer, self.loaded, cols, base, expanded, self._max_lines, self._damage.get(index))

    def _expand(self, position: int | None) -> None:
        """Show the whole command of the layer at ``position`` (and only there)."""
        if position == self._expanded or self.image is None:
            return
        for pos, expanded in ((self._expanded, False), (position, True)):
            if pos is None or pos >= self.option_count:
                continue
            opt = self.get_option_at_index(pos)
            if opt.id and opt.id.startswith("L"):
                self._replace_row(pos, self._row(int(opt.id[1:]), self._cols, expanded))
        self._expanded = position

    def _replace_row(self, pos: int, row: LayerRow) -> None:
        """The row at ``pos`` says ``row`` now (OptionList's public way: it measures the rows again)."""
        self.replace_option_prompt_at_index(pos, row)

    def watch_highlighted(self, highlighted: int | None) -> None:
        self._expand(highlighted)
        super().watch_highlighted(highlighted)

    def on_resize(self) -> None:
        # a short pane gives the highlighted command fewer lines
        lines = max(2, (self.size.height - 2) // 3)
        if lines != self._max_lines and self.image is not None:
            self._max_lines = lines
            pos, self._expanded = self._expanded, None
            self._expand(pos)
        # Rows re-wrap at the new width (their heights change) and the pane may
        # be shorter: the kept scroll offset can leave the cursor out of sight.
        # Once the rows are measured again, bring it back.
        self.call_after_refresh(self._keep_highlight_visible)

    def _keep_highlight_visible(self) -> None:
        if self.highlighted is not None and self.is_attached:
            self.scroll_to_highlight(top=False)

    @property
    def highlighted_layer(self) -> int | None:
        if self.highlighted is None or not self.option_count:
            return None
        opt = self.get_option_at_index(self.highlighted)
        return int(opt.id[1:]) if opt.id and opt.id.startswith("L") else None

    def select_layer(self, index: int, notify: bool = True) -> None:
        try:
            pos = self.get_option_index(f"L{index}")
        except Exception:
            return
        if not notify:
            with self.prevent(OptionList.OptionHighlighted):
                self.highlighted = pos
        else:
            self.highlighted = pos
        self.scroll_to_highlight()

    def _step(self, direction: int) -> None:
        # No wrap-around: past the top layer is not the base layer.
        i = (self.highlighted if self.highlighted is not None else -1) + direction
        while 0 <= i < self.option_count:
            if not self.get_option_at_index(i).disabled:
                self.highlighted = i
                return
            i += direction

    def action_cursor_up(self) -> None:
        self._step(-1)

    def action_cursor_down(self) -> None:
        self._step(1)

    def _on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        idx = self.highlighted_layer
        if idx is not None:
            self.post_message(self.LayerChosen(idx))
