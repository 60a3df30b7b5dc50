"""``report --html FILE``: one self-contained page (see :mod:`layerscope.html.page`)."""

from __future__ import annotations

from .page import write_html

__all__ = ["write_html"]
