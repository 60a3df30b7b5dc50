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


def command_title(desc: str, display: str) -> str:
    """What the palette shows and matches for one key: ``Next layer [ ] ]``."""
    return f"{desc} [{display}]"


def highlight(matcher: Matcher, title: str) -> Content:
    """The title as literal content, with the characters the query matched highlighted."""
    shown = literal.content(title)
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
            (command_title(desc, disp), partial(self.app.run_action, action)) for _k, disp, action, desc, _s in KEYS
        ]

    async def discover(self) -> Hits:
        for title, run in self._commands():
            yield DiscoveryHit(literal.content(title), run, text=title)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, run in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, highlight(matcher, title), run, text=title)
