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
- ``**`` as a whole segment crosses ``/`` and also matches no segment at all:
  ``/a/**/b`` matches ``/a/b`` and ``/a/x/y/b``; ``**/x`` matches ``x`` at any
  depth, ``/x`` included; ``/a/**`` matches everything under ``/a`` (not
  ``/a`` itself). Elsewhere ``**`` is ``*`` (as in .gitignore): ``/usr/**.so``
  is ``/usr/*.so``; write ``/usr/**/*.so``.
- A pattern without ``/`` is matched against the base name (``*.pem``,
  ``id_rsa``); a pattern with one against the whole path, anchored at the
  root (``etc/*.conf`` is ``/etc/*.conf``). A trailing ``/`` is ignored.
- Matching is case-sensitive, like the file systems inside images.

Each pattern becomes one regular expression, so matching 500k paths stays a
C loop per path, built so that no path makes it backtrack more than linearly
per star.
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
    """Regex for one whole path segment; every run of ``*`` is one ``[^/]*``.

    A chunk between two stars is matched at its earliest place and never
    retried (an atomic group, as :func:`fnmatch.translate` does): the star
    after it can absorb anything the chunk skipped, so nothing is lost, and
    ``*a*a*a*b`` against a long name stays linear instead of polynomial.
    """
    chunks: list[list[str]] = [[]]  # fixed-width pieces between stars
    i = 0
    n = len(seg)
    while i < n:
        ch = seg[i]
        if ch == "*":
            while i < n and seg[i] == "*":
                i += 1
            chunks.append([])
            continue
        if ch == "?":
            chunks[-1].append("[^/]")
        elif ch == "[" and (cls := _class(seg, i)) is not None:
            chunks[-1].append(cls[0])
            i = cls[1]
            continue
        elif ch == "\\" and i + 1 < n:
            i += 1
            chunks[-1].append(re.escape(seg[i]))
        else:
            chunks[-1].append(re.escape(ch))
        i += 1
    if len(chunks) == 1:
        return "".join(chunks[0])
    middle = "".join(f"(?>[^/]*?{''.join(c)})" for c in chunks[1:-1] if c)
    return "".join(chunks[0]) + middle + "[^/]*" + "".join(chunks[-1])


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
    Between two ``**`` segments the fixed segments are placed at their
    earliest match and never retried, as stars are inside a segment: with
    untrusted paths 4096 characters deep, ``**/a/**/b/**/x`` must not backtrack
    polynomially.
    """
    pat = pattern.strip()
    if not pat:
        raise GlobError("empty path pattern")
    if len(pat) > 1:
        pat = pat.rstrip("/") or "/"
    segs = _split(pat)
    if len(segs) == 1:
        return _segment(pat), False
    if segs[0] == "":
        del segs[0]  # "/a/b" and "a/b" both start at the root
    # Runs of fixed segments, split at each "**" segment (consecutive ones are one).
    runs: list[list[str]] = [[]]
    for seg in segs:
        if seg == "**":
            if runs[-1] or len(runs) == 1:
                runs.append([])
        else:
            runs[-1].append("/" + _segment(seg))
    out = "".join(runs[0])
    for run in runs[1:-1]:
        out += "(?>(?:/[^/]*)*?" + "".join(run) + "(?=/|\\Z))"
    if len(runs) > 1:
        last = runs[-1]
        # After the last "**": zero or more segments then the last run; "**" at the end: at least one.
        out += "(?:/.*)?" + "".join(last) if last else "/.+"
    return out, True


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
