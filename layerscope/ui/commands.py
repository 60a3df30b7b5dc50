"""Every key of the main screen in the command palette (Ctrl+P), by name.

Textual's system commands take their titles as markup: ``"Search … [/]"``
crashed the palette. These hits carry ``Content`` built from plain text, so a
key name or description is never parsed; the fuzzy-match highlight is applied
to that plain text.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content
from textual.screen import ModalScreen

from . import literal
from .keys import KEYS

KEY_STYLE = "bold"
KEY_WIDTH = 4  # the widest key of the main screen is "Esc"


def command_title(desc: str, display: str) -> str:
    """What the palette shows and matches for one key: ``[    Previous layer``.

    The key first, in a column, as the help lists it: after the description,
    in brackets, ``[`` read ``[[]`` (markup gone wrong), and a long
    description pushed its key to a line of its own at 80 columns.
    """
    return f"{display:<{KEY_WIDTH}} {desc}"


def shown_title(title: str) -> Content:
    """The title as literal content, the key in bold."""
    return literal.content(title).stylize(KEY_STYLE, 0, KEY_WIDTH)


def highlight(matcher: Matcher, title: str) -> Content:
    """The title as literal content, with the characters the query matched highlighted."""
    shown = shown_title(title)
    _score, offsets = matcher.fuzzy_search.match(matcher.query, title)
    for offset in offsets:
        if offset < len(shown.plain) and not title[offset].isspace():
            shown = shown.stylize(matcher.match_style, offset, offset + 1)
    return shown


class KeyCommands(Provider):
    """One palette command per entry of ``KEYS``; only over the main screen, where the keys act."""

    def _commands(self) -> list[tuple[str, Callable[[], Any]]]:
        if isinstance(self.screen, ModalScreen):
            return []
        return [
            (command_title(k.description, k.display), partial(self.app.run_action, k.action)) for k in KEYS if k.action
        ]

    async def discover(self) -> Hits:
        for title, run in self._commands():
            yield DiscoveryHit(shown_title(title), run, text=title)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, run in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, highlight(matcher, title), run, text=title)
