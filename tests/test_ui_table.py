"""``MeasuredTable``'s cell width: what Textual's own ``measure`` says of the cell, every kind of text."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.text import Text
from textual.render import measure

from layerscope.ui.widgets.table import text_width

CELLS = [
    "",
    "L3",
    "-rwxr-xr-x",
    "RUN /bin/sh -c apt-get update && apt-get install -y curl " * 30,  # a long command
    "two\nlines, the second longer",
    "trailing newline\n",
    "\n\n",
    "wide 漢字 and emoji 🐳",
    "tab\there",
    "  leading and trailing spaces  ",
    "combining e\u0301 and zero\u200bwidth",
]


@pytest.mark.parametrize("plain", CELLS)
def test_text_width_is_what_measure_says(plain: str) -> None:
    console = Console(width=80)
    for cell in (Text(plain), Text(plain, style="dim"), Text.assemble((plain, "bold"), (plain[:3], "red"))):
        assert text_width(cell, console) == measure(console, cell, 1)


def test_a_text_subclass_is_measured_by_measure() -> None:
    class Fixed(Text):
        def __rich_measure__(self, console, options):  # type: ignore[no-untyped-def]
            from rich.measure import Measurement

            return Measurement(7, 7)

    console = Console(width=80)
    assert text_width(Fixed("a much longer text than seven"), console) == 7
