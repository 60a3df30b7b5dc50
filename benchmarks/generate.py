#!/usr/bin/env python3
"""Deterministic scale-ladder generator for layerscope benchmarks.

Writes synthetic-but-realistic container images, one per (shape, rung, format):

    DIR/<shape>-<rung>-<format>.tar      e.g. bench/whiteout-100k-docker.tar
    DIR/<shape>-<rung>.meta.json         entry/layer counts, sizes, diff_ids

Shapes   add | override | whiteout | opaque          (see benchmarks/README.md)
Rungs    10k | 100k | 500k (any "<n>k" / "<n>m" / integer works): total tar
         entries across all layers (dirs, files, links, whiteouts), +-1%.
Formats  docker    legacy `docker save` archive (manifest.json, <id>/layer.tar)
         oci-gzip  OCI image-layout archive, gzip layers
         oci-zstd  OCI image-layout archive, zstd layers

Everything is seeded from the shape and rung name and every mtime is fixed, so
the same command produces byte-identical files on every run (given the same
zlib / zstandard versions for the compressed flavours).  Files that already
exist are skipped.  Only the standard library and `zstandard` are used.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import random
import shutil
import sys
import tarfile
import time
import zlib

SHAPES = ("add", "override", "whiteout", "opaque")
FORMATS = ("docker", "oci-gzip", "oci-zstd")
DEFAULT_RUNGS = ("10k", "100k", "500k")
NUM_LAYERS = 20
BASE_MTIME = 1_700_000_000  # 2023-11-14T22:13:20Z
DAY = 86_400
POOL_SIZE = 4 << 20
MAX_FILE = 512 << 10

MT_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"


def parse_rung(s: str) -> int:
    s = s.strip().lower()
    mult = 1
    if s.endswith("k"):
        mult, s = 1000, s[:-1]
    elif s.endswith("m"):
        mult, s = 1_000_000, s[:-1]
    return int(float(s) * mult)


# --------------------------------------------------------------------------
# names and content
# --------------------------------------------------------------------------

SYLL = [
    "ab",
    "ac",
    "ad",
    "al",
    "am",
    "an",
    "ar",
    "as",
    "at",
    "ba",
    "be",
    "bi",
    "bo",
    "bu",
    "ca",
    "ce",
    "ci",
    "co",
    "cu",
    "da",
    "de",
    "di",
    "do",
    "du",
    "el",
    "em",
    "en",
    "er",
    "es",
    "et",
    "fa",
    "fe",
    "fi",
    "fo",
    "ga",
    "ge",
    "gi",
    "go",
    "ha",
    "he",
    "hi",
    "ho",
    "id",
    "il",
    "im",
    "in",
    "io",
    "ir",
    "is",
    "it",
    "ka",
    "ke",
    "ki",
    "ko",
    "la",
    "le",
    "li",
    "lo",
    "lu",
    "ma",
    "me",
    "mi",
    "mo",
    "mu",
    "na",
    "ne",
    "ni",
    "no",
    "nu",
    "ob",
    "ol",
    "om",
    "on",
    "op",
    "or",
    "os",
    "ot",
    "pa",
    "pe",
    "pi",
    "po",
    "pu",
    "ra",
    "re",
    "ri",
    "ro",
    "ru",
    "sa",
    "se",
    "si",
    "so",
    "su",
    "ta",
    "te",
    "ti",
    "to",
    "tu",
    "ul",
    "um",
    "un",
    "ur",
    "us",
    "va",
    "ve",
    "vi",
    "vo",
    "xa",
    "xe",
    "xi",
    "za",
    "ze",
    "zi",
    "zo",
    "lib",
    "util",
    "core",
    "net",
    "xml",
    "json",
    "http",
    "ssl",
    "zip",
    "mod",
    "sys",
]
EXTS = (
    ".py",
    ".py",
    ".py",
    ".pyc",
    ".so",
    ".h",
    ".c",
    ".js",
    ".js",
    ".json",
    ".txt",
    ".md",
    ".gz",
    ".mo",
    ".conf",
    ".html",
    ".css",
    ".rb",
    ".pm",
    ".go",
    ".a",
    ".pem",
    ".xml",
    ".yaml",
    ".sh",
    "",
    "",
    ".d.ts",
    ".map",
)
ROOTS = (
    "usr/lib/python3/dist-packages",
    "usr/local/lib/python3.11/site-packages",
    "usr/share/doc",
    "usr/share/locale/de/LC_MESSAGES",
    "usr/share/man/man3",
    "usr/lib/x86_64-linux-gnu",
    "usr/include",
    "opt/app/node_modules",
    "opt/app/node_modules/@scope/pkgs/node_modules",
    "usr/share/perl5",
    "var/lib/gems/3.1.0/gems",
    "usr/share/zoneinfo/right",
    "etc",
    "usr/lib/jvm/java-17-openjdk-amd64/lib",
    "srv/www/static/assets",
)


def word(rng: random.Random, lo: int = 2, hi: int = 4) -> str:
    return "".join(rng.choice(SYLL) for _ in range(rng.randint(lo, hi)))


def file_name(rng: random.Random) -> str:
    n = word(rng, 1, 4)
    r = rng.random()
    if r < 0.3:
        n += "_" + word(rng, 1, 3)
    elif r < 0.4:
        n += "-" + str(rng.randint(0, 99))
    elif r < 0.45:
        n = "test_" + n
    return n + rng.choice(EXTS)


def file_size(rng: random.Random) -> int:
    """Skewed size: ~5% empty, lognormal body (median ~400 B, mean ~1 KiB), rare big files."""
    r = rng.random()
    if r < 0.05:
        return 0
    if r < 0.051:
        return rng.randint(64 << 10, MAX_FILE)  # rare large file (.so, .jar ...)
    return min(int(rng.lognormvariate(6.0, 1.25)), 256 << 10)


def make_pool() -> bytes:
    """4 MiB of moderately compressible text-ish / binary-ish bytes."""
    rng = random.Random("layerscope-bench-pool")
    out = bytearray()
    words = [word(rng, 1, 3) for _ in range(2000)]
    while len(out) < POOL_SIZE:
        if rng.random() < 0.97:
            line = " ".join(rng.choice(words) for _ in range(rng.randint(3, 14)))
            out += line.encode() + b"\n"
        else:
            out += rng.randbytes(rng.randint(16, 512))
    return bytes(out[:POOL_SIZE])


POOL = b""


def content(seed: int, size: int) -> bytes:
    if size == 0:
        return b""
    head = b"%016x\n" % seed
    if size <= len(head):
        return head[:size]
    off = (seed * 2654435761) % (POOL_SIZE - size)
    return head + POOL[off : off + size - len(head)]


# --------------------------------------------------------------------------
# filesystem model
# --------------------------------------------------------------------------


class IndexedList:
    """List with O(1) append / remove / random choice (deterministic order)."""

    def __init__(self):
        self.items: list[str] = []
        self.pos: dict[str, int] = {}

    def add(self, x: str) -> None:
        if x not in self.pos:
            self.pos[x] = len(self.items)
            self.items.append(x)

    def discard(self, x: str) -> None:
        i = self.pos.pop(x, None)
        if i is None:
            return
        last = self.items.pop()
        if i < len(self.items):
            self.items[i] = last
            self.pos[last] = i

    def choice(self, rng: random.Random) -> str:
        return self.items[rng.randrange(len(self.items))]

    def __len__(self) -> int:
        return len(self.items)


def parent(p: str) -> str:
    i = p.rfind("/")
    return "" if i < 0 else p[:i]


def depth(p: str) -> int:
    return p.count("/") + 1


class FS:
    """Visible filesystem after the layers emitted so far."""

    def __init__(self):
        # path -> ("dir", mode) | ("file", seed, size, mode, mtime) | ("sym", target)
        self.nodes: dict[str, tuple] = {}
        self.children: dict[str, dict[str, None]] = {"": {}}
        self.files = IndexedList()  # regular files (incl. hardlinks)
        self.dirs = IndexedList()  # dirs of depth >= 3 (candidates for rm / opaque)

    def ensure_dir(self, p: str) -> None:
        if p == "" or p in self.nodes:
            return
        self.ensure_dir(parent(p))
        self.nodes[p] = ("dir", 0o755)
        self.children[p] = {}
        self.children[parent(p)][p] = None
        if depth(p) >= 3:
            self.dirs.add(p)

    def put(self, p: str, node: tuple) -> None:
        if p in self.nodes:
            self.remove(p)
        self.ensure_dir(parent(p))
        self.nodes[p] = node
        self.children[parent(p)][p] = None
        if node[0] == "dir":
            self.children[p] = {}
            if depth(p) >= 3:
                self.dirs.add(p)
        elif node[0] == "file":
            self.files.add(p)

    def remove(self, p: str) -> None:
        node = self.nodes.pop(p, None)
        if node is None:
            return
        self.children[parent(p)].pop(p, None)
        if node[0] == "dir":
            for c in list(self.children.pop(p)):
                self._drop(c)
            self.dirs.discard(p)
        else:
            self.files.discard(p)

    def _drop(self, p: str) -> None:
        node = self.nodes.pop(p)
        if node[0] == "dir":
            for c in list(self.children.pop(p)):
                self._drop(c)
            self.dirs.discard(p)
        else:
            self.files.discard(p)

    def subtree_size(self, p: str, cap: int) -> int:
        n, stack = 0, [p]
        while stack and n <= cap:
            q = stack.pop()
            n += 1
            stack.extend(self.children.get(q, ()))
        return n


# --------------------------------------------------------------------------
# layer construction
# --------------------------------------------------------------------------


class Layer:
    """Entries of one layer: path -> spec.  Parent dirs are added on emit."""

    def __init__(self, index: int):
        self.index = index
        self.mtime = BASE_MTIME + index * DAY
        self.entries: dict[str, tuple] = {}
        self.deleted: set[str] = set()  # paths whited out in this layer

    def count(self) -> int:
        return len(self.entries) + len(self._missing_parents())

    def _missing_parents(self) -> set:
        miss = set()
        for p in self.entries:
            q = parent(p)
            while q and q not in self.entries and q not in miss:
                miss.add(q)
                q = parent(q)
        return miss


class Builder:
    def __init__(self, shape: str, total: int):
        self.shape = shape
        self.total = total
        self.rng = random.Random(f"layerscope-bench/{shape}/{total}")
        self.fs = FS()
        self.seed_counter = 0
        self.pkg_names: set[str] = set()
        self.approx = 0  # running entry estimate for the current layer
        self.mut_cap = 0

    def new_seed(self) -> int:
        self.seed_counter += 1
        return self.seed_counter

    # -- primitive ops (update both layer and fs) ---------------------------
    def _touch_parents(self, layer: Layer, p: str) -> None:
        q = parent(p)
        while q and q not in layer.entries:
            node = self.fs.nodes.get(q)
            layer.entries[q] = ("dir", node[1] if node and node[0] == "dir" else 0o755)
            self.approx += 1
            q = parent(q)

    def op(self, layer: Layer, p: str, spec: tuple) -> bool:
        if layer.deleted:
            # never put entries below (or at) a path this same layer whites out
            q = spec[1] if spec[0] == "wh" else p
            while q:
                if q in layer.deleted:
                    return False
                q = parent(q)
        self._touch_parents(layer, p)
        if p not in layer.entries:
            self.approx += 1
        layer.entries[p] = spec
        kind = spec[0]
        if kind == "dir":
            if p not in self.fs.nodes or self.fs.nodes[p][0] != "dir":
                self.fs.put(p, ("dir", spec[1]))
        elif kind == "file":
            self.fs.put(p, spec)
        elif kind == "hard":
            tgt = layer.entries[spec[1]]
            self.fs.put(p, ("file", *tgt[1:]))
        elif kind == "sym":
            self.fs.put(p, spec)
        elif kind == "wh":
            self.fs.remove(spec[1])
            layer.deleted.add(spec[1])
        elif kind == "opq":
            d = parent(p)
            for c in list(self.fs.children.get(d, ())):
                self.fs.remove(c)
        return True

    def new_file_spec(self, layer: Layer, mode: int | None = None) -> tuple:
        rng = self.rng
        if mode is None:
            mode = 0o755 if rng.random() < 0.08 else 0o644
        return ("file", self.new_seed(), file_size(rng), mode, layer.mtime)

    # -- add a package of new files ------------------------------------------
    def add_package(self, layer: Layer, n_entries: int) -> None:
        rng = self.rng
        while True:
            name = word(rng, 2, 4)
            if rng.random() < 0.3:
                name += "-" + word(rng, 1, 2)
            if name not in self.pkg_names:
                break
        self.pkg_names.add(name)
        root = rng.choice(ROOTS) + "/" + name
        if rng.random() < 0.06:  # deep npm-style nesting: paths > 100 bytes (GNU long names)
            for _ in range(rng.randint(1, 3)):
                root += "/node_modules/" + word(rng, 2, 4)
        if rng.random() < 0.3:
            root += f"-{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}"
        dirs = [root]
        self.op(layer, root, ("dir", 0o755))
        n_dirs = max(0, int(n_entries / 9))
        for _ in range(n_dirs):
            d = rng.choice(dirs) + "/" + word(rng, 1, 3)
            if d in layer.entries or d in self.fs.nodes:
                continue
            self.op(layer, d, ("dir", 0o755))
            dirs.append(d)
        start = self.approx
        budget = n_entries
        while self.approx - start < budget - len(dirs):
            d = rng.choice(dirs)
            p = d + "/" + file_name(rng)
            if p in layer.entries or p in self.fs.nodes:
                continue
            r = rng.random()
            if r < 0.012:
                # hardlink pair: the name that sorts first is the regular file
                q = d + "/" + file_name(rng)
                if q in layer.entries or q in self.fs.nodes or q == p:
                    continue
                a, b = sorted((p, q), key=lambda s: s.split("/"))
                if self.op(layer, a, self.new_file_spec(layer)):
                    self.op(layer, b, ("hard", a))
            elif r < 0.04:
                # symlink: mostly relative to a sibling, some absolute, a few dangling
                s = rng.random()
                if s < 0.7 and self.fs.children.get(d):
                    sib = rng.choice(list(self.fs.children[d]))
                    tgt = sib.rsplit("/", 1)[1]
                elif s < 0.95 and len(self.fs.files):
                    tgt = "/" + self.fs.files.choice(rng)
                else:
                    tgt = "../missing/" + file_name(rng)
                self.op(layer, p, ("sym", tgt))
            else:
                self.op(layer, p, self.new_file_spec(layer))

    def add_scatter(self, layer: Layer, n: int) -> None:
        """New files dropped into existing directories of lower layers."""
        rng = self.rng
        for _ in range(n):
            if not len(self.fs.dirs):
                return
            d = self.fs.dirs.choice(rng)
            p = d + "/" + file_name(rng)
            if p in layer.entries or p in self.fs.nodes:
                continue
            self.op(layer, p, self.new_file_spec(layer))

    def fill_adds(self, layer: Layer, budget: int) -> None:
        rng = self.rng
        while self.approx < budget:
            left = budget - self.approx
            n = min(left, max(8, int(rng.lognormvariate(math.log(120), 1.0))))
            if n < 8:
                self.add_scatter(layer, n)
                if self.approx < budget:
                    self.add_scatter(layer, budget - self.approx)
                break
            self.add_package(layer, n)

    # -- shape-specific mutations ---------------------------------------------
    def overrides(self, layer: Layer, n: int) -> None:
        rng = self.rng
        for _ in range(n):
            if self.approx >= self.mut_cap:
                break
            p = self.fs.files.choice(rng)
            if p in layer.entries:
                continue
            old = self.fs.nodes[p]
            r = rng.random()
            if r < 0.5:  # content change (new bytes, maybe new size)
                spec = ("file", self.new_seed(), old[2] if rng.random() < 0.3 else file_size(rng), old[3], layer.mtime)
            elif r < 0.75:  # chmod-only copy (same bytes, new mode)
                spec = ("file", old[1], old[2], 0o755 if old[3] != 0o755 else 0o644, layer.mtime)
            elif r < 0.98:  # identical rewrite (byte-for-byte same entry)
                spec = old
            else:  # type change: file replaced by a symlink
                spec = ("sym", "/" + self.fs.files.choice(rng))
            self.op(layer, p, spec)

    def pick_dir(self, max_sub: int, min_children: int = 1) -> str | None:
        rng = self.rng
        for _ in range(50):
            if not len(self.fs.dirs):
                return None
            d = self.fs.dirs.choice(rng)
            if len(self.fs.children.get(d, ())) < min_children:
                continue
            if self.fs.subtree_size(d, max_sub) > max_sub:
                continue
            return d
        return None

    def whiteouts(self, layer: Layer, n_files: int, n_dirs: int, max_sub: int) -> None:
        rng = self.rng
        for _ in range(n_dirs):
            d = self.pick_dir(max_sub)
            if d is None or d in layer.entries:
                continue
            # whole directory with children: a single .wh.DIR entry in its parent
            self.op(layer, parent(d) + "/.wh." + d.rsplit("/", 1)[1], ("wh", d))
        for _ in range(n_files):
            if not len(self.fs.files) or self.approx >= self.mut_cap:
                return
            p = self.fs.files.choice(rng)
            if p in layer.entries:
                continue
            self.op(layer, parent(p) + "/.wh." + p.rsplit("/", 1)[1], ("wh", p))

    def opaques(self, layer: Layer, n_dirs: int, max_sub: int) -> None:
        rng = self.rng
        for _ in range(n_dirs):
            if self.approx >= self.mut_cap:
                break
            d = self.pick_dir(max_sub, min_children=2)
            if d is None or d in layer.entries:
                continue
            kids = [c for c in self.fs.children[d] if self.fs.nodes[c][0] == "file"]
            keep = [c for c in kids if rng.random() < 0.5]
            old = {c: self.fs.nodes[c] for c in keep}
            self.op(layer, d, ("dir", 0o755))
            self.op(layer, d + "/.wh..wh..opq", ("opq",))
            for c in keep:  # re-added children: half identical, half new content
                o = old[c]
                spec = o if rng.random() < 0.5 else ("file", self.new_seed(), file_size(rng), o[3], layer.mtime)
                self.op(layer, c, spec)
            for _ in range(rng.randint(0, 3)):  # brand-new children
                p = d + "/" + file_name(rng)
                if p not in layer.entries:
                    self.op(layer, p, self.new_file_spec(layer))

    # -- the whole image --------------------------------------------------------
    def layer_budgets(self) -> list[int]:
        w = [4.0] + [1.0] * (NUM_LAYERS - 1)  # big base layer, then 19 app layers
        s = sum(w)
        b = [round(self.total * x / s) for x in w]
        b[-1] += self.total - sum(b)
        return b

    def build(self):
        """Yield (Layer, sorted entry list) for each layer."""
        rng = self.rng
        half = NUM_LAYERS // 2
        for i, budget in enumerate(self.layer_budgets()):
            layer = Layer(i)
            self.approx = 0
            if i == 0:
                for d in ("bin", "etc", "usr/bin", "usr/sbin", "usr/lib", "var/log", "tmp", "root"):
                    self.op(layer, d, ("dir", 0o1777 if d == "tmp" else 0o755))
            mutate = self.shape != "add" and i >= half
            if mutate:
                n_mut = int(budget * 0.5)
                # mutations + the parent dirs they touch
                self.mut_cap = int(budget * (0.8 if self.shape == "whiteout" else 0.6))
                if self.shape == "override":
                    self.overrides(layer, n_mut)
                elif self.shape == "whiteout":
                    max_sub = max(20, self.total // 2000)
                    n_dirs = max(1, n_mut // 60)
                    self.whiteouts(layer, n_mut - n_dirs * 4, n_dirs, max_sub)
                elif self.shape == "opaque":
                    max_sub = max(20, self.total // 2000)
                    n_dirs = max(1, n_mut // 12)
                    self.opaques(layer, n_dirs, max_sub)
            if i > 0 and rng.random() < 0.5:
                self.add_scatter(layer, max(1, budget // 50))
            self.fill_adds(layer, budget)
            yield layer, emit_order(layer)


def emit_order(layer: Layer) -> list[tuple[str, tuple]]:
    ents = dict(layer.entries)
    for q in layer._missing_parents():
        ents[q] = ("dir", 0o755)
    return sorted(ents.items(), key=lambda kv: kv[0].split("/"))


# --------------------------------------------------------------------------
# tar writing
# --------------------------------------------------------------------------


class HashWriter:
    def __init__(self, f):
        self.f = f
        self.h = hashlib.sha256()
        self.n = 0

    def write(self, b) -> None:
        self.f.write(b)
        self.h.update(b)
        self.n += len(b)


def write_layer_tar(path: str, layer: Layer, entries) -> dict:
    stats = {
        "entries": 0,
        "dirs": 0,
        "files": 0,
        "hardlinks": 0,
        "symlinks": 0,
        "whiteouts": 0,
        "opaque": 0,
        "content_bytes": 0,
    }
    mt = layer.mtime
    with open(path, "wb") as raw:
        w = HashWriter(raw)
        buf = io.BytesIO()
        for p, spec in entries:
            ti = tarfile.TarInfo(p)
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = "root"
            ti.mtime = mt
            ti.mode = 0o644
            data = b""
            k = spec[0]
            if k == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = spec[1]
                stats["dirs"] += 1
            elif k == "file":
                data = content(spec[1], spec[2])
                ti.size = len(data)
                ti.mode = spec[3]
                ti.mtime = spec[4]
                stats["files"] += 1
                stats["content_bytes"] += len(data)
            elif k == "hard":
                ti.type = tarfile.LNKTYPE
                ti.linkname = spec[1]
                stats["hardlinks"] += 1
            elif k == "sym":
                ti.type = tarfile.SYMTYPE
                ti.linkname = spec[1]
                ti.mode = 0o777
                stats["symlinks"] += 1
            elif k == "wh":
                ti.mode = 0o600  # empty regular file, as docker writes them
                stats["whiteouts"] += 1
            elif k == "opq":
                ti.mode = 0o600
                stats["opaque"] += 1
            buf.write(ti.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape"))
            if data:
                buf.write(data)
                pad = -len(data) % 512
                if pad:
                    buf.write(b"\0" * pad)
            stats["entries"] += 1
            if buf.tell() > (1 << 20):
                w.write(buf.getvalue())
                buf.seek(0)
                buf.truncate()
        buf.write(b"\0" * 1024)  # end-of-archive
        w.write(buf.getvalue())
        # pad to a 10 KiB record multiple like GNU tar / Go archive/tar do not; keep it minimal
    stats["size"] = w.n
    stats["diff_id"] = "sha256:" + w.h.hexdigest()
    return stats


def compress_file(src: str, dst: str, kind: str) -> tuple[str, int]:
    h = hashlib.sha256()
    n = 0
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        if kind == "gzip":
            co = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip wrapper, mtime 0
            for chunk in iter(lambda: fi.read(1 << 20), b""):
                out = co.compress(chunk)
                if out:
                    fo.write(out)
                    h.update(out)
                    n += len(out)
            out = co.flush()
            fo.write(out)
            h.update(out)
            n += len(out)
        else:
            import zstandard

            cctx = zstandard.ZstdCompressor(level=3, threads=0, write_content_size=False)
            co = cctx.compressobj()
            for chunk in iter(lambda: fi.read(1 << 20), b""):
                out = co.compress(chunk)
                if out:
                    fo.write(out)
                    h.update(out)
                    n += len(out)
            out = co.flush()
            fo.write(out)
            h.update(out)
            n += len(out)
    return "sha256:" + h.hexdigest(), n


class OuterTar:
    """Outer archive writer with fixed metadata (deterministic)."""

    def __init__(self, path: str):
        self.f = open(path, "wb")  # noqa: SIM115 (closed by close())
        self.mtime = BASE_MTIME + NUM_LAYERS * DAY

    def _hdr(self, name, type_, size=0, mode=0o644):
        ti = tarfile.TarInfo(name)
        ti.type = type_
        ti.size = size
        ti.mode = mode
        ti.mtime = self.mtime
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = ""
        self.f.write(ti.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))

    def dir(self, name):
        self._hdr(name, tarfile.DIRTYPE, mode=0o755)

    def bytes(self, name, data: bytes):
        self._hdr(name, tarfile.REGTYPE, len(data))
        self.f.write(data)
        self.f.write(b"\0" * (-len(data) % 512))

    def file(self, name, path):
        size = os.path.getsize(path)
        self._hdr(name, tarfile.REGTYPE, size)
        with open(path, "rb") as fi:
            shutil.copyfileobj(fi, self.f, 4 << 20)
        self.f.write(b"\0" * (-size % 512))

    def close(self):
        self.f.write(b"\0" * 1024)
        self.f.close()


def jdump(o) -> bytes:
    return json.dumps(o, separators=(",", ":"), sort_keys=False).encode()


def iso(t: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def make_config(shape: str, rung: str, layer_stats: list[dict]) -> dict:
    history = []
    for i, _st in enumerate(layer_stats):
        t = iso(BASE_MTIME + i * DAY)
        if i == 0:
            history.append(
                {
                    "created": t,
                    "created_by": "/bin/sh -c #(nop) ADD file:"
                    "6b2cf4f41f6a9c36d0d4b0be0b1a76bc2b4c9a2f0e0e3d5f8c1c1f1d1c4f6a3e in / ",
                }
            )
            history.append({"created": t, "created_by": '/bin/sh -c #(nop)  CMD ["bash"]', "empty_layer": True})
            history.append(
                {
                    "created": t,
                    "created_by": "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "comment": "buildkit.dockerfile.v0",
                    "empty_layer": True,
                }
            )
            continue
        if i == 5:
            history.append({"created": t, "created_by": "WORKDIR /opt/app", "comment": "buildkit.dockerfile.v0"})
            continue
        if i == NUM_LAYERS // 2:
            history.append(
                {
                    "created": t,
                    "created_by": "ENV BENCH_PHASE=mutate",
                    "comment": "buildkit.dockerfile.v0",
                    "empty_layer": True,
                }
            )
        cmd = {
            "add": f"pip install --no-cache-dir pkg{i}",
            "override": f"sed -i s/a/b/ /usr/lib/**/*.py && chmod -R +x /usr/local/lib  # step {i}",
            "whiteout": f"rm -rf /usr/share/doc/* /usr/lib/python3/dist-packages/*/tests  # step {i}",
            "opaque": f"rm -rf /opt/app/node_modules/* && npm ci  # step {i}",
        }[shape if i >= NUM_LAYERS // 2 else "add"]
        history.append(
            {"created": t, "created_by": "RUN /bin/sh -c " + cmd + " # buildkit", "comment": "buildkit.dockerfile.v0"}
        )
    t_end = iso(BASE_MTIME + (NUM_LAYERS - 1) * DAY)
    history.append(
        {
            "created": t_end,
            "created_by": "EXPOSE map[8080/tcp:{}]",
            "comment": "buildkit.dockerfile.v0",
            "empty_layer": True,
        }
    )
    history.append(
        {
            "created": t_end,
            "created_by": 'CMD ["python3" "-m" "app"]',
            "comment": "buildkit.dockerfile.v0",
            "empty_layer": True,
        }
    )
    return {
        "architecture": "amd64",
        "os": "linux",
        "created": t_end,
        "config": {
            "Env": ["PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin", "BENCH_PHASE=mutate"],
            "Cmd": ["python3", "-m", "app"],
            "WorkingDir": "/opt/app",
            "ExposedPorts": {"8080/tcp": {}},
            "Labels": {"org.opencontainers.image.title": f"layerscope-bench {shape} {rung}"},
        },
        "rootfs": {"type": "layers", "diff_ids": [s["diff_id"] for s in layer_stats]},
        "history": history,
    }


def write_docker(out: str, shape: str, rung: str, layer_paths, layer_stats, config: bytes) -> None:
    cfg_hex = hashlib.sha256(config).hexdigest()
    ids, parent_id = [], ""
    for st in layer_stats:
        lid = hashlib.sha256((parent_id + "\n" + st["diff_id"]).encode()).hexdigest()
        ids.append(lid)
        parent_id = lid
    repo = f"layerscope-bench/{shape}"
    manifest = [
        {"Config": cfg_hex + ".json", "RepoTags": [f"{repo}:{rung}"], "Layers": [f"{lid}/layer.tar" for lid in ids]}
    ]
    records = {
        cfg_hex + ".json": ("bytes", config),
        "manifest.json": ("bytes", jdump(manifest)),
        "repositories": ("bytes", jdump({repo: {rung: ids[-1]}})),
    }
    for i, lid in enumerate(ids):
        v1 = {"id": lid, "created": iso(BASE_MTIME + i * DAY), "os": "linux"}
        if i:
            v1["parent"] = ids[i - 1]
        records[lid] = ("dir", None)
        records[lid + "/VERSION"] = ("bytes", b"1.0")
        records[lid + "/json"] = ("bytes", jdump(v1))
        records[lid + "/layer.tar"] = ("file", layer_paths[i])
    tmp = out + ".part"
    t = OuterTar(tmp)
    for name in sorted(records):  # docker save tars its temp dir in lexical order
        kind, v = records[name]
        if kind == "dir":
            t.dir(name + "/")
        elif kind == "bytes":
            t.bytes(name, v)
        else:
            t.file(name, v)
    t.close()
    os.replace(tmp, out)


def write_oci(out: str, shape: str, rung: str, blob_paths, blob_descs, layer_mt, config: bytes) -> None:
    cfg_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    manifest = {
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": cfg_digest, "size": len(config)},
        "layers": [{"mediaType": layer_mt, "digest": d, "size": n} for d, n in blob_descs],
    }
    mbytes = jdump(manifest)
    m_digest = "sha256:" + hashlib.sha256(mbytes).hexdigest()
    ref = f"layerscope-bench/{shape}:{rung}"
    index = {
        "schemaVersion": 2,
        "mediaType": MT_INDEX,
        "manifests": [
            {
                "mediaType": MT_MANIFEST,
                "digest": m_digest,
                "size": len(mbytes),
                "annotations": {
                    "io.containerd.image.name": "docker.io/" + ref,
                    "org.opencontainers.image.ref.name": rung,
                },
            }
        ],
    }
    blobs = {cfg_digest: ("bytes", config), m_digest: ("bytes", mbytes)}
    for (d, _), p in zip(blob_descs, blob_paths):
        blobs.setdefault(d, ("file", p))
    tmp = out + ".part"
    t = OuterTar(tmp)
    t.dir("blobs/")
    t.dir("blobs/sha256/")
    for d in sorted(blobs):  # blobs in digest order, like containerd/buildkit exports
        kind, v = blobs[d]
        name = "blobs/sha256/" + d.split(":", 1)[1]
        if kind == "bytes":
            t.bytes(name, v)
        else:
            t.file(name, v)
    t.bytes("index.json", jdump(index))
    t.bytes("oci-layout", jdump({"imageLayoutVersion": "1.0.0"}))
    t.close()
    os.replace(tmp, out)


def generate(outdir: str, shape: str, rung: str, formats, quiet=False) -> dict | None:
    total = parse_rung(rung)
    outs = {f: os.path.join(outdir, f"{shape}-{rung}-{f}.tar") for f in formats}
    meta_path = os.path.join(outdir, f"{shape}-{rung}.meta.json")
    todo = [f for f in formats if not os.path.exists(outs[f])]
    if not todo and os.path.exists(meta_path):
        if not quiet:
            print(f"skip  {shape}-{rung}: all of {','.join(formats)} exist")
        return None
    global POOL
    if not POOL:
        POOL = make_pool()
    t0 = time.perf_counter()
    tmpdir = os.path.join(outdir, f".tmp-{shape}-{rung}")
    shutil.rmtree(tmpdir, ignore_errors=True)
    os.makedirs(tmpdir)
    try:
        layer_paths, stats = [], []
        for layer, entries in Builder(shape, total).build():
            p = os.path.join(tmpdir, f"layer{layer.index:02d}.tar")
            stats.append(write_layer_tar(p, layer, entries))
            layer_paths.append(p)
        t_layers = time.perf_counter() - t0
        config = jdump(make_config(shape, rung, stats))
        timings = {"layers": round(t_layers, 2)}
        for f in todo:
            t1 = time.perf_counter()
            if f == "docker":
                write_docker(outs[f], shape, rung, layer_paths, stats, config)
            else:
                kind = "gzip" if f == "oci-gzip" else "zstd"
                bpaths, descs = [], []
                for i, p in enumerate(layer_paths):
                    bp = os.path.join(tmpdir, f"layer{i:02d}.{kind}")
                    descs.append(compress_file(p, bp, kind))
                    bpaths.append(bp)
                write_oci(outs[f], shape, rung, bpaths, descs, MT_GZIP if kind == "gzip" else MT_ZSTD, config)
                for bp in bpaths:
                    os.unlink(bp)
            timings[f] = round(time.perf_counter() - t1, 2)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    totals = {
        k: sum(s[k] for s in stats)
        for k in ("entries", "dirs", "files", "hardlinks", "symlinks", "whiteouts", "opaque", "content_bytes", "size")
    }
    meta = {
        "shape": shape,
        "rung": rung,
        "target_entries": total,
        "layers": len(stats),
        "entries": totals["entries"],
        "totals": totals,
        "per_layer": stats,
        "sizes": {f: os.path.getsize(p) for f, p in outs.items() if os.path.exists(p)},
        "generate_seconds": timings,
    }
    with open(meta_path + ".part", "w") as fh:
        json.dump(meta, fh, indent=1)
    os.replace(meta_path + ".part", meta_path)
    if not quiet:
        el = time.perf_counter() - t0
        print(
            f"made  {shape}-{rung}: {totals['entries']} entries in {len(stats)} layers, "
            f"{totals['size'] / 1e6:.1f} MB uncompressed, {el:.1f}s "
            f"({totals['entries'] / max(t_layers, 1e-9):,.0f} entries/s for layer tars) {timings}"
        )
    return meta


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--rungs", default=",".join(DEFAULT_RUNGS), help="comma list, e.g. 10k,100k,500k")
    ap.add_argument("--shapes", default=",".join(SHAPES), help="comma list of " + ",".join(SHAPES))
    ap.add_argument(
        "--flavours", "--formats", dest="formats", default=",".join(FORMATS), help="comma list of " + ",".join(FORMATS)
    )
    a = ap.parse_args(argv)
    shapes = [s for s in a.shapes.split(",") if s]
    formats = [f for f in a.formats.split(",") if f]
    rungs = [r for r in a.rungs.split(",") if r]
    for s in shapes:
        if s not in SHAPES:
            ap.error(f"unknown shape {s!r}")
    for f in formats:
        if f not in FORMATS:
            ap.error(f"unknown format {f!r}")
    for r in rungs:
        parse_rung(r)
    os.makedirs(a.out, exist_ok=True)
    free = shutil.disk_usage(a.out).free
    # ~1.8 KB per entry uncompressed; each compressed flavour adds ~30% more
    need = (
        sum(parse_rung(r) for r in rungs)
        * len(shapes)
        * 1800
        * (("docker" in formats) + 0.3 * (len(formats) - ("docker" in formats)))
    )
    if need > free * 0.9:
        print(f"warning: may need ~{need / 1e9:.1f} GB, only {free / 1e9:.1f} GB free", file=sys.stderr)
    for r in rungs:
        for s in shapes:
            generate(a.out, s, r, formats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
