"""Make names from untrusted images safe to show in a terminal.

Tar names can hold escape sequences (``\\x1b]...``) and undecodable bytes
(kept as surrogates); written raw they could drive the user's terminal.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str) -> str:
    """Escape control characters and undecodable bytes; other text unchanged."""
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text
