"""The status line: what the screen shows (layer, view, filters), fitted to its width.

At 80 columns the whole line (``L5 of L0–L6 • view: aggregate • sort: name •
filter: 'cred' (esc clears) • loaded in 0.12s``) does not fit, and a line cut
at its end loses what was said last, often the filter. Each part has a
priority and a short form: the least important parts shrink first, then go,
so what stays is whole and the most important is never cut.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from ...textsafe import safe

SEP = "  •  "
NARROW_SEP = " • "


@dataclass(frozen=True, slots=True)
class Part:
    """One part of the line; a higher ``priority`` stays longer, ``short`` is tried before dropping it."""

    text: str
    priority: int
    short: str | None = None
    style: str = ""


def fit(parts: list[Part], width: int) -> list[tuple[str, str]]:
    """The (text, style) of the parts that fit in ``width`` cells, in their order.

    The part of highest priority always stays (cut by the widget if even it
    is too long). Separators narrow first; then, least important first, a
    part takes its short form or, without one, goes; only then do shortened
    parts go, least important first: a short word says more than none.
    """
    shown: list[str | None] = [p.text for p in parts]

    def total(sep: str) -> int:
        kept = [s for s in shown if s is not None]
        return sum(cell_len(s) for s in kept) + cell_len(sep) * max(0, len(kept) - 1)

    sep = SEP
    if total(sep) > width:
        sep = NARROW_SEP
    keep = max(range(len(parts)), key=lambda i: parts[i].priority, default=0)
    order = sorted(range(len(parts)), key=lambda i: parts[i].priority)
    for i in order:  # least important first: its short form, or without it if it has none...
        if total(sep) <= width:
            break
        short = parts[i].short
        if short is not None:
            shown[i] = short
        elif i != keep:
            shown[i] = None
    for i in order:  # ...then without the least important of the shortened ones
        if total(sep) <= width:
            break
        if i != keep:
            shown[i] = None
    out: list[tuple[str, str]] = []
    for part, text in zip(parts, shown):
        if text is not None:
            if out:
                out.append((sep, "dim"))
            out.append((text, part.style))
    return out


class StatusLine(Static):
    """The status bar's text: parts fitted to the width (``show_parts``), or one message (``show_text``)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._parts: list[Part] | None = None

    def show_parts(self, parts: list[Part]) -> None:
        self._parts = parts
        self._fit()

    def show_text(self, text: Text) -> None:
        self._parts = None
        self.update(text, layout=False)

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        if self._parts is None:
            return
        width = self.content_size.width or 80
        line = Text(no_wrap=True, overflow="ellipsis")
        for text, style in fit(self._parts, width):
            line.append(safe(text), style=style)
        # one line of fixed height: a repaint, never a re-layout of the screen (~35 ms at 500k)
        self.update(line, layout=False)
