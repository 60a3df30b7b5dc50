"""One colour and one symbol per change class, for every pane and the legend.

The colours are the Okabe–Ito palette, which stays distinguishable with the
common forms of colour blindness (and in a 256-colour terminal: no two classes
fall on one colour index, as magenta and red once both did on 197). Colour is
never the only signal: each class also has a symbol (``+ ~ ± m = -``), and
deletions are struck through, so a monochrome terminal still tells them apart.
"""

from __future__ import annotations

GREEN = "#009e73"  # Okabe–Ito bluish green
YELLOW = "#f0e442"
PURPLE = "#cc79a7"  # reddish purple
SKY = "#56b4e9"
VERMILLION = "#d55e00"

CLASS_STYLE: dict[str, str] = {
    "added": GREEN,
    "modified": YELLOW,
    "type-changed": YELLOW,
    "metadata": PURPLE,
    "rewritten": SKY,
    "unchanged": "",
    "deleted": f"{VERMILLION} strike",
}

CLASS_MARK: dict[str, str] = {
    "added": "+",
    "modified": "~",
    "type-changed": "±",
    "metadata": "m",
    "rewritten": "=",
    "deleted": "-",
}

# The layer stack counts type changes with modifications (one `~` column).
COUNT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("+", "added"),
    ("~", "modified"),
    ("m", "metadata"),
    ("=", "rewritten"),
    ("-", "deleted"),
)

LEGEND: list[tuple[str, str, str]] = [
    ("added", "added", "new path in this layer"),
    ("modified", "modified", "content or link target changed"),
    ("type-changed", "type-changed", "a file became a directory, a link… (counted with ~)"),
    ("metadata", "metadata", "same bytes, new mode/owner/xattrs: a full copy for a permission bit"),
    ("rewritten", "rewritten", "identical bytes and metadata written again"),
    ("deleted", "deleted", "removed by this layer (whiteout, opaque dir or type change)"),
]


def count_style(mark: str) -> str:
    """The colour of a count column (the struck-through style is for names only)."""
    cls = dict(COUNT_COLUMNS)[mark]
    return VERMILLION if cls == "deleted" else CLASS_STYLE[cls]
