"""The main screen at 80 columns and after resizes (issue 20): what a new user meets first.

Expectations come from outside the widgets: the commands the image config
records (read here with ``tarfile``/``json``), the layers ``ci`` refuses
(``layerscope ci``'s exit code and JSON), the key table of ``keys.py``.
"""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest
from conftest import SAMPLES
from imagegen import config_for, d, docker_archive, file, layer_tar, run_cli

from layerscope.ui.app import LayerscopeApp, make_app
from layerscope.ui.widgets.layer_stack import LayerStack

SIZES = [(80, 24), (120, 40), (200, 60)]
SAMPLE = str(SAMPLES / "sample-docker.tar")
MULTISTAGE = str(SAMPLES / "multistage-oci.tar")
SCROLLBAR = " ▁▂▃▄▅▆▇█▉▊▋▌▍▎▏"
ROW = re.compile(r"^(?:b )?\s*L(\d+)\s")  # a layer row: optional base mark, then its index


def tag(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def config_commands(archive: str) -> list[str]:
    """Each layer's command as the docker archive's config records it (``/bin/sh -c`` dropped)."""
    with tarfile.open(archive) as t:
        manifest = json.load(t.extractfile("manifest.json"))  # type: ignore[arg-type]
        config = json.load(t.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
    out = []
    for h in config["history"]:
        if not h.get("empty_layer"):
            cmd = h["created_by"].removeprefix("/bin/sh -c ").removeprefix("#(nop) ").strip()
            out.append(" ".join(cmd.split()))
    return out


async def settled(app: LayerscopeApp, pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app.merged is not None and app.analysis is not None


def screen_lines(app: LayerscopeApp) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def pane_lines(app: LayerscopeApp, selector: str) -> list[str]:
    """The lines inside one pane's border (what the user sees of it)."""
    region = app.query_one(selector).region
    lines = screen_lines(app)
    return [lines[y][region.x + 1 : region.right - 1] for y in range(region.y + 1, region.bottom - 1)]


def layer_rows(app: LayerscopeApp) -> dict[int, str]:
    """Layer index -> its first line in the layers pane (scrollbar cells dropped)."""
    rows = {}
    for line in pane_lines(app, "#layers"):
        text = line[:-2].rstrip(SCROLLBAR).strip()  # the last two cells are the scrollbar gutter
        m = ROW.match(text)
        if m:
            rows[int(m.group(1))] = text
    return rows


def shown_command(row: str) -> str:
    """What a layer row shows of its command: after the index and the size, up to ``…``."""
    m = re.match(r"^(?:b )?\s*L\d+\s+[\d.]+ [kMG]?B\s+(?:[+~m=-]\S+\s+)*(?:DAMAGED |UNVERIFIED |! )?(.*)$", row)
    assert m, row
    return m.group(1).rstrip("…").rstrip()


# -- item 1: every row shows its command ---------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=tag)
async def test_every_layer_row_shows_its_command(size: tuple[int, int]) -> None:
    """dive shows a cut command on every row; at 80 columns ours showed none but the highlighted one."""
    commands = config_commands(SAMPLE)
    app = make_app(SAMPLE)
    async with app.run_test(size=size) as pilot:
        await settled(app, pilot)
        app.query_one(LayerStack).select_layer(0)
        await pilot.pause()
        rows = layer_rows(app)
        assert rows, pane_lines(app, "#layers")
        width = app.query_one("#layers").content_region.width
        for index, row in rows.items():
            shown = shown_command(row)
            # the word that starts the command (RUN/COPY) is layerscope's; the rest is the config's
            words = shown.split(" ", 1)
            assert len(words) == 2 and words[0] in ("RUN", "COPY", "ADD"), row
            want = commands[index]
            want = want.removeprefix(words[0] + " ") if want.startswith(("COPY ", "ADD ")) else want
            body = words[1]
            assert want.startswith(body), (row, want)
            # as much as fits: at least a third of the pane, never a stub
            assert len(body) >= min(len(want), width // 3), (size, row)


async def test_debian_rows_show_long_commands(debian_image: Path) -> None:
    """A real Debian image's long apt-get/useradd commands: each row shows its start at 80 columns."""
    commands = config_commands(str(debian_image))
    app = make_app(str(debian_image))
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(app, pilot)
        seen = set()
        for highlighted in range(len(commands)):
            app.query_one(LayerStack).select_layer(highlighted)
            await pilot.pause()
            for k, row in layer_rows(app).items():
                body = shown_command(row).split(" ", 1)[1]
                want = commands[k].split(" ", 1)[1] if commands[k].startswith(("ADD ", "COPY ")) else commands[k]
                # the highlighted row breaks its first line at a space: the rest wraps below it
                assert len(body) >= (8 if k == highlighted else 15) and want.startswith(body), (row, want)
                seen.add(k)
        assert seen == set(range(len(commands)))


# -- item 2: the selected layer stays in sight after a resize -------------------------------


@pytest.mark.parametrize(
    "sizes",
    [[(120, 40), (80, 24)], [(200, 60), (80, 24)], [(120, 40), (80, 24), (60, 18)], [(80, 24), (200, 60), (80, 20)]],
    ids=lambda s: "-".join(map(tag, s)),
)
@pytest.mark.parametrize("k", [0, 3, 5])
async def test_the_selected_layer_stays_in_sight_after_a_resize(sizes: list[tuple[int, int]], k: int) -> None:
    app = make_app(SAMPLE)
    async with app.run_test(size=sizes[0]) as pilot:
        await settled(app, pilot)
        app.query_one(LayerStack).select_layer(k)
        await pilot.pause()
        for size in sizes[1:]:
            await pilot.resize_terminal(*size)
            for _ in range(4):
                await pilot.pause()
            assert app.k == k
            assert k in layer_rows(app), (size, pane_lines(app, "#layers"))
            status = screen_lines(app)[-2]
            assert status.strip().startswith(f"L{k} of L0–L6"), status


# -- item 3: a damaged layer says so on its row --------------------------------------------


def half_layer_image(tmp_path: Path) -> str:
    """Layer 1's tar holds only its first half of entries (a clean tar end): only the diff_id tells."""
    base = layer_tar([d("etc"), file("etc/base", "base")])
    full = layer_tar([file(f"f{i:02}", str(i)) for i in range(34)])
    half = layer_tar([file(f"f{i:02}", str(i)) for i in range(16)])
    history = [
        {"created_by": "/bin/sh -c #(nop) ADD file:base in /"},
        {"created_by": "/bin/sh -c seq 34 | xargs touch"},
    ]
    return docker_archive(tmp_path / "half.tar", [base, half], config=config_for([base, full], history))


def cut_layer_image(tmp_path: Path) -> str:
    """Layer 1's tar is cut mid-content: the layer cannot be read fully."""
    good = layer_tar([file("a", "x" * 3000)])
    bad = layer_tar([file("b", "y" * 3000)])[:1500]
    return docker_archive(tmp_path / "cut.tar", [good, bad])


@pytest.mark.parametrize("make", [half_layer_image, cut_layer_image], ids=["half-entries", "cut-tar"])
@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=tag)
async def test_a_damaged_layer_is_marked_on_its_row(tmp_path: Path, make, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    code, out, _err = run_cli("ci", path, "--no-config", "--json")
    refused = {d["layer"] for d in json.loads(out)["unverified"] if d["layer"] is not None}
    assert code == 2 and refused == {1}  # ci refuses it: the independent notion of "damaged"
    app = make_app(path)
    async with app.run_test(size=size) as pilot:
        await settled(app, pilot)
        app.query_one(LayerStack).select_layer(0)
        await pilot.pause()
        rows = layer_rows(app)
        assert "DAMAGED" in rows[1] and "DAMAGED" not in rows[0], rows
        assert "L1" in screen_lines(app)[-2] and "DAMAGED" in screen_lines(app)[-2]  # the status bar names it
        app.query_one(LayerStack).select_layer(1)
        await pilot.pause()
        details = "\n".join(pane_lines(app, "#details"))
        assert "DAMAGED" in details, details


def test_report_marks_a_damaged_layer(tmp_path: Path) -> None:
    path = half_layer_image(tmp_path)
    code, out, _err = run_cli("report", path)
    assert code == 0
    rows = [line for line in out.splitlines() if "file:base" in line or "xargs" in line]  # the layer table
    assert len(rows) == 2 and "DAMAGED" not in rows[0] and "DAMAGED" in rows[1], rows
    code, out, _err = run_cli("report", path, "--json")
    layers = json.loads(out)["layers"]
    assert [la["damage"] for la in layers] == [None, "DAMAGED"]
    assert [la["error"] for la in layers] == [None, None]  # the old field says what it said


# -- item 4: toasts, the key bar and the status bar at 80 columns ---------------------------


async def test_toasts_leave_the_status_and_key_bars_alone() -> None:
    app = make_app(SAMPLE)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(app, pilot)
        before = screen_lines(app)[-2:]
        app.notify("a toast with a message long enough to need its full width of the screen", timeout=30)
        for _ in range(3):
            await pilot.pause()
        assert screen_lines(app)[-2:] == before
        # the startup notice of high-severity findings is in the status bar, not a toast
        assert "1 high-severity finding" in before[0]


@pytest.mark.parametrize("size", [(60, 20), (80, 24), (120, 40)], ids=tag)
async def test_the_key_bar_shows_whole_keys_and_always_help(size: tuple[int, int]) -> None:
    from layerscope.ui.keys import KEYS

    labels = {k.display: k.label or k.description for k in KEYS if k.show}
    app = make_app(SAMPLE)
    async with app.run_test(size=size) as pilot:
        await settled(app, pilot)
        bar = screen_lines(app)[-1]
        assert len(bar) == size[0]
        left = bar.split("▏")[0]
        shown = re.findall(r" (\S) (\S+(?: \S+)?) ", left)
        assert shown, bar
        for disp, label in shown:
            assert labels.get(disp) == label, (disp, label, bar)  # each label whole
        assert ("?", "Help") in shown
        assert not re.search(r"\S$", left.rstrip(" ")) or left.rstrip().endswith(tuple(labels.values())), bar


async def test_the_status_bar_keeps_the_filter_at_80_columns() -> None:
    app = make_app(SAMPLE)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(app, pilot)
        app.search_query = "credentials"
        app.load_seconds = 0.25
        app.query_one("#tree").opts.hidden = {"added", "deleted"}  # type: ignore[attr-defined]
        app._update_status()
        await pilot.pause()
        status = screen_lines(app)[-2].rstrip()
        assert len(status) <= 80
        assert status.strip().startswith("L6 of L0–L6")
        assert "filter: 'credentials'" in status, status
        assert "hiding" in status and "high" in status, status  # shortened, not dropped, while they fit
        assert "…" not in status, status  # shortened by parts, never cut


# -- item 5: base markers from the first paint; the rule's words ----------------------------


@pytest.mark.parametrize("base", [None, MULTISTAGE], ids=["detected", "base-image"])
async def test_base_marks_are_there_before_the_layers_are_read(
    monkeypatch: pytest.MonkeyPatch, base: str | None
) -> None:
    """The marks came with the audit, after the tree: every row jumped two columns.
    With ``--base IMAGE`` (read by the audit) the marks' column is kept from the start."""
    import threading

    from layerscope import api as load_module  # BackgroundLoad reads the layers for the app

    go = threading.Event()
    read = load_module.read_layers

    def slow_read(*args, **kw):  # type: ignore[no-untyped-def]
        go.wait(30)
        return read(*args, **kw)

    monkeypatch.setattr(load_module, "read_layers", slow_read)
    app = make_app(MULTISTAGE, base=base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        first = [line[:-2].rstrip() for line in pane_lines(app, "#layers")]
        assert app.merged is None
        go.set()
        await settled(app, pilot)
        after = [line[:-2].rstrip() for line in pane_lines(app, "#layers")]
    marked = [line for line in (first if base is None else after) if line.lstrip().startswith("b L")]
    assert marked, (first, after)

    def index_columns(lines: list[str]) -> dict[str, int]:
        return {m.group(1): m.start(1) for line in lines if (m := re.search(r"\b(L\d+) ", line))}

    before, now = index_columns(first), index_columns(after)
    common = before.keys() & now.keys()
    assert common and {k: before[k] for k in common} == {k: now[k] for k in common}, (first, after)


async def test_a_one_layer_base_rule_reads_sensibly(tmp_path: Path) -> None:
    layers = [layer_tar([file("a", "1")]), layer_tar([file("b", "2")])]
    history = [
        {"created_by": "/bin/sh -c #(nop) ADD file:a in /"},
        {"created_by": '/bin/sh -c #(nop)  CMD ["sh"]', "empty_layer": True},
        {"created_by": "/bin/sh -c echo 2 > /b"},
    ]
    path = docker_archive(tmp_path / "one-base.tar", layers, config=config_for(layers, history))
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(app, pilot)
        assert app.analysis is not None and app.analysis.base.layers == 1
        text = "\n".join(pane_lines(app, "#layers"))
        assert "L0–L0" not in text
        assert "base image: L0 " in text, text


def test_a_layer_read_but_not_all_checked_is_unverified(tmp_path: Path) -> None:
    """A sparse file (its content digest is not computed): ci refuses the layer, but it is not damaged."""
    from imagegen import docker_archive_blobs, member, pax_member, raw_tar

    pax = pax_member(
        {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.realsize": "4096", "GNU.sparse.name": "s.img"}
    )
    data = b"1\n0\n512\n".ljust(512, b"\0") + b"x" * 512
    blob = raw_tar(pax, member("GNUSparseFile.0/s.img", data), member("after", "1"))
    path = docker_archive_blobs(tmp_path / "sparse.tar", [layer_tar([file("a", "1")]), blob])
    code, out, _err = run_cli("ci", path, "--no-config", "--json")
    assert code == 2 and {d["kind"] for d in json.loads(out)["unverified"]} == {"sparse"}
    code, out, _err = run_cli("report", path, "--json")
    assert [la["damage"] for la in json.loads(out)["layers"]] == [None, "UNVERIFIED"]
