"""Tree rows as aligned columns: name, layer, change, size, package, mode, owner.

The columns are laid out for the width the pane has (its scrollbar left
out): the name column takes what the others leave, so on a wide terminal the
figures sit at the pane's right edge, as in mc or ranger, and every column
lines up whatever the depth. When room is short the name is cut (with an
ellipsis), never a figure: a cut number reads as another number. A deleted
path shows what it had (the type, mode, owner and bytes of the version that
still ships), struck through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from rich.text import Text

from ..model import DIR, FILE, HARDLINK, Deletion, Entry
from ..textsafe import safe
from .format import CHANGE_MARK, CHANGE_STYLE, entry_style, human_size, mode_string

CHANGE_W = len("type-changed")
SIZE_W = 8  # "999.9 kB"
MODE_W = 10  # "drwxr-xr-x"
MIN_NAME = 12  # names shorter than this: the change column shrinks to its mark first
TOP = 4  # where a top-level row's name starts: after its guide and its icon
PACKAGE_MAX = 24  # the package column's widest: longer names end in an ellipsis
PACKAGE_MIN = 8  # and its narrowest, in a narrow pane
PACKAGE_NAME = 8  # the names' narrowest beside it
MIN_CUT = 3  # a name is never cut shorter ("ab…"); only a row nested deeper than that overflows
NOTE = " deleted below"
GHOST_STYLE = "dim strike"
DELETED_STYLE = CHANGE_STYLE["deleted"]
SIZED = (FILE, HARDLINK, DIR)


@dataclass(frozen=True, slots=True)
class Cells:
    """One row's cells before layout (``change`` is the class name, or "")."""

    name: Text
    layer: Text
    change: str
    change_style: str
    size: str
    mode: str
    owner: str
    deleted_below: int = 0
    package: str = ""  # the owner column (``o``): the package's name, ``-`` for none, "" for a directory


def change_of(n: Entry | Deletion, k: int) -> str:
    """The change column's text: the class of a change the row's path made at layer ``k``, or ""."""
    if type(n) is Deletion:
        return "deleted"
    assert type(n) is Entry
    return n.change if n.layer == k and not (n.type == DIR and n.change == "rewritten") else ""


def cells(
    n: Entry | Deletion,
    k: int,
    shipped: Entry | None,
    size: int | None,
    deleted_below: int = 0,
    label: Callable[[int], str] | None = None,
) -> Cells:
    """What a row says about a node as of layer ``k``.

    ``shipped`` is the version the row stands for (for a deleted path, the one
    that still ships), ``size`` the figure of the current view (None: not
    known yet), ``deleted_below`` the bytes this layer's deletions left under
    a directory (the layer's own view). ``label`` names layers (``C7`` for
    a container's writable layer); plain ``L3`` without it.
    """
    name_of = label if label is not None else (lambda i: f"L{i}")
    shown = n if type(n) is Entry else shipped
    base = n.path.rsplit("/", 1)[-1] or "/"
    name = Text()
    if type(n) is Deletion:
        style = DELETED_STYLE if n.layer == k else GHOST_STYLE
        is_dir = shown is not None and shown.type == DIR
        name.append(safe(base) + ("/" if is_dir else ""), style=style)
        layer = Text(name_of(n.layer), style="red" if n.layer == k else "dim red")
        change, change_style = "deleted", ("red" if n.layer == k else "dim red")
    else:
        assert type(n) is Entry
        style = entry_style(n, k)
        if n.type == DIR:
            name.append(safe(base) + "/", style=(style + " bold").strip())
        else:
            name.append(safe(base), style=style)
        if n.type == "symlink":
            name.append(" → " + safe(n.link or ""), style="dim")
        elif n.type == HARDLINK:
            name.append(" ⇒ " + safe(n.link or ""), style="dim")
        layer = Text(name_of(n.layer), style=(style or "dim") if n.layer == k else "dim")
        change = change_of(n, k)
        change_style = style if change else ""
    size_s = human_size(size) if size is not None and shown is not None and shown.type in SIZED else ""
    mode = mode_string(shown.type, shown.mode) if shown is not None else ""
    owner = f"{shown.uid}:{shown.gid}" if shown is not None else ""
    return Cells(name, layer, change, change_style, size_s, mode, owner, deleted_below)


@dataclass(frozen=True, slots=True)
class Layout:
    """Column widths for one pane; a ``compact`` one shows the change as its mark (``+ ~ m = -``)
    and the deleted-below note as a figure (``-90 B``)."""

    layer_w: int
    change_w: int  # 0: no row shown has a change of its own at this layer
    attrs: bool
    owner_w: int = 3
    note_w: int = 0  # the layer's own view: bytes its deletions left under a directory
    compact: bool = False
    package_w: int = 0  # 0: no owner column

    @property
    def columns(self) -> int:
        """Cells right of the name: a gap before each column."""
        w = 2 + (self.layer_w + 1 if self.layer_w else 0) + self.change_w + 1 + SIZE_W
        if self.package_w:
            w += 2 + self.package_w
        if self.attrs:
            w += 2 + MODE_W + 1 + self.owner_w
        if self.note_w:
            w += 2 + self.note_w
        return w


def layout(
    width: int,
    longest: int,
    deepest: int,
    layers: int,
    attrs: bool,
    owner_w: int = 3,
    below: int = 0,
    change_w: int = CHANGE_W,
    package_w: int = 0,
) -> tuple[Layout, int]:
    """The layout of a pane ``width`` cells wide; returns it and where names end.

    ``longest`` is where the longest row's name ends, ``deepest`` where the
    deepest row's name starts (both from the row start); ``below`` the
    widest deleted-below figure of a layer's own view, ``change_w`` the
    widest change class shown (the class names are the widest text of the
    columns: an aggregate view shows few of them), ``package_w`` the widest
    package name shown (0: no owner column). Names end where the
    columns begin, which end at the pane's edge: the columns never run past
    it. The change column shrinks to its mark and the deleted-below note to a
    figure before names get shorter than MIN_NAME; then names are cut, and a
    row nested too deep to keep MIN_CUT cells of its name runs past the edge.
    When the columns leave a top-level name less than MIN_NAME cells (the
    attributes in a narrow pane), the figures still end at the edge and the
    pane scrolls sideways to the attributes; only a pane too narrow even for
    that keeps names MIN_NAME wide and scrolls sideways to the figures.
    The owner column (``package_w``) is cut before that, and names with it
    (see PACKAGE_MIN).
    """
    layer_w = len(f"L{max(layers - 1, 0)}")
    note = len(human_size(below)) if below else 0
    package_w = min(package_w, PACKAGE_MAX)
    lay = Layout(layer_w, change_w, attrs, owner_w, note + len(NOTE) if note else 0, package_w=package_w)
    if width - lay.columns < min(longest, deepest + MIN_NAME):
        # a layer's own view names its layer in the title: its column gives way to the note
        lay = Layout(0 if note else layer_w, min(change_w, 1), attrs, owner_w, note + 1 if note else 0, True, package_w)
    fit = width - lay.columns
    if fit >= TOP + MIN_NAME:
        return lay, fit
    if lay.package_w:
        # the owner column, asked for by a key, is cut (to PACKAGE_MIN) and the
        # names (to PACKAGE_NAME) before it goes past the edge: at 80 columns
        # the tree's pane is 38 cells wide
        cut = max(PACKAGE_MIN, lay.package_w - (TOP + MIN_NAME - fit))
        lay = replace(lay, package_w=min(lay.package_w, cut))
        fit = width - lay.columns
        if fit >= TOP + PACKAGE_NAME:
            return lay, fit
    if attrs and width - replace(lay, attrs=False, note_w=0).columns >= TOP + MIN_NAME:
        # the attributes do not fit beside the names: the figures end at the
        # edge, whole, and the attributes are a sideways scroll away
        return lay, width - replace(lay, attrs=False, note_w=0).columns
    return lay, max(fit, min(longest, deepest + MIN_NAME))


def render(c: Cells, lay: Layout, name_w: int) -> Text:
    """One row: the name cut (never below MIN_CUT cells) or padded to ``name_w``, then the columns."""
    name_w = max(name_w, MIN_CUT)
    out = c.name.copy()
    if out.cell_len > name_w:
        out.truncate(name_w, overflow="ellipsis")
    out.pad_right(name_w - out.cell_len)
    out.append("  ")
    if lay.layer_w:
        out.append_text(c.layer)
        out.pad_right(lay.layer_w - c.layer.cell_len)
        out.append(" ")
    change = CHANGE_MARK.get(c.change, "") if lay.compact else c.change
    out.append(change.ljust(lay.change_w), style=c.change_style)
    out.append(" ")
    out.append(c.size.rjust(SIZE_W), style="dim" if not c.change else "")
    if lay.package_w:
        out.append("  ")
        package = Text(safe(c.package), style="dim" if c.package == "-" else "")
        if package.cell_len > lay.package_w:
            package.truncate(lay.package_w, overflow="ellipsis")
        package.pad_right(lay.package_w - package.cell_len)
        out.append_text(package)
    if lay.attrs:
        out.append("  ")
        out.append(c.mode.ljust(MODE_W), style="dim")
        out.append(" ")
        out.append(c.owner.ljust(lay.owner_w), style="dim")
    if c.deleted_below and lay.note_w:
        size = human_size(c.deleted_below)
        note = f"-{size}" if lay.compact else size + NOTE
        out.append("  ")
        out.append(note, style="dim red")
    return out
