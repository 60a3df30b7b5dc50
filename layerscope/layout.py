"""How every headless command fits its text to a width: one rule, one home.

The width is ``COLUMNS`` if set, else the terminal's, else (a pipe or a file)
:data:`PIPE_WIDTH`, so that ``report``, ``ls``, ``which``, ``diff`` and ``ci``
agree on it. A line that does not fit is folded at its spaces onto indented
continuation lines; what must stay whole (a path, a digest, ``825 B``) is an
:class:`Atom` or a number with its unit, and is never split: an atom longer
than the width gets a line of its own rather than be cut. No line ends in
spaces, so piped output diffs and greps cleanly.

It imports nothing of the model (and Rich only to measure non-ASCII text), so
any view may use it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import TextIO

PIPE_WIDTH = 160
"""Width of text written to a pipe or file when ``COLUMNS`` is not set: wide
enough that every number column and most commands fit, fixed so that the
output does not depend on the terminal the command happened to run from."""

SHORT_DIGEST = 12  # hex digits of a shortened digest, as docker and dive print image ids


def output_width(out: TextIO, environ: Mapping[str, str] | None = None) -> int:
    """The width to lay text out for: ``COLUMNS`` if set, else the terminal's
    width, else (a pipe or a file) :data:`PIPE_WIDTH`."""
    env = os.environ if environ is None else environ
    cols = env.get("COLUMNS", "").strip()
    if cols.isdigit() and int(cols) > 0:
        return int(cols)
    try:
        if out.isatty():
            return os.get_terminal_size(out.fileno()).columns or PIPE_WIDTH
    except (AttributeError, OSError, ValueError):
        pass
    return PIPE_WIDTH


def cells(text: str) -> int:
    """Display cells of ``text`` (a CJK character takes two); ASCII without Rich."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def short_digest(digest: str) -> str:
    """``sha256:2c7110722b50e0ce…`` -> ``2c7110722b50``: the 12 hex digits docker and dive show."""
    return digest.partition(":")[2][:SHORT_DIGEST] if ":" in digest else digest[:SHORT_DIGEST]


def digest_to_fit(digest: str, room: int) -> str:
    """The whole digest if it fits in ``room`` cells, else its short form."""
    return digest if len(digest) <= room else short_digest(digest)


def keep_tail(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` cells from the left: for paths, whose end
    (the file name) says more than their start."""
    from rich.cells import cell_len

    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    kept: list[str] = []
    used = 1
    for ch in reversed(text):
        w = cell_len(ch)
        if used + w > width:
            break
        kept.append(ch)
        used += w
    return "…" + "".join(reversed(kept))


def keep_head(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` cells from the right: for commands and prose."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    return set_cell_size(text, width - 1) + "…"


class Atom(str):
    """Text that :func:`fold` never breaks, even at its spaces (a path, a link target)."""

    __slots__ = ()


class Keep:
    """Parts that :func:`fold` keeps on one line when they fit on one: a
    clause such as ``(whiteout; still ships in L3)`` moves whole to the next
    line rather than be split; longer than a line, it flows as usual."""

    __slots__ = ("parts",)

    def __init__(self, *parts: str) -> None:
        self.parts = parts


Part = str | Keep


def joined(parts: Iterable[Part]) -> str:
    """The text of ``parts`` on one line, as it is when it fits."""
    return "".join("".join(p.parts) if isinstance(p, Keep) else p for p in parts)


# A unit stays with its number: never "825" at a line's end and "B" on the next.
_UNIT = re.compile(r"(?:B|kB|MB|GB|TB|%)[)\],;:.]*")


def _words(parts: Iterable[Part]) -> list[tuple[str, str, int]]:
    """(gap before, word, group) triples: words are split at the spaces of plain
    parts only; ``group`` numbers the :class:`Keep` a word starts in (0: none)."""
    words: list[tuple[str, str, int]] = []
    gap = ""
    word = ""
    group = 0  # of the word being built
    groups = 0

    def add(part: str, in_group: int) -> None:
        nonlocal gap, word, group
        if isinstance(part, Atom):
            if not word:
                group = in_group
            word += part
            return
        for chunk in re.split(r"( +)", part):
            if not chunk:
                continue
            if chunk[0] == " ":
                if word:
                    words.append((gap, word, group))
                    word = ""
                    gap = chunk
                else:
                    gap += chunk
            else:
                if not word:
                    group = in_group
                word += chunk

    for part in parts:
        if isinstance(part, Keep):
            groups += 1
            for sub in part.parts:
                add(sub, groups)
        else:
            add(part, 0)
    if word:
        words.append((gap, word, group))
    merged: list[tuple[str, str, int]] = []
    for gap, word, g in words:
        if merged and _UNIT.fullmatch(word):
            g0, w0, grp = merged[-1]
            merged[-1] = (g0, w0 + gap + word, grp)
        else:
            merged.append((gap, word, g))
    return merged


def fold(parts: Iterable[Part], width: int, indent: int | str = 4) -> list[str]:
    """The lines of ``parts`` (concatenated) laid out ``width`` cells wide.

    The first line keeps its leading spaces; continuation lines start with
    ``indent`` (spaces, or the string itself). Breaks fall only at spaces of
    plain parts, never inside an :class:`Atom` nor between a number and its
    unit, and before a :class:`Keep` rather than inside it; a word that does
    not fit even on a line of its own is put on one, whole. No line ends in
    the spaces of a plain part (an atom is kept as it is).
    """
    words = _words(parts)
    whole = "".join(gap + word for gap, word, _ in words)  # a gap at the end is dropped
    if cells(whole) <= width:
        return [whole]
    pad = " " * indent if isinstance(indent, int) else indent
    span: dict[int, int] = {}  # group -> its cells on one line
    for gap, word, g in words:
        if g:
            span[g] = span[g] + cells(gap) + cells(word) if g in span else cells(word)
    lines: list[str] = []
    cur: str | None = None
    last = 0
    for gap, word, g in words:
        if cur is None:
            cur = gap + word
        else:
            fits = cells(cur) + cells(gap) + cells(word) <= width
            if g and g != last and cells(cur) + cells(gap) + span[g] > width and cells(pad) + span[g] <= width:
                fits = False  # the whole clause goes to the next line
            if fits:
                cur += gap + word
            else:
                lines.append(cur)
                cur = pad + word
        last = g
    lines.append(cur or "")
    return lines


def write_folded(out: TextIO, parts: Iterable[Part], width: int, indent: int | str = 4) -> None:
    """:func:`fold`, written one line each."""
    out.write("\n".join(fold(parts, width, indent)) + "\n")


_TRAILING = re.compile(r"(?:[ \t]|\x1b\[[0-9;]*m)+$")


def rstrip_line(line: str) -> str:
    """``line`` without trailing blanks, keeping the colour codes among them (Rich pads cells)."""
    m = _TRAILING.search(line)
    if m is None:
        return line
    return line[: m.start()] + re.sub(r"[ \t]+", "", m.group())


class TrimmedWriter:
    """A text stream that drops the trailing blanks of each line it passes on.

    Rich pads every table and grid cell to its column's width, the last one
    included; a pipe or a file should not carry that padding.
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._pending = ""

    def write(self, text: str) -> int:
        data = self._pending + text
        head, sep, self._pending = data.rpartition("\n")
        if sep:
            self.out.write("\n".join(rstrip_line(ln) for ln in head.split("\n")) + "\n")
        return len(text)

    def flush(self) -> None:
        self.out.flush()

    def close(self) -> None:
        """Write what is left of the last line (text that did not end in a newline)."""
        if self._pending:
            self.out.write(rstrip_line(self._pending))
            self._pending = ""
        self.out.flush()

    def isatty(self) -> bool:
        return self.out.isatty()

    def fileno(self) -> int:
        return self.out.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.out, "encoding", None) or "utf-8"
