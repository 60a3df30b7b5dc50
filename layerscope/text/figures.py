"""dive's figures in words: one spelling for ``report``, ``ci`` and the audit screen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..fmt import percent
from ..layout import Atom, Part, joined

if TYPE_CHECKING:
    from ..analysis import DiveFigures


def dive_text(d: DiveFigures) -> str:
    """dive's own figures, spelt the way ``dive --ci`` prints them (its
    efficiency and userWastedPercent are fractions in the JSON)."""
    return joined(dive_parts(d))


def dive_parts(d: DiveFigures) -> list[Part]:
    """:func:`dive_text` for :func:`~layerscope.layout.fold`: each name stays with its figure."""
    uwp = "n/a" if d.user_wasted_percent is None else percent(d.user_wasted_percent, 4)
    return [
        Atom(f"efficiency {percent(d.efficiency, 4)}"),
        ", ",
        Atom(f"wastedBytes {d.wasted_bytes}"),
        ", ",
        Atom(f"userWastedPercent {uwp}"),
    ]
