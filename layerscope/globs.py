"""Path patterns: one glob meaning for search, ``ci --forbid-path``/``--ignore-path``, ``ls`` and ``which``.

Before this module the gate used :func:`fnmatch.fnmatchcase` (``*`` crossed
``/``, so ``/root/.ssh/*`` also forbade ``/root/.ssh/a/b``) and search
compiled its own variant: the same pattern meant two things. Every caller now
compiles through :func:`compile_glob`.

The rules (README, "Path patterns"):

- ``*`` matches any run of characters inside one path segment (never ``/``);
  ``?`` one character other than ``/``; ``[abc]``, ``[a-z]``, ``[!abc]`` or
  ``[^abc]`` one character of (not of) a class, never ``/``; ``\\x`` is a
  literal ``x`` (``lib\\[1\\].so``).
- ``**`` crosses ``/``. As a whole segment it also matches no segment at all:
  ``/a/**/b`` matches ``/a/b`` and ``/a/x/y/b``; ``**/x`` matches ``x`` at any
  depth, ``/x`` included; ``/a/**`` matches everything under ``/a`` (not
  ``/a`` itself).
- A pattern without ``/`` is matched against the base name (``*.pem``,
  ``id_rsa``); a pattern with one against the whole path, anchored at the
  root (``etc/*.conf`` is ``/etc/*.conf``). A trailing ``/`` is ignored.
- Matching is case-sensitive, like the file systems inside images.

Each pattern becomes one regular expression, so matching 500k paths stays a
C loop per path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

GLOB_CHARS = "*?["

Matcher = Callable[[str], bool]


class GlobError(ValueError):
    """A pattern that cannot be compiled (empty, or a class regex rejects)."""


def is_glob(text: str) -> bool:
    """Whether ``text`` uses glob syntax (``*``, ``?`` or ``[``) rather than naming one path."""
    return any(ch in text for ch in GLOB_CHARS)


def _class(pat: str, i: int) -> tuple[str, int] | None:
    """Translate the class starting at ``pat[i] == '['``: (regex, index after ``]``), or None if unclosed."""
    j = i + 1
    negate = j < len(pat) and pat[j] in "!^"
    if negate:
        j += 1
    body: list[str] = []
    first = True
    while j < len(pat):
        ch = pat[j]
        if ch == "]" and not first:
            inner = "".join(body)
            # A class never matches "/", even a range that spans it ([!-0]).
            return ("(?!/)" + ("[^" if negate else "[") + inner + "]"), j + 1
        if ch == "\\" and j + 1 < len(pat):
            j += 1
            body.append(re.escape(pat[j]))
        elif ch == "-":
            body.append("-")
        else:
            body.append(re.escape(ch))
        first = False
        j += 1
    return None


def _segment(seg: str) -> str:
    """Regex for one path segment (no ``/`` inside); ``**`` within a segment crosses ``/``."""
    out: list[str] = []
    i = 0
    n = len(seg)
    while i < n:
        ch = seg[i]
        if ch == "*":
            if i + 1 < n and seg[i + 1] == "*":
                while i < n and seg[i] == "*":
                    i += 1
                out.append(".*")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            cls = _class(seg, i)
            if cls is not None:
                out.append(cls[0])
                i = cls[1]
                continue
            out.append(re.escape(ch))
        elif ch == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(seg[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


def _split(pat: str) -> list[str]:
    """Split on ``/`` outside classes, so ``[/]`` and ``[!/]`` stay one segment."""
    parts: list[str] = []
    cur: list[str] = []
    i = 0
    while i < len(pat):
        ch = pat[i]
        if ch == "\\" and i + 1 < len(pat):
            cur.append(pat[i : i + 2])
            i += 2
            continue
        if ch == "[":
            cls = _class(pat, i)
            if cls is not None:
                cur.append(pat[i : cls[1]])
                i = cls[1]
                continue
        if ch == "/":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def translate(pattern: str) -> tuple[str, bool]:
    """(regex source, whole path?) for a pattern; the regex is meant for ``fullmatch``.

    For a base-name pattern (no ``/``) the regex matches the base name only.
    """
    pat = pattern.strip()
    if not pat:
        raise GlobError("empty path pattern")
    if len(pat) > 1:
        pat = pat.rstrip("/") or "/"
    segs = _split(pat)
    if len(segs) == 1:
        # Base-name patterns: "**" can only mean "*" inside one name.
        return _segment(re.sub(r"\*\*+", "*", pat)), False
    if segs[0] != "":
        segs.insert(0, "")  # anchor a relative pattern at the root
    out: list[str] = []
    body = segs[1:]
    for idx, seg in enumerate(body):
        if seg == "**":
            # A whole "**" segment: zero or more segments here; at the end, at least one.
            out.append("/.+" if idx == len(body) - 1 else "(?:/.+)?")
        else:
            out.append("/" + _segment(seg))
    return "".join(out), True


def compile_glob(pattern: str) -> Matcher:
    """A predicate ``path -> bool`` for a glob (see the module docstring for the rules).

    Paths are the model's: absolute, normalised, no trailing ``/``.
    Raises :class:`GlobError` for an empty pattern.
    """
    source, whole = translate(pattern)
    try:
        rx = re.compile(source, re.DOTALL)
    except re.error as exc:
        raise GlobError(f"{pattern!r}: bad path pattern ({exc})") from None
    full = rx.fullmatch
    if whole:
        return lambda p: full(p) is not None
    # The base name, matched in place: no slice per path.
    return lambda p: full(p, p.rfind("/") + 1) is not None


def compile_globs(patterns: Iterable[str]) -> Matcher:
    """One predicate matching a path if any of ``patterns`` does (none: never)."""
    matchers = [compile_glob(p) for p in patterns]
    if not matchers:
        return lambda p: False
    if len(matchers) == 1:
        return matchers[0]
    return lambda p: any(m(p) for m in matchers)
