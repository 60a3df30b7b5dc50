"""Rich text for model objects: labels, colours, modes and sizes.

Every name from the image goes through ``safe`` and into a ``Text`` object,
never into markup (the rule of ``literal.py``): ``lib[abc].so`` must stay
itself and an escape sequence in a file name must never reach the terminal.
"""

from __future__ import annotations

from rich.text import Text

from ..fmt import human_size, mode_string, short_command
from ..model import DIR, Deletion, Entry
from ..textsafe import safe
from .palette import CLASS_MARK, CLASS_STYLE

CHANGE_STYLE = CLASS_STYLE
CHANGE_MARK = CLASS_MARK

__all__ = ["human_size", "mode_string", "short_command"]


def entry_style(e: Entry | Deletion, k: int) -> str:
    if type(e) is Deletion:
        return CHANGE_STYLE["deleted"]
    assert type(e) is Entry
    if e.layer != k or (e.change == "rewritten" and e.type == DIR):
        return ""
    return CHANGE_STYLE.get(e.change, "")


def change_mark(e: Entry | Deletion, k: int) -> str:
    """The symbol column of a row: the change class at layer ``k``, blank if none."""
    if type(e) is Deletion:
        return CHANGE_MARK["deleted"]
    assert type(e) is Entry
    if e.layer != k or (e.change == "rewritten" and e.type == DIR):
        return " "
    return CHANGE_MARK.get(e.change, " ")


def node_label(
    e: Entry | Deletion, k: int, attrs: bool = False, dir_size: int | None = None, name: str | None = None
) -> Text:
    """A tree row: name, supplying layer, change, optionally mode/owner/size."""
    base = name if name is not None else (e.path.rsplit("/", 1)[-1] or "/")
    style = entry_style(e, k)
    text = Text()
    text.append(change_mark(e, k) + " ", style=style.replace("strike", "").strip())
    if type(e) is Deletion:
        text.append(safe(base), style=style)
        text.append(f"  L{e.layer} deleted ({e.how})", style=CHANGE_STYLE["deleted"].replace("strike", "dim"))
        return text
    assert type(e) is Entry
    if e.type == DIR:
        text.append(safe(base) + "/", style=(style + " bold").strip())
    else:
        text.append(safe(base), style=style)
    if e.type == "symlink":
        text.append(" → " + safe(e.link or ""), style="dim")
    elif e.type == "hardlink":
        text.append(" ⇒ " + safe(e.link or ""), style="dim")
    tag = f"  L{e.layer}"
    if e.layer == k and not (e.type == DIR and e.change == "rewritten"):
        tag += f" {e.change}"
    text.append(tag, style=(style or "dim") if e.layer == k else "dim")
    if attrs:
        size = dir_size if e.type == DIR else e.size
        size_s = human_size(size) if size is not None else ""
        text.append(f"  {mode_string(e.type, e.mode)} {e.uid}:{e.gid} {size_s}", style="dim")
    elif e.type != DIR and e.size:
        text.append(f"  {human_size(e.size)}", style="dim")
    elif e.type == DIR and dir_size:
        text.append(f"  {human_size(dir_size)}", style="dim")
    return text


def short_count(n: int) -> str:
    """At most 4 characters, so the layer stack's count columns never run together.

    Exact counts are in the layer details pane and in `report`.
    """
    if n < 10_000:
        return str(n)
    if n < 999_500:
        return f"{round(n / 1000)}k"
    if n < 9_950_000:
        return f"{n / 1_000_000:.1f}M"
    return f"{min(round(n / 1_000_000), 999)}M"
