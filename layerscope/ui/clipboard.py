"""What a path or digest becomes on the clipboard (Textual sends it with OSC 52).

A path from an image may hold control characters (a newline pasted into a
shell runs what follows) or bytes that are not UTF-8: such a path is copied
in its escaped form, as the screen shows it, and the note says so.
"""

from __future__ import annotations

from ..textsafe import safe


def clip_text(value: str | None) -> tuple[str | None, str]:
    """(text to copy, note for the user); (None, "") when there is nothing to copy."""
    if value is None:
        return None, ""
    shown = safe(value)
    if shown != value:
        return shown, "control characters or non-UTF-8 bytes escaped"
    return value, ""
