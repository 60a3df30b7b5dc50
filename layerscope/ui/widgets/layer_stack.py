"""The layer stack: one row per layer, base at the top, empty history between.

Empty history entries (ENV, CMD, LABEL…) appear where they happened but are
disabled rows, so the cursor skips them: they belong to no layer. Rows are
laid out for the pane's width (``layer_rows``); the highlighted layer also
shows its whole command. The layers of the base image (known from the
config before the first paint, see ``set_base``) are marked and a rule
separates them from the image's own; a damaged layer (``Image.layer_damage``,
known once the layers are read) says so on its row.

The stack draws its own lines (a ``ScrollView`` with ``render_line``, as
``DrawnTree`` does). It was an ``OptionList``, whose only public way to change
one row's text (``replace_option_prompt_at_index``) forgets every row's drawn
lines and heights: a layer change, which folds one command and unfolds
another, measured and drew the whole stack again twice. Here each row keeps
its strips and its height, a layer change draws the two rows whose command
folds or unfolds, and only the lines that changed or moved are repainted.
It looks as the ``OptionList`` did: the same component classes and styles,
and each row rendered the way it rendered one (``visualize`` and
``Visual.to_strips``), so the screens are the same cell for cell.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import replace
from typing import ClassVar

from rich.console import RenderableType
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size, clamp
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style
from textual.visual import Visual, visualize

from ...analysis import BaseInfo
from ...model import Image
from .layer_rows import BaseRule, Columns, LayerRow, StepRow, columns_for
from .steady import SteadyScroll

BASE_RULE_ID = "base-rule"

OPTION = "option-list--option"  # the component classes an OptionList has, so the stack looks as one did
DISABLED = "option-list--option-disabled"
HIGHLIGHTED = "option-list--option-highlighted"
HOVER = "option-list--option-hover"


class StackRow:
    """One row of the stack: what it says, its id (``L3``, ``h5``, the rule's) and
    whether the cursor skips it (a step of the history, the base rule)."""

    __slots__ = ("prompt", "id", "disabled")

    def __init__(self, prompt: RenderableType, id: str, disabled: bool = False) -> None:
        self.prompt = prompt
        self.id = id
        self.disabled = disabled


class LayerStack(SteadyScroll, ScrollView, can_focus=True):
    """Selecting (highlighting) a layer re-roots the rest of the screen at it."""

    ALLOW_SELECT = False
    # OptionList's keys (Enter, which selected an option no one listened to, aside)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "cursor_down", "Down", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("home", "first", "First", show=False),
        Binding("pagedown", "page_down", "Page Down", show=False),
        Binding("pageup", "page_up", "Page Up", show=False),
        Binding("up", "cursor_up", "Up", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {OPTION, DISABLED, HIGHLIGHTED, HOVER}
    # OptionList's stylesheet, under this widget's name (the app's #layers rules come after it)
    DEFAULT_CSS = """
    LayerStack {
        height: auto;
        max-height: 100%;
        color: $foreground;
        overflow-x: hidden;
        border: tall $border-blurred;
        padding: 0 1;
        background: $surface;
        & > .option-list--option-highlighted {
            color: $block-cursor-blurred-foreground;
            background: $block-cursor-blurred-background;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            border: tall $border;
            background-tint: $foreground 5%;
            & > .option-list--option-highlighted {
                color: $block-cursor-foreground;
                background: $block-cursor-background;
                text-style: $block-cursor-text-style;
            }
        }
        & > .option-list--option-highlighted {
            color: $foreground;
            background: $block-cursor-blurred-background;
        }
        & > .option-list--option-disabled {
            color: $text-disabled;
        }
        & > .option-list--option-hover {
            background: $block-hover-background;
        }
    }
    """

    # the row under the cursor; no repaint of its own: the rows it leaves and reaches repaint
    highlighted: reactive[int | None] = reactive(None, repaint=False)

    class LayerChosen(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    class Moved(Message):
        """The cursor reached a layer row. Handled by the stack itself, which then
        tells the app the layer highlighted *then*: keys pressed faster than the
        screen re-roots tell it the last layer, once (as OptionList's message did)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.image: Image | None = None
        self.loaded = False
        self.base = BaseInfo()
        self._rows: list[StackRow] = []
        self._ids: dict[str, int] = {}  # row id -> its position
        self._expanded: int | None = None  # position of the row that shows the whole command
        self._max_lines = 4
        self._cols = Columns(2, 5, (), False)
        self._damage: dict[int, str] = {}
        self._reserve_mark = False  # keep the base-mark column before the base is known
        self._hover: int | None = None  # the row under the mouse
        # What each row drew, kept until its text or the width changes:
        self._visuals: dict[int, Visual] = {}
        self._drawn: dict[int, dict[tuple[Style, int], list[Strip]]] = {}  # row -> (style, width) -> strips
        self._heights: list[int] | None = None  # each row's lines at ``_width`` (None: measure again)
        self._starts: list[int] = []  # each row's first line
        self._width = 0

    # -- what the app tells ----------------------------------------------------------------
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
        rows: list[StackRow] = []
        mapped: set[int] = set()
        rule_done = nbase == 0 or nbase >= len(image.layers)

        def layer_row(index: int) -> StackRow:
            nonlocal rule_done
            if not rule_done and index >= nbase:
                rows.append(StackRow(BaseRule(nbase, self.base.ref), BASE_RULE_ID, disabled=True))
                rule_done = True
            return StackRow(self._row(index, cols, False), f"L{index}")

        for n, h in enumerate(image.history):
            if h.layer is None or h.layer >= len(image.layers):
                rows.append(StackRow(StepRow(h.created_by, cols), f"h{n}", disabled=True))
            else:
                mapped.add(h.layer)
                rows.append(layer_row(h.layer))
        for layer in image.layers:  # layers the history does not account for
            if layer.index not in mapped:
                rows.append(layer_row(layer.index))
        self._cols = cols
        self._expanded = None
        self._set_rows(rows)
        if image.layers and target is not None:
            self.select_layer(target, notify=False)

    def _set_rows(self, rows: list[StackRow]) -> None:
        """Every row new: nothing drawn is kept, the view goes back to the top (as OptionList's ``clear_options``)."""
        self._rows = rows
        self._ids = {row.id: pos for pos, row in enumerate(rows)}
        self._hover = None
        self._forget()
        self.set_reactive(LayerStack.highlighted, None)
        self.scroll_y = 0
        self.refresh()
        self._measure()

    def _row(self, index: int, cols: Columns, expanded: bool) -> LayerRow:
        assert self.image is not None
        layer = self.image.layers[index]
        base = index < self.base.layers
        return LayerRow(layer, self.loaded, cols, base, expanded, self._max_lines, self._damage.get(index))

    def _expand(self, position: int | None) -> None:
        """Show the whole command of the layer at ``position`` (and only there)."""
        if position == self._expanded or self.image is None:
            return
        changed: dict[int, LayerRow] = {}
        for pos, expanded in ((self._expanded, False), (position, True)):
            if pos is not None and pos < len(self._rows) and self._rows[pos].id.startswith("L"):
                changed[pos] = self._row(int(self._rows[pos].id[1:]), self._cols, expanded)
        self._expanded = position
        self._set_prompts(changed)

    # -- the rows, as OptionList offered them ----------------------------------------------
    @property
    def option_count(self) -> int:
        return len(self._rows)

    def get_option_at_index(self, pos: int) -> StackRow:
        return self._rows[pos]

    def get_option(self, row_id: str) -> StackRow:
        return self._rows[self._ids[row_id]]

    def get_option_index(self, row_id: str) -> int:
        return self._ids[row_id]

    @property
    def highlighted_layer(self) -> int | None:
        if self.highlighted is None or not self._rows:
            return None
        row = self._rows[self.highlighted]
        return int(row.id[1:]) if row.id.startswith("L") else None

    # -- lines -------------------------------------------------------------------------------
    def _forget(self) -> None:
        """Every row measured and drawn again when next shown (new rows, a new width)."""
        self._visuals.clear()
        self._drawn.clear()
        self._heights = None

    def _visual(self, pos: int) -> Visual:
        visual = self._visuals.get(pos)
        if visual is None:
            visual = self._visuals[pos] = visualize(self, self._rows[pos].prompt, markup=False)
        return visual

    def _measure(self) -> bool:
        """Each row's height and first line at the current width; False before the pane has a size."""
        width = self.scrollable_content_region.width
        if not width:
            return False
        if width != self._width:
            self._width = width
            self._forget()
        if self._heights is None:
            self._heights = [self._height(pos) for pos in range(len(self._rows))]
            self._place()
        return True

    def _height(self, pos: int) -> int:
        """The row's lines at the current width: it is drawn (in the style it shows
        in) and its lines counted, so a row is rendered once, not measured and drawn."""
        return len(self._strips(pos, self._style(pos)))

    def _place(self) -> None:
        """The rows' first lines, and the scrollable extent they make."""
        assert self._heights is not None
        starts, line = [], 0
        for height in self._heights:
            starts.append(line)
            line += height
        self._starts = starts
        size = Size(self._width, line)
        if size != self.virtual_size:
            self.virtual_size = size

    def _set_prompts(self, prompts: dict[int, LayerRow]) -> None:
        """The rows at these positions say these now: only they are drawn again, and
        only the lines they cover (and, where a height changed, the lines below) repaint."""
        for pos, prompt in prompts.items():
            self._rows[pos].prompt = prompt
            self._visuals.pop(pos, None)
            self._drawn.pop(pos, None)
        heights = self._heights
        if heights is None:
            return  # measured when first shown
        moved: list[int] = []
        for pos in prompts:
            height = self._height(pos)
            if height != heights[pos]:
                heights[pos] = height
                moved.append(pos)
        if moved:
            self._place()
        for pos in prompts:
            if pos not in moved:
                self.refresh_lines(self._starts[pos], heights[pos])
        if moved:
            # the rows below move: repaint from the first that grew or shrank to the bottom of the view
            top = self._starts[min(moved)] - self.scroll_offset.y
            self.refresh(Region(0, max(0, top), self.size.width, self.size.height))

    def _refresh_row(self, pos: int | None) -> None:
        """Repaint the lines of the row at ``pos`` (its style changed)."""
        if pos is None or self._heights is None or not 0 <= pos < len(self._rows):
            return
        self.refresh_lines(self._starts[pos], self._heights[pos])

    def _style(self, pos: int) -> Style:
        """The row's style, as OptionList chose it: disabled, else highlighted, else hovered."""
        if self._rows[pos].disabled:
            return self.get_visual_style(OPTION, DISABLED)
        if pos == self.highlighted:
            return self.get_visual_style(OPTION, HIGHLIGHTED)
        if pos == self._hover:
            return self.get_visual_style(OPTION, HOVER)
        return self.get_visual_style(OPTION)

    def _strips(self, pos: int, style: Style) -> list[Strip]:
        """The row's lines in ``style`` at the current width, drawn once (as OptionList drew an option)."""
        width = self._width
        kept = self._drawn.setdefault(pos, {})
        strips = kept.get((style, width))
        if strips is None:
            if len(kept) > 4:
                kept.clear()  # styles of a focus or theme gone by
            visual = self._visual(pos)
            drawn = Visual.to_strips(self, visual, width, None, style)
            meta = {"option": pos}
            strips = kept[(style, width)] = [
                s.extend_cell_length(width, style.rich_style).apply_meta(meta) for s in drawn
            ]
        return strips

    def render_line(self, y: int) -> Strip:
        if not self._measure() or self._heights is None:
            return Strip.blank(self.scrollable_content_region.width, self.get_visual_style(OPTION).rich_style)
        line = self.scroll_offset.y + y
        pos = bisect_right(self._starts, line) - 1
        if 0 <= pos < len(self._rows):
            strips = self._strips(pos, self._style(pos))
            offset = line - self._starts[pos]
            if offset < len(strips):
                return strips[offset]
        return Strip.blank(self._width, self.get_visual_style(OPTION).rich_style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.refresh()  # the rows' styles are in their cache keys: they are drawn in the new ones

    def on_mount(self) -> None:
        self._measure()

    def on_show(self) -> None:
        self.scroll_to_highlight()

    def on_resize(self) -> None:
        self._forget()  # rows re-wrap at the new width
        self._measure()
        # a short pane gives the highlighted command fewer lines
        lines = max(2, (self.size.height - 2) // 3)
        if lines != self._max_lines and self.image is not None:
            self._max_lines = lines
            pos, self._expanded = self._expanded, None
            self._expand(pos)
        self.refresh()
        # Rows re-wrap at the new width (their heights change) and the pane may
        # be shorter: the kept scroll offset can leave the cursor out of sight.
        # Once the rows are measured again, bring it back.
        self.call_after_refresh(self._keep_highlight_visible)

    def _keep_highlight_visible(self) -> None:
        if self.highlighted is not None and self.is_attached:
            self.scroll_to_highlight(top=False)

    def scroll_to_highlight(self, top: bool = False) -> None:
        """Bring the highlighted row into view (all of it, when it fits)."""
        pos = self.highlighted
        if pos is None or not self.is_mounted or not self._measure() or self._heights is None:
            return
        region = Region(0, self._starts[pos], self._width, self._heights[pos])
        self.scroll_to_region(region, force=True, animate=False, top=top, immediate=True)

    # -- the cursor --------------------------------------------------------------------------
    def validate_highlighted(self, highlighted: int | None) -> int | None:
        if highlighted is None or not self._rows:
            return None
        return clamp(highlighted, 0, len(self._rows) - 1)

    def watch_highlighted(self, old: int | None, new: int | None) -> None:
        self._expand(new)
        self._refresh_row(old)
        self._refresh_row(new)
        if new is None or self._rows[new].disabled:
            return
        self.scroll_to_highlight()
        self.post_message(self.Moved())

    def on_layer_stack_moved(self, event: Moved) -> None:
        event.stop()
        index = self.highlighted_layer
        if index is not None:
            self.post_message(self.LayerChosen(index))

    def select_layer(self, index: int, notify: bool = True) -> None:
        pos = self._ids.get(f"L{index}")
        if pos is None:
            return
        if not notify:
            with self.prevent(LayerStack.Moved):
                self.highlighted = pos
        else:
            self.highlighted = pos
        self.scroll_to_highlight()

    def _step(self, direction: int) -> None:
        # No wrap-around: past the top layer is not the base layer.
        i = (self.highlighted if self.highlighted is not None else -1) + direction
        while 0 <= i < len(self._rows):
            if not self._rows[i].disabled:
                self.highlighted = i
                return
            i += direction

    def _enabled(self, start: int, direction: int) -> int | None:
        """The first enabled row from ``start`` on (``start`` itself included), going ``direction``."""
        i = start
        while 0 <= i < len(self._rows):
            if not self._rows[i].disabled:
                return i
            i += direction
        return None

    def action_cursor_up(self) -> None:
        self._step(-1)

    def action_cursor_down(self) -> None:
        self._step(1)

    def action_first(self) -> None:
        self.highlighted = self._enabled(0, 1)

    def action_last(self) -> None:
        self.highlighted = self._enabled(len(self._rows) - 1, -1)

    def _move_page(self, direction: int) -> None:
        """A page of lines up or down, onto the first layer row from there on (as OptionList moves)."""
        if not self._rows or not self._measure() or self._heights is None:
            return
        height = self.scrollable_content_region.height
        lines = sum(self._heights)
        y = clamp(self._starts[self.highlighted or 0] + direction * height, 0, lines - 1)
        at = bisect_right(self._starts, y) - 1
        # a page past the last layer (a step of history below it) stops at that layer
        pos = self._enabled(at, direction)
        pos = pos if pos is not None else self._enabled(at, -direction)
        if pos is not None:
            self.highlighted = pos

    def action_page_up(self) -> None:
        if self.highlighted is None:
            self.action_first()
        else:
            self._move_page(-1)

    def action_page_down(self) -> None:
        if self.highlighted is None:
            self.action_last()
        else:
            self._move_page(1)

    # -- the mouse ---------------------------------------------------------------------------
    def _set_hover(self, pos: int | None) -> None:
        if pos == self._hover:
            return
        old, self._hover = self._hover, pos
        self._refresh_row(old)
        self._refresh_row(pos)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._set_hover(event.style.meta.get("option"))

    def on_leave(self) -> None:
        self._set_hover(None)

    def on_click(self, event: events.Click) -> None:
        pos = event.style.meta.get("option")
        if pos is not None and 0 <= pos < len(self._rows) and not self._rows[pos].disabled:
            self.highlighted = pos
