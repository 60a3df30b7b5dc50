"""The one rule for text on screen: what the image, the keys or the user wrote is shown literally.

Textual and Rich parse a plain ``str`` handed to most widgets as markup (labels,
``Static``, tree nodes, options, table cells, border titles, notifications,
palette entries). A path ``/srv/[/]`` then crashes the app with a
``MarkupError``, and ``[link=…]`` or ``[bold]`` in a label restyles the screen.
Escaping markup does not fix that for good: Textual's parser also expands
``$variables`` and treats backslashes its own way. So such strings never
travel as ``str``: they go through a helper here, which escapes terminal
control characters (``textsafe.safe``) and wraps the result in an object that
is never parsed (``rich.text.Text`` or Textual's ``Content``).

Strings written in this code base (``"Close"``, ``f"L{n}"``) may stay ``str``;
``tests/test_ui_hostile.py`` checks the widgets' sinks for f-strings and calls.
"""

from __future__ import annotations

from rich.text import Text
from textual.content import Content
from textual.dom import DOMNode
from textual.notifications import SeverityLevel

from ..textsafe import safe

__all__ = ["content", "notify", "text"]


def text(value: str, style: str = "") -> Text:
    """``value`` as it is (control characters escaped), for Rich or a Textual widget."""
    return Text(safe(value), style=style)


def content(value: str) -> Content:
    """``value`` as Textual ``Content``, for the APIs that parse any ``str`` (the palette)."""
    return Content(safe(value))


def notify(
    node: DOMNode,
    message: str,
    *,
    title: str = "",
    severity: SeverityLevel = "information",
    timeout: float | None = None,
) -> None:
    """A toast whose message and title are never parsed as markup."""
    node.app.notify(safe(message), title=safe(title), severity=severity, timeout=timeout, markup=False)
