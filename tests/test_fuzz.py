"""Fuzz-style: mutated sample images end as a LayerscopeError or a loaded image.

Deterministic (seeded) and bounded in time. Mutations: random byte flips,
tar header fields rewritten with a *valid* checksum (so the parsers see the
lie rather than a checksum error), truncation, splicing, zeroed ranges.
"""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SAMPLE_IMAGES, SAMPLES
from imagegen import run_cli

from layerscope.api import load
from layerscope.errors import LayerscopeError

CASES_PER_IMAGE = 120
CASE_SECONDS = 10  # a hang is a failure
TOTAL_SECONDS = 60


class Hang(BaseException):
    pass


def _alarm(_sig: int, _frame: object) -> None:
    raise Hang


def header_offsets(data: bytes) -> list[int]:
    """512-aligned blocks that look like ustar headers (outer and uncompressed inner tars)."""
    out = []
    pos = data.find(b"ustar", 0)
    while pos >= 0:
        start = pos - 257
        if start >= 0 and start % 512 == 0:
            out.append(start)
        pos = data.find(b"ustar", pos + 1)
    return out


def fix_checksum(buf: bytearray, off: int) -> None:
    buf[off + 148 : off + 156] = b" " * 8
    buf[off + 148 : off + 156] = b"%06o\0 " % sum(buf[off : off + 512])


FIELDS = [(0, 100), (100, 108), (124, 136), (136, 148), (156, 157), (157, 257), (345, 500)]
NASTY = [
    b"../../../../etc/passwd\0",
    b"/\0",
    b"\0",
    b"-1\0",
    b"77777777777\0",
    b"\xff" * 12,
    b"x",
    b"2",
    b"1",
    b"5",
    b"L",
    b"x",
    b"g",
    b"S",
    b".wh..wh..opq\0",
    b"\x1b[2J\0",
    b"\x80" + b"\xff" * 11,
]


def mutations(data: bytes, rnd: random.Random) -> Iterator[tuple[str, bytes]]:
    headers = header_offsets(data)
    n = len(data)
    while True:
        kind = rnd.choice(["flip", "header", "header", "truncate", "splice", "zero"])
        buf = bytearray(data)
        if kind == "flip":
            for _ in range(rnd.randint(1, 8)):
                buf[rnd.randrange(n)] = rnd.randrange(256)
        elif kind == "header" and headers:
            off = rnd.choice(headers)
            a, b = rnd.choice(FIELDS)
            val = rnd.choice(NASTY) if rnd.random() < 0.7 else rnd.randbytes(rnd.randint(1, b - a))
            val = val[: b - a]
            buf[off + a : off + a + len(val)] = val
            fix_checksum(buf, off)
        elif kind == "truncate":
            cut = rnd.choice([rnd.randrange(n), rnd.choice(headers or [0]) + rnd.randrange(600)])
            buf = buf[:cut]
        elif kind == "splice":
            a = rnd.randrange(n)
            b = rnd.randrange(n)
            length = rnd.randint(1, 4096)
            buf[a:a] = data[b : b + length]
        else:
            a = rnd.randrange(n)
            buf[a : a + rnd.randint(1, 2048)] = bytes(min(n - a, 2048))
        yield kind, bytes(buf)


@pytest.mark.parametrize("name", SAMPLE_IMAGES)
def test_mutated_samples_fail_cleanly_or_load(tmp_path: Path, name: str) -> None:
    data = (SAMPLES / name).read_bytes()
    rnd = random.Random(f"layerscope-fuzz-{name}")
    old = signal.signal(signal.SIGALRM, _alarm)
    started = time.monotonic()
    outcomes = {"error": 0, "ok": 0, "warned": 0}
    try:
        gen = mutations(data, rnd)
        for i in range(CASES_PER_IMAGE):
            kind, blob = next(gen)
            path = tmp_path / f"case{i}.tar"
            path.write_bytes(blob)
            signal.alarm(CASE_SECONDS)
            try:
                merged = load(str(path), workers=1)
            except LayerscopeError as exc:
                msg = str(exc)
                assert msg and "\n" not in msg, (i, kind, msg)
                outcomes["error"] += 1
            except Hang:
                pytest.fail(f"case {i} ({kind}) of {name} took over {CASE_SECONDS}s")
            else:
                warnings = merged.image.messages()
                assert not any("internal error" in w for w in warnings), (i, kind, warnings)
                outcomes["warned" if warnings else "ok"] += 1
            finally:
                signal.alarm(0)
            if i % 8 == 0:  # the whole CLI path, in-process: one line or a report, never a traceback
                for args in (["report", str(path)], ["report", "--json", str(path)]):
                    signal.alarm(CASE_SECONDS)
                    try:
                        code, out, err = run_cli(*args)
                    finally:
                        signal.alarm(0)
                    assert "Traceback" not in err and "internal error" not in err, (i, kind, err)
                    if code:
                        assert err.count("\n") == 1 and err.startswith("layerscope: error:"), (i, kind, err)
                    else:
                        assert out and not err
            path.unlink()
    finally:
        signal.signal(signal.SIGALRM, old)
    assert time.monotonic() - started < TOTAL_SECONDS
    assert outcomes["error"] + outcomes["warned"] > 0, outcomes  # the mutations did bite
