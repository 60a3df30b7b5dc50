"""Plain-text formatting shared by every view: sizes, build commands, file modes.

One home so the CLI, the report and the UI print the same ``1.2 MB`` and the
same ``RUN apk add``. It imports nothing of the model: the model, merge and
analysis never format text (tests/test_cli_shape.py holds them to it). The
gate imports it only for the sentences of its ``layerscope.ci/1`` checks.
"""

from __future__ import annotations

import stat

from .textsafe import safe

TYPE_CHAR = {"file": "-", "dir": "d", "symlink": "l", "hardlink": "h", "char": "c", "block": "b", "fifo": "p"}


def human_size(n: float) -> str:
    """Decimal units, as ``du --si`` and dive: ``825 B``, ``1.0 kB``, ``20.0 MB``."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 layer``, ``2 layers``, ``0 layers``: the count with the word it takes.

    ``words`` is the plural when it is not ``word + "s"`` (``1 entry``, ``2 entries``).
    """
    return f"{n} {word if n == 1 else (words if words is not None else word + 's')}"


def short_command(cmd: str, width: int = 0) -> str:
    """``/bin/sh -c #(nop) ENV A=b`` -> ``ENV A=b``; ``/bin/sh -c x`` -> ``RUN x``."""
    c = cmd.strip()
    for prefix in ("/bin/sh -c #(nop) ", "/bin/sh -c #(nop)"):
        if c.startswith(prefix):
            c = c[len(prefix) :].strip()
            break
    else:
        if c.startswith("/bin/sh -c "):
            c = "RUN " + c[len("/bin/sh -c ") :]
        elif c.startswith("|"):  # buildkit: |N ARG=.. /bin/sh -c cmd
            parts = c.split("/bin/sh -c ", 1)
            if len(parts) == 2:
                c = "RUN " + parts[1]
    c = " ".join(c.split())
    c = safe(c)
    if width and len(c) > width:
        c = c[: width - 1] + "…"
    return c


def mode_string(type_: str, mode: int) -> str:
    """``dir`` + 0o1777 -> ``drwxrwxrwt`` (setuid/setgid/sticky shown as s/t; ``h`` for a hardlink)."""
    return TYPE_CHAR.get(type_, "?") + stat.filemode(mode)[1:]


def percent(fraction: float, digits: int = 2) -> str:
    """The one way a share is shown to people: ``0.9996`` -> ``99.96 %``."""
    return f"{100 * fraction:.{digits}f} %"
