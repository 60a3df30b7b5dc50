#!/usr/bin/env python3
"""Side-by-side benchmark harness: layerscope vs dive vs the GNU tar floor.

    python benchmarks/run.py [--images DIR] [--rungs 10k,100k] [--repeat 3]
                             [--timeout 600] [--markdown] [--json OUT]

For every image DIR/<shape>-<rung>-<format>.tar made by benchmarks/generate.py
it runs, --repeat times each (interleaved), and reports the MEDIAN wall time and
the MAX peak RSS (ru_maxrss of the child from os.wait4) of:

  layerscope  `layerscope report --json IMAGE > /dev/null`
              (falls back to `python -m layerscope`; skipped if neither works)
  dive        `CI=true dive --source docker-archive IMAGE` (dive 0.13.1 opens
              OCI archives this way too, though it pairs their layers with the
              wrong history entries, so only its time is comparable there; its
              CI rule verdict, exit code 1 + "Result:FAIL", counts as a
              finished run)
  tar floor   `tar -tf LAYER > /dev/null` summed over the image's layer blobs,
              after extracting them (untimed) to a scratch dir: the cost of
              walking every layer header of the uncompressed layers (GNU tar
              seeks over file data).  For OCI images the compressed blobs are
              listed with -z / --zstd, so the floor includes decompression.

A tool that fails gets its exit code and first stderr line in its cell; a tool
that exceeds --timeout gets its whole process group killed and the cell reads
">600s (did not finish)".  Only the standard library is used.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHAPES = ("add", "override", "whiteout", "opaque")
FORMATS = ("docker", "oci-gzip", "oci-zstd")
IMAGE_RE = re.compile(r"^(?P<shape>[a-z]+)-(?P<rung>[0-9.]+[km]?)-(?P<fmt>docker|oci-gzip|oci-zstd)\.tar$")


def parse_rung(s: str) -> int:
    s = s.strip().lower()
    mult = 1
    if s.endswith("k"):
        mult, s = 1000, s[:-1]
    elif s.endswith("m"):
        mult, s = 1_000_000, s[:-1]
    return int(float(s) * mult)


# --------------------------------------------------------------------------
# running one command
# --------------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    maxrss_kib: int
    rc: int
    timed_out: bool = False
    err: str = ""


def find_gnu_time() -> str | None:
    """GNU time, used as a small launcher so ru_maxrss is the tool's own.

    A child spawned straight from this (~25 MiB) Python process inherits the
    parent's RSS high-water mark across fork/vfork+exec (Linux keeps
    signal->maxrss over exec), so every tool would report >= the harness's
    RSS.  GNU time (~2 MiB) forks the real command and reports its rusage.
    """
    for p in ("/usr/bin/time", shutil.which("gtime") or ""):
        if p and os.access(p, os.X_OK):
            try:
                r = subprocess.run([p, "-f", "%M", "--", "true"], capture_output=True, text=True, timeout=30)
                if r.returncode == 0 and r.stderr.strip().splitlines()[-1].strip().isdigit():
                    return p
            except (OSError, subprocess.SubprocessError):
                pass
    return None


GNU_TIME = find_gnu_time()


def proc_peak_kib(pid: int) -> int:
    """Max VmHWM over pid and its descendants (read before killing them)."""
    peak, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
            with open(f"/proc/{p}/task/{p}/children") as fh:
                todo.extend(int(x) for x in fh.read().split())
        except (OSError, ValueError):
            pass
    return peak


def measure(cmd, timeout: float, env=None, stdout=subprocess.DEVNULL, cwd=None) -> Run:
    """Run cmd in its own session; wall time, peak RSS, exit code.

    Peak RSS is GNU time's %M of the command (ru_maxrss, KiB) when GNU time
    is available, else ru_maxrss from os.wait4 on the direct child (which then
    includes this harness's own RSS as a floor).
    """
    with tempfile.TemporaryFile() as errf, tempfile.NamedTemporaryFile("r", suffix=".rss") as rssf:
        full = ([GNU_TIME, "-f", "%M", "-o", rssf.name, "--", *list(cmd)]) if GNU_TIME else list(cmd)
        t0 = time.perf_counter()
        try:
            p = subprocess.Popen(
                full, stdin=subprocess.DEVNULL, stdout=stdout, stderr=errf, env=env, cwd=cwd, start_new_session=True
            )
        except OSError as e:
            return Run(0.0, 0, 127, err=f"{type(e).__name__}: {e}")
        fired = threading.Event()
        killed_peak = [0]

        def kill():
            fired.set()
            killed_peak[0] = proc_peak_kib(p.pid)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)  # the whole process group

        timer = threading.Timer(timeout, kill)
        timer.daemon = True
        timer.start()
        while True:
            try:
                _, status, ru = os.wait4(p.pid, 0)
                break
            except InterruptedError:
                continue
        wall = time.perf_counter() - t0
        timer.cancel()
        rc = os.waitstatus_to_exitcode(status)
        p.returncode = rc  # already reaped; keep Popen from waiting again
        timed_out = fired.is_set()
        if timed_out:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)  # stragglers left in the group
        rss = ru.ru_maxrss
        if GNU_TIME:
            lines = [ln.strip() for ln in rssf.read().splitlines() if ln.strip()]
            if lines and lines[-1].isdigit():
                rss = int(lines[-1])
            elif timed_out:
                rss = killed_peak[0]
        err = ""
        if rc != 0:
            errf.seek(0)
            for line in errf.read(65536).decode("utf-8", "replace").splitlines():
                line = re.sub(r"\x1b\[[0-9;]*m", "", line).strip()
                if line and not line.startswith("Command exited with non-zero status"):
                    err = line
                    break
        return Run(wall, rss, rc, timed_out=timed_out, err=err)


# --------------------------------------------------------------------------
# tools
# --------------------------------------------------------------------------


def capture(cmd, env=None) -> str:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
        out = (r.stdout or r.stderr).strip()
        return out.splitlines()[0] if out else f"(rc={r.returncode}, no output)"
    except (OSError, subprocess.SubprocessError) as e:
        return f"unavailable ({type(e).__name__})"


def resolve_binary(name: str) -> str | None:
    """Find a binary on PATH, looking through pyenv shims (they add ~50-100 ms)."""
    path = shutil.which(name)
    if path and "/shims/" in path and shutil.which("pyenv"):
        try:
            real = subprocess.run(["pyenv", "which", name], capture_output=True, text=True, timeout=30).stdout.strip()
            if real and os.access(real, os.X_OK):
                return real
        except (OSError, subprocess.SubprocessError):
            pass
    return path


def find_layerscope(override: str | None):
    """Return (argv prefix, env, note)."""
    if override:
        return override.split(), None, ""
    exe = resolve_binary("layerscope")
    if exe:
        return [exe], None, ""
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    try:
        r = subprocess.run(
            [sys.executable, "-m", "layerscope", "--version"], capture_output=True, text=True, timeout=60, env=env
        )
        if r.returncode == 0:
            return [sys.executable, "-m", "layerscope"], env, "(via python -m layerscope)"
    except (OSError, subprocess.SubprocessError):
        pass
    return None, None, "layerscope not installed"


def precompile(prefix: list[str], env: dict[str, str] | None) -> str:
    """Write layerscope's bytecode once, as `pip install` does, when it runs
    from a source tree as `PYTHON -m layerscope`: with PYTHONDONTWRITEBYTECODE
    set (as on CI machines) every run would otherwise compile every module
    again (~40 ms), a cost an installed command never pays."""
    if "-m" not in prefix:
        return ""
    python = prefix[0]
    try:
        where = subprocess.run(
            [python, "-c", "import layerscope, os; print(os.path.dirname(layerscope.__file__))"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        ).stdout.strip()
        if where:
            subprocess.run([python, "-m", "compileall", "-q", where], capture_output=True, timeout=120, env=env)
            return "(bytecode compiled beforehand)"
    except (OSError, subprocess.SubprocessError):
        pass
    return ""


# --------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------


@dataclass
class Image:
    path: str
    shape: str
    rung: str
    fmt: str
    entries: int | None = None
    layers: int | None = None

    @property
    def name(self) -> str:
        return os.path.basename(self.path)[:-4]


def discover(d: str, rungs, shapes, formats) -> list[Image]:
    imgs = []
    for fn in os.listdir(d):
        m = IMAGE_RE.match(fn)
        if not m:
            continue
        im = Image(os.path.join(d, fn), m["shape"], m["rung"], m["fmt"])
        if rungs and im.rung not in rungs:
            continue
        if shapes and im.shape not in shapes:
            continue
        if formats and im.fmt not in formats:
            continue
        meta = os.path.join(d, f"{im.shape}-{im.rung}.meta.json")
        if os.path.exists(meta):
            with open(meta) as fh:
                mj = json.load(fh)
            im.entries, im.layers = mj.get("entries"), mj.get("layers")
        imgs.append(im)

    def order(im):
        return (parse_rung(im.rung), SHAPES.index(im.shape) if im.shape in SHAPES else 99, FORMATS.index(im.fmt))

    return sorted(imgs, key=order)


def layer_members(tf: tarfile.TarFile) -> list[tuple[str, str]]:
    """[(member name, 'tar'|'gzip'|'zstd')] of the image's layers, in order."""
    names = tf.getnames()
    if "manifest.json" in names and "index.json" not in names:
        m = json.load(tf.extractfile("manifest.json"))[0]
        return [(name, "tar") for name in m["Layers"]]
    idx = json.load(tf.extractfile("index.json"))
    dg = idx["manifests"][0]["digest"]
    man = json.load(tf.extractfile("blobs/sha256/" + dg.split(":", 1)[1]))
    out = []
    for desc in man["layers"]:
        mt = desc["mediaType"]
        kind = "zstd" if "zstd" in mt else "gzip" if "gzip" in mt else "tar"
        out.append(("blobs/sha256/" + desc["digest"].split(":", 1)[1], kind))
    return out


def extract_layers(im: Image, scratch: str) -> list[tuple[str, str]]:
    out = []
    with tarfile.open(im.path) as tf:
        members = layer_members(tf)
        if im.layers is None:
            im.layers = len(members)
        for i, (name, kind) in enumerate(members):
            dst = os.path.join(scratch, f"layer{i:03d}.{kind}")
            with tf.extractfile(name) as src, open(dst, "wb") as fo:
                shutil.copyfileobj(src, fo, 4 << 20)
            out.append((dst, kind))
    if im.entries is None:  # no meta sidecar: count the entries ourselves
        n = 0
        for p, kind in out:
            if kind == "tar":
                with tarfile.open(p) as lt:
                    n += sum(1 for _ in lt)
        im.entries = n or None
    return out


def warm(path: str) -> None:
    with open(path, "rb") as fh:
        while fh.read(8 << 20):
            pass


# --------------------------------------------------------------------------
# per-image measurement
# --------------------------------------------------------------------------


@dataclass
class Cell:
    runs: list = field(default_factory=list)
    note: str = ""  # why there is no number
    did_not_finish: bool = False

    def ok_runs(self):
        return [r for r in self.runs if r.rc == 0 and not r.timed_out]

    def seconds(self) -> float | None:
        ok = self.ok_runs()
        return statistics.median(r.wall for r in ok) if ok else None

    def rss_kib(self) -> int | None:
        return max((r.maxrss_kib for r in self.runs), default=None) if self.ok_runs() else None


def dive_ok(run: Run, out_path: str) -> Run:
    """dive's CI mode exits 1 when an efficiency rule fails: that is a finished analysis."""
    if run.rc == 1 and not run.timed_out:
        try:
            with open(out_path, "rb") as fh:
                fh.seek(max(0, os.path.getsize(out_path) - 8192))
                tail = fh.read().decode("utf-8", "replace")
            if "Result:FAIL" in re.sub(r"\x1b\[[0-9;]*m", "", tail):
                run.rc = 0
        except OSError:
            pass
    return run


def bench_image(im: Image, args, tools, dive_dnf: dict) -> dict:
    cells = {"ls": Cell(), "dive": Cell(), "tar": Cell()}
    warm(im.path)
    scratch = tempfile.mkdtemp(prefix=".scratch-", dir=args.scratch or os.path.dirname(im.path))
    try:
        layer_files = extract_layers(im, scratch) if "tar" in args.tools else []
        if "tar" in args.tools:
            for p, _ in layer_files:
                warm(p)
        ls_cmd, ls_env, ls_note = tools["ls"]
        if "ls" not in args.tools:
            cells["ls"].note = "not selected"
        elif ls_cmd is None:
            cells["ls"].note = ls_note
        if "dive" not in args.tools:
            cells["dive"].note = "not selected"
        elif tools["dive"] is None:
            cells["dive"].note = "dive not installed"
        elif (im.shape, im.fmt) in dive_dnf and parse_rung(im.rung) > dive_dnf[(im.shape, im.fmt)]:
            cells["dive"].note = f">{args.timeout:g}s (skipped: timed out at a smaller rung)"
            cells["dive"].did_not_finish = True
        if "tar" not in args.tools:
            cells["tar"].note = "not selected"

        dive_env = dict(os.environ, CI="true")
        for rep in range(args.repeat):
            if not cells["ls"].note:
                r = measure([*ls_cmd, "report", "--json", im.path], args.timeout, env=ls_env)
                cells["ls"].runs.append(r)
                progress(im, "layerscope", rep, r)
                if r.timed_out or r.rc != 0:
                    cells["ls"].note = failure_text(r, args.timeout)
            if not cells["dive"].note:
                with tempfile.NamedTemporaryFile(prefix="dive-", suffix=".out", delete=False) as fo:
                    out_path = fo.name
                    r = measure(
                        [tools["dive"], "--source", "docker-archive", im.path], args.timeout, env=dive_env, stdout=fo
                    )
                r = dive_ok(r, out_path)
                os.unlink(out_path)
                cells["dive"].runs.append(r)
                progress(im, "dive", rep, r)
                if r.timed_out:
                    cells["dive"].did_not_finish = True
                    dive_dnf[(im.shape, im.fmt)] = min(parse_rung(im.rung), dive_dnf.get((im.shape, im.fmt), 1 << 62))
                if r.timed_out or r.rc != 0:
                    cells["dive"].note = failure_text(r, args.timeout)
            if not cells["tar"].note:
                total, peak, bad = 0.0, 0, None
                for p, kind in layer_files:
                    flag = {"tar": [], "gzip": ["-z"], "zstd": ["--zstd"]}[kind]
                    r = measure(["tar", *flag, "-tf", p], args.timeout)
                    total += r.wall
                    peak = max(peak, r.maxrss_kib)
                    if r.rc != 0 or r.timed_out:
                        bad = r
                        break
                r = bad or Run(total, peak, 0)
                cells["tar"].runs.append(r)
                progress(im, "tar floor", rep, r)
                if bad:
                    cells["tar"].note = failure_text(bad, args.timeout)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return cells


def failure_text(r: Run, timeout: float) -> str:
    if r.timed_out:
        return f">{timeout:g}s (did not finish)"
    return f"rc={r.rc}: {r.err[:80]}" if r.err else f"rc={r.rc}"


def progress(im: Image, tool: str, rep: int, r: Run) -> None:
    status = "TIMEOUT" if r.timed_out else ("ok" if r.rc == 0 else f"rc={r.rc} {r.err[:60]}")
    print(
        f"  {im.name:28s} {tool:10s} #{rep + 1}: {r.wall:8.2f}s {r.maxrss_kib / 1024:8.1f} MiB  {status}",
        file=sys.stderr,
        flush=True,
    )


# --------------------------------------------------------------------------
# table
# --------------------------------------------------------------------------

COLUMNS = [
    "image",
    "entries",
    "layers",
    "layerscope s",
    "layerscope MiB",
    "dive s",
    "dive MiB",
    "time ls/dive",
    "RSS ls/dive",
    "tar floor s",
    "ls/tar",
    "ls B/entry",
]


def fmt_s(x):
    return "-" if x is None else (f"{x:.3f}" if x < 1 else f"{x:.2f}" if x < 100 else f"{x:.0f}")


def fmt_mib(kib):
    return "-" if kib is None else f"{kib / 1024:.1f}"


def ratio(a, b):
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def row_for(im: Image, c: dict, timeout: float) -> list[str]:
    ls_s, ls_k = c["ls"].seconds(), c["ls"].rss_kib()
    dv_s, dv_k = c["dive"].seconds(), c["dive"].rss_kib()
    tar_s = c["tar"].seconds()
    dv_cell_s = fmt_s(dv_s) if dv_s is not None else (c["dive"].note or "-")
    dv_cell_m = fmt_mib(dv_k)
    if c["dive"].did_not_finish:
        # RSS at the moment it was killed is still informative
        peak = max((r.maxrss_kib for r in c["dive"].runs), default=0)
        dv_cell_m = f">={peak / 1024:.0f}" if peak else "-"
    time_ratio = ratio(ls_s, dv_s)
    if c["dive"].did_not_finish and ls_s is not None:
        time_ratio = f"<{ls_s / timeout:.3f}x"  # dive took longer than the timeout
    return [
        im.name,
        "-" if im.entries is None else f"{im.entries:,}",
        "-" if im.layers is None else str(im.layers),
        fmt_s(ls_s) if ls_s is not None else (c["ls"].note or "-"),
        fmt_mib(ls_k),
        dv_cell_s,
        dv_cell_m,
        time_ratio,
        ratio(ls_k, dv_k),
        fmt_s(tar_s) if tar_s is not None else (c["tar"].note or "-"),
        ratio(ls_s, tar_s),
        "-" if ls_k is None or not im.entries else f"{ls_k * 1024 / im.entries:,.0f}",
    ]


def print_table(rows, markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(COLUMNS) + " |")
        print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(COLUMNS))) + "|")
        for r in rows:
            print("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
        return
    widths = [max(len(COLUMNS[i]), *(len(r[i]) for r in rows)) for i in range(len(COLUMNS))]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    print(line(COLUMNS))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", default=os.path.join(REPO, "bench"), help="dir from generate.py (default: ./bench)")
    ap.add_argument("--rungs", default="", help="comma list to keep, e.g. 10k,100k (default: all found)")
    ap.add_argument("--shapes", default="", help="comma list to keep (default: all)")
    ap.add_argument("--formats", "--flavours", dest="formats", default="", help="comma list to keep (default: all)")
    ap.add_argument("--tools", default="ls,dive,tar", help="comma list of ls,dive,tar")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=600.0, help="per run, seconds")
    ap.add_argument("--layerscope", default=None, help='command prefix, e.g. "python -m layerscope"')
    ap.add_argument("--scratch", default=None, help="dir for extracted layers (default: the images dir)")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--json", default=None, help="also write raw runs to this JSON file")
    args = ap.parse_args(argv)
    args.tools = {t for t in args.tools.split(",") if t}

    def split(s):
        return [x for x in s.split(",") if x]

    if not os.path.isdir(args.images):
        ap.error(f"no such dir {args.images}; run benchmarks/generate.py --out {args.images} first")
    images = discover(args.images, split(args.rungs), split(args.shapes), split(args.formats))
    if not images:
        ap.error(f"no images matching in {args.images}")

    ls = find_layerscope(args.layerscope)
    if ls[0]:
        ls = (ls[0], ls[1], f"{ls[2]} {precompile(ls[0], ls[1])}".strip())
    dive = resolve_binary("dive")
    tools = {"ls": ls, "dive": dive}
    print(f"# layerscope benchmark  {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    print(f"# host: {platform.platform()}, {os.cpu_count()} cpus, python {platform.python_version()}")
    if ls[0]:
        print(f"# layerscope: {capture(ls[0] + ['--version'], env=ls[1])} {ls[2]}".rstrip())
    else:
        print(f"# layerscope: {ls[2]} (its columns are skipped)")
    print(f"# dive: {capture([dive, '--version']) if dive else 'not installed'}")
    print(f"# tar: {capture(['tar', '--version'])}")
    print(
        "# peak RSS: "
        + (
            f"ru_maxrss via {GNU_TIME} -f %M"
            if GNU_TIME
            else "ru_maxrss via os.wait4 (GNU time missing: includes the harness's own ~25 MiB as a floor)"
        )
    )
    print(f"# repeat={args.repeat} (median wall time, max peak RSS), timeout={args.timeout:g}s per run")
    print(flush=True)

    rows, raw, dive_dnf = [], [], {}
    for im in images:
        try:
            cells = bench_image(im, args, tools, dive_dnf)
        except Exception as e:  # never let one image kill the whole table
            cells = {k: Cell(note=f"harness error: {type(e).__name__}: {e}"[:90]) for k in ("ls", "dive", "tar")}
        rows.append(row_for(im, cells, args.timeout))
        raw.append(
            {
                "image": im.name,
                "path": im.path,
                "entries": im.entries,
                "layers": im.layers,
                **{k: {"note": c.note, "runs": [r.__dict__ for r in c.runs]} for k, c in cells.items()},
            }
        )
    print()
    print_table(rows, args.markdown)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"argv": sys.argv, "results": raw}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
