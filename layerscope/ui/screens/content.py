"""View one version of a file, or the diff of two, read lazily from the image.

Content is streamed from the layer blob in a worker thread and capped
(``VIEW_CAP``): a 2 GB file shows its first part with a note, never freezes the
app or fills memory. Text gets syntax highlighting, binary a hex view.
Symlinks show their target text; nothing is ever followed on the host.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import ScrollableContainer
from textual.screen import ModalScreen
from textual.widgets import Static

from ...model import Entry
from ...textsafe import safe
from .. import literal
from ..format import human_size
from ..keys import CONTENT, bindings
from ..widgets.key_bar import KeyBar

VIEW_CAP = 256 * 1024  # bytes read for one view
LINE_CAP = 5000  # lines rendered
HEX_CAP = 16 * 1024
HEX_ROWS = (32, 16, 8, 4)  # bytes a hex row holds, the most that fit

Reader = Callable[[Entry, int], bytes]  # (entry, limit) -> first ``limit`` bytes


def is_binary(data: bytes) -> bool:
    if b"\0" in data[:8192]:
        return True
    try:
        data[:8192].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(data[:8192]) - 4  # a cut multi-byte char at the end is fine
    return False


class Wide(Group):
    """A ``Group`` as wide as its widest line, not as the screen.

    The body is sized to its content (``width: auto``), so that long lines
    scroll sideways (← →, as ``less -S``) instead of being cut: Rich's
    ``Group`` measures its parts clamped to the console's width, and a diff
    or a capped file (a note above the text) came out exactly as wide as the
    screen.
    """

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        # a hex view is drawn for the width it is given, so it is measured at the real one
        wide = options.update_width(1 << 20)
        parts = [Measurement.get(console, options if isinstance(r, HexView) else wide, r) for r in self.renderables]
        return Measurement(max(p.minimum for p in parts), max(p.maximum for p in parts))


class HexView:
    """Offset, hex bytes and their ASCII, as many bytes a row as the width holds.

    Drawn for the width it is given (the content pane's, its scrollbar left
    out), so a row never wraps: 32 bytes a row on a wide terminal, 16 (as
    ``xxd`` and ``hexdump -C``) where that fits, else 8 or 4. Offsets have as
    many hex digits as the last one needs (at least 4): with 16 kB shown, a
    16-byte row fits in an 80-column terminal.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data[:HEX_CAP]
        self.digits = max(4, len(f"{max(len(self.data) - 1, 0):x}"))

    def row_width(self, per_row: int) -> int:
        return self.digits + 2 + 3 * per_row - 1 + 2 + per_row

    def per_row(self, width: int) -> int:
        for n in HEX_ROWS:
            if self.row_width(n) <= width:
                return n
        return HEX_ROWS[-1]

    def render(self, width: int) -> Text:
        out = Text(no_wrap=True, overflow="crop")
        n = self.per_row(width)
        data = self.data
        for off in range(0, len(data), n):
            chunk = data[off : off + n]
            hexpart = " ".join(f"{b:02x}" for b in chunk)
            asc = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
            out.append(f"{off:0{self.digits}x}  ", style="dim")
            out.append(f"{hexpart:<{3 * n - 1}}  ")
            out.append(asc + "\n", style="cyan")
        out.rstrip()
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.render(options.max_width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.row_width(HEX_ROWS[-1]), self.row_width(self.per_row(options.max_width)))


def decode_text(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    lines = text.splitlines()
    if len(lines) > LINE_CAP:
        text = "\n".join(lines[:LINE_CAP])
    return safe_text(text)


def safe_text(text: str) -> str:
    """Escape control characters but keep newlines and tabs."""
    return "\n".join("\t".join(safe(part) for part in line.split("\t")) for line in text.split("\n"))


def describe(e: Entry) -> str:
    return f"{e.path} @ L{e.layer} ({e.change}, {human_size(e.size)})"


def render_version(e: Entry, read: Reader) -> RenderableType:
    """What the content view shows for one version."""
    if e.type == "symlink":
        return Text.assemble(
            "symbolic link → ",
            literal.text(e.link or ""),
            "\n(not followed: it points inside the image, not at this host)",
        )
    if e.type not in ("file", "hardlink"):
        return Text(f"{e.type}: no content to show")
    data = read(e, VIEW_CAP)
    notes = []
    if e.size > len(data):
        notes.append(f"showing the first {human_size(len(data))} of {human_size(e.size)}")
    if is_binary(data):
        if len(data) > HEX_CAP:
            notes.append(f"hex view of the first {human_size(HEX_CAP)}")
        body: RenderableType = HexView(data)
    else:
        text = decode_text(data)
        if text.count("\n") >= LINE_CAP - 1:
            notes.append(f"first {LINE_CAP} lines")
        lexer = Syntax.guess_lexer(e.path, code=text[:4096])
        body = Syntax(text, lexer, line_numbers=True, word_wrap=False, theme="ansi_dark")
    if notes:
        return Wide(Text("(" + "; ".join(notes) + ")", style="yellow"), body)
    return body


def render_diff(old: Entry, new: Entry, read: Reader) -> RenderableType:
    a = read(old, VIEW_CAP) if old.type in ("file", "hardlink") else (old.link or "").encode()
    b = read(new, VIEW_CAP) if new.type in ("file", "hardlink") else (new.link or "").encode()
    head = Text.assemble("--- ", literal.text(describe(old)), "\n+++ ", literal.text(describe(new)), "\n", style="bold")
    if a == b:
        meta = []
        if old.mode != new.mode:
            meta.append(f"mode {old.mode:04o} → {new.mode:04o}")
        if (old.uid, old.gid) != (new.uid, new.gid):
            meta.append(f"owner {old.uid}:{old.gid} → {new.uid}:{new.gid}")
        what = "; ".join(meta) or "identical content and metadata (a rewrite)"
        return Wide(head, Text(f"Content identical. {what}", style="cyan"))
    if is_binary(a) or is_binary(b):
        return Wide(head, Text(f"Binary content differs ({human_size(old.size)} → {human_size(new.size)})"))
    lines = difflib.unified_diff(
        decode_text(a).splitlines(), decode_text(b).splitlines(), f"L{old.layer}", f"L{new.layer}", lineterm="", n=3
    )
    diff = "\n".join(lines)
    parts: list[RenderableType] = [head]
    if old.size > len(a) or new.size > len(b):
        parts.append(Text(f"(diff of the first {human_size(VIEW_CAP)} of each version)", style="yellow"))
    return Wide(*parts, Syntax(diff, "diff", theme="ansi_dark", word_wrap=False))


class ContentScreen(ModalScreen[None]):
    """A full-screen viewer over the main view; Esc or q closes it."""

    BINDINGS = bindings(CONTENT)

    def __init__(self, title: str, make: Callable[[], RenderableType]) -> None:
        super().__init__()
        self.title_text = title
        self._make = make

    def compose(self) -> ComposeResult:
        # scrolls both ways: a text line wider than the view is not cut, its end
        # is a sideways scroll away (the body is as wide as its longest line)
        with ScrollableContainer(id="content-scroll") as vs:
            vs.border_title = literal.text(self.title_text)
            yield Static(Text("loading…", style="dim"), id="content-body")
        yield KeyBar()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exit_on_error=False)
    def load(self) -> None:
        try:
            renderable = self._make()
        except Exception as exc:
            renderable = literal.text(f"Cannot show this content: {exc}", style="bold red")
        self.app.call_from_thread(self._show, renderable)

    def _show(self, renderable: RenderableType) -> None:
        self.query_one("#content-body", Static).update(renderable)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)

    def action_top(self) -> None:
        self.query_one(ScrollableContainer).scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.query_one(ScrollableContainer).scroll_end(animate=False)
