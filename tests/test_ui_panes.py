"""The panes fit their width (issue 20): numbers are never cut, every column holds
what its header says, nothing wraps, and a wide terminal's room is used.

Expectations come from outside the code under test: the umoci listings of the
sample (``*.expected.txt``), the sample's tar members read with ``tarfile``,
and the bytes of ``/bin/busybox`` hashed here.
"""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest
from conftest import SAMPLES
from imagegen import docker_archive, file, layer_tar
from textual.widgets import DataTable

from layerscope.ui.app import LayerscopeApp, make_app
from layerscope.ui.screens.content import ContentScreen
from layerscope.ui.widgets.file_tree import FileTree
from layerscope.ui.widgets.layer_stack import LayerStack
from layerscope.ui.widgets.versions import VersionsPane

SMALL = (80, 24)
MEDIUM = (120, 40)
LARGE = (200, 60)
SIZES = [SMALL, LARGE]


def tag(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def listing(k: int | None = None) -> dict[str, list[str]]:
    """The umoci listing of the sample as of layer ``k`` (top without it): path -> fields."""
    name = "sample-docker.expected.txt" if k is None else f"sample-docker.L{k}.expected.txt"
    out: dict[str, list[str]] = {}
    for line in (SAMPLES / name).read_text().splitlines():
        fields = line.split("\t")
        out[fields[0]] = fields
    return out


def bytes_text(n: int) -> str:
    """How a figure under 1000 bytes reads (``90 B``): the sample's are all that small."""
    assert n < 1000
    return f"{n} B"


def sample_app(name: str = "sample-docker.tar") -> LayerscopeApp:
    return make_app(str(SAMPLES / name))


async def loaded(app: LayerscopeApp, pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app.merged is not None


def screen_lines(app: LayerscopeApp) -> list[str]:
    return [s.text for s in app.screen._compositor.render_strips()]


def pane_lines(app: LayerscopeApp, selector: str) -> list[str]:
    """The lines inside a pane's border, scrollbar excluded: what the user can read of it."""
    widget = app.screen.query_one(selector)
    region = widget.region
    inner = widget.scrollable_content_region
    strips = screen_lines(app)
    return [strips[y][inner.x : inner.right] for y in range(inner.y, inner.bottom) if region.y <= y < region.bottom]


# -- 1. the Files pane: numbers are never cut ----------------------------------------------


def deleted_under(top: str, below: int, at: int) -> int:
    """Bytes of the files under ``top`` that ship as of ``below`` and are gone as of ``at``."""
    before, after = listing(below), listing(at)
    return sum(int(f[5]) for p, f in before.items() if p.startswith(top + "/") and f[1] == "file" and p not in after)


@pytest.mark.parametrize("size", SIZES, ids=tag)
async def test_layer_view_deleted_bytes_are_whole_beside_the_scrollbar(size: tuple[int, int]) -> None:
    """`[` then `v` on L5: ``root/`` and ``opt/`` showed ``-9`` and ``-1`` for 90 B and 18 B
    at 80×24, the number cut by the scrollbar."""
    app = sample_app()
    async with app.run_test(size=size) as pilot:
        await loaded(app, pilot)
        await pilot.press("left_square_bracket", "v")
        await loaded(app, pilot)
        assert app.k == 5
        rows = pane_lines(app, "#tree")
        for top in ("/root", "/opt"):
            gone = bytes_text(deleted_under(top, 4, 5))
            name = top.rsplit("/", 1)[-1] + "/"
            row = next(r for r in rows if f" {name} " in r)
            # the figure whole: "-90 B" (narrow) or "90 B deleted below" (wide), at the row's end
            assert re.search(rf"(-{gone}|{gone} deleted below)\s*$", row), (top, gone, row)


@pytest.mark.parametrize("size", SIZES, ids=tag)
async def test_tree_rows_show_whole_sizes_and_cut_only_names(size: tuple[int, int]) -> None:
    """Every file row of the layer view ends with its whole size (the umoci listing's); a name
    that does not fit ends in an ellipsis instead."""
    app = sample_app()
    async with app.run_test(size=size) as pilot:
        await loaded(app, pilot)
        await pilot.press("left_square_bracket", "v")
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        before = listing(4)
        checked = 0
        rows = pane_lines(app, "#tree")
        for y, line in enumerate(tree.lines[: len(rows)]):
            path = line.data
            if not isinstance(path, str) or path not in before or before[path][1] != "file":
                continue
            row = rows[y - tree.scroll_offset.y]
            assert row.rstrip().endswith(" " + bytes_text(int(before[path][5]))), (path, row)
            base = path.rsplit("/", 1)[-1]
            if base not in row:
                cut = row.split("…")[0].split()[-1]
                assert "…" in row and base.startswith(cut), (path, row)
            checked += 1
        assert checked >= 3
        assert tree.virtual_size.width <= tree.scrollable_content_region.width


async def test_tree_uses_a_wide_pane() -> None:
    """At 200×60 the tree's rows ended ~35 cells into its 98: the name column takes
    the room, the figures sit at the pane's edge, and no name is cut."""
    app = sample_app()
    async with app.run_test(size=LARGE) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        await pilot.press("home", "down", "e")  # /app opened: its hardlink row is the widest
        await loaded(app, pilot)
        rows = pane_lines(app, "#tree")
        width = tree.scrollable_content_region.width
        top = listing()
        sized = [r for r in rows[1:] if re.search(r"\d B$", r.rstrip())]
        assert len(sized) >= 8, rows
        assert all(len(r.rstrip()) == width for r in sized), (width, sized)
        assert not any("…" in r for r in rows), rows
        for path in ("/app/shared.txt", "/app/owned-by-app.txt"):
            row = next(r for r in rows if f" {path.rsplit('/', 1)[-1]} " in r)
            assert row.rstrip().endswith(" " + bytes_text(int(top[path][5]))), row


# -- 2. the hex view fits the width ----------------------------------------------------------


def member_bytes(path: str) -> bytes:
    """A file's bytes as the sample's layer tars hold them (the topmost layer that has it)."""
    with tarfile.open(SAMPLES / "sample-docker.tar") as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        for layer in reversed(manifest[0]["Layers"]):
            with tarfile.open(fileobj=outer.extractfile(layer)) as inner:
                try:
                    member = inner.getmember(path.lstrip("/"))
                except KeyError:
                    continue
                if member.isfile():
                    return inner.extractfile(member).read()  # type: ignore[union-attr]
    raise KeyError(path)


HEX_OFFSET = re.compile(r"^([0-9a-f]{4,8})  ")


def hex_row(row: str, per_row: int) -> tuple[int, bytes, str]:
    """(offset, bytes, ASCII) of a hex row ``offset  hh hh …  ascii``; raises on anything else."""
    m = HEX_OFFSET.match(row)
    assert m, row
    rest = row[m.end() :]
    field = 3 * per_row - 1
    data = bytes.fromhex(rest[:field])
    assert rest[field : field + 2] == "  ", row
    return int(m.group(1), 16), data, rest[field + 2 : field + 2 + len(data)]


@pytest.mark.parametrize("size", SIZES, ids=tag)
async def test_hex_view_rows_fit_and_hold_the_files_bytes(size: tuple[int, int]) -> None:
    """`c` on /bin/busybox: at 80×24 every 16-byte row (82 cells) wrapped; now each row
    fits, holds 8 or more bytes (16 or more at 200 columns) and they are the file's."""
    data = member_bytes("/bin/busybox")
    app = sample_app()
    async with app.run_test(size=size) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        assert tree.reveal("/bin/busybox")
        await pilot.press("c")
        assert isinstance(app.screen, ContentScreen)
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        lines = pane_lines(app, "#content-scroll")
        assert lines[0].startswith("(showing the first")
        rows = [line for line in lines[1:] if line.strip()]
        assert len(rows) >= 10
        per_row = len(rows[0][HEX_OFFSET.match(rows[0]).end() :].split("  ")[0].split())  # type: ignore[union-attr]
        offsets = []
        for row in rows:
            assert len(row) <= app.screen.query_one("#content-scroll").scrollable_content_region.width
            off, chunk, asc = hex_row(row, per_row)  # a wrapped row's second half would not read as one
            assert chunk == data[off : off + len(chunk)], row
            assert asc == "".join(chr(b) if 32 <= b < 127 else "." for b in chunk), row
            offsets.append((off, len(chunk)))
        assert per_row >= (16 if size[0] >= 200 else 8)
        assert all(off == i * per_row and n == per_row for i, (off, n) in enumerate(offsets)), offsets


# -- 3. the Versions pane: each column holds what its header says ----------------------------


async def versions_columns(app: LayerscopeApp, pilot, first: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """The Versions pane's rows as the screen shows them, cut at its header's words,
    scrolled sideways (as far as it goes) to column ``first`` and the ones right of it."""
    table = app.query_one(VersionsPane)
    cols = list(table.columns.values())
    keys = [str(c.label) for c in cols]
    x = sum(c.get_render_width(table) for c in cols[: keys.index(first)])
    table.scroll_to(x=x, animate=False)
    await pilot.pause()
    lines = pane_lines(app, "#versions")
    header = lines[0]
    starts = [(m.start(), m.group()) for m in re.finditer(r"\S+", header)]
    names = [name for _, name in starts]
    assert first in names, header
    starts = starts[names.index(first) :]
    rows = []
    for line in lines[1:]:
        if not line.strip():
            continue
        cells = {}
        for i, (start, name) in enumerate(starts):
            end = starts[i + 1][0] if i + 1 < len(starts) else len(line)
            cells[name] = line[start:end].strip()
        rows.append(cells)
    return rows


@pytest.mark.parametrize("size", SIZES, ids=tag)
async def test_whiteout_row_has_no_digest_and_the_older_version_its_own(size: tuple[int, int]) -> None:
    """L5, /root/.aws/credentials: the whiteout row put the path in the Digest column."""
    secret = "/root/.aws/credentials"
    digest = listing(3)[secret][6].removeprefix("sha256:")
    app = sample_app()
    async with app.run_test(size=size) as pilot:
        await loaded(app, pilot)
        app.query_one(LayerStack).select_layer(5)
        await pilot.pause()
        tree = app.query_one(FileTree)
        tree.focus()
        assert tree.reveal(secret)
        await loaded(app, pilot)
        rows = await versions_columns(app, pilot, "Layer")
        assert [r["Layer"] for r in rows] == ["L5", "L3"], rows
        assert rows[0]["Change"].endswith("deleted (whiteout)"), rows
        assert rows[0]["Fate"] == "absent", rows
        rows = await versions_columns(app, pilot, "Size")
        assert [r["Size"] for r in rows] == ["-", bytes_text(int(listing(3)[secret][5]))], rows
        assert [r["Digest"] for r in rows] == ["-", digest[:12]], rows
        assert all(secret not in v for r in rows for k, v in r.items() if k != "Command"), rows


@pytest.mark.parametrize("size", SIZES, ids=tag)
async def test_symlink_target_is_not_in_the_digest_column(size: tuple[int, int]) -> None:
    """A symlink has no digest: its target showed under Digest; it follows the change, as in the tree."""
    fields = listing()["/bin/sh"]
    assert fields[1] == "symlink"
    app = sample_app()
    async with app.run_test(size=size) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        assert tree.reveal("/bin/sh")
        await loaded(app, pilot)
        rows = await versions_columns(app, pilot, "Layer")
        assert rows[0]["Change"].endswith(f"→ {fields[7]}"), rows
        rows = await versions_columns(app, pilot, "Digest")
        assert rows[0]["Digest"] == "-", rows


# -- 4. a wide terminal's room is used ----------------------------------------------------------


def layer_commands() -> list[str]:
    """The sample's layer commands as its config's history records them (whitespace collapsed)."""
    with tarfile.open(SAMPLES / "sample-docker.tar") as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        config = json.load(outer.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
    return [" ".join(h["created_by"].split()) for h in config["history"] if not h.get("empty_layer")]


def table_cells(app: LayerscopeApp, selector: str) -> tuple[list[str], list[dict[str, str]]]:
    """A table's header and rows as the screen shows them, cut where its header's labels start."""
    table = app.screen.query_one(selector, DataTable)
    lines = pane_lines(app, selector)
    starts, x = [], 0
    for column in table.ordered_columns:  # labels may hold spaces: place them by the columns' widths
        starts.append((x + table.cell_padding, str(column.label)))
        x += column.get_render_width(table)
    header = lines[0]
    assert all(header[s : s + len(name)] == name for s, name in starts if s + len(name) <= len(header)), header
    rows = []
    for line in lines[1:]:
        if line.strip():
            rows.append(
                {
                    name: line[s : starts[i + 1][0] if i + 1 < len(starts) else len(line)].strip()
                    for i, (s, name) in enumerate(starts)
                }
            )
    return [name for _, name in starts], rows


async def open_waste(app: LayerscopeApp, pilot, tab: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("w")
    await pilot.pause()
    await pilot.press(tab)
    for _ in range(3):
        await app.screen.workers.wait_for_complete()
        await pilot.pause()


WASTE_TABS = {"1": "#waste", "2": "#waste-dirs", "3": "#waste-layers", "4": "#findings"}


@pytest.mark.parametrize("tab", ["1", "2", "3", "4"])
async def test_waste_tables_fill_a_wide_screen_and_cut_nothing(tab: str) -> None:
    """At 200×60 the Command column stopped at ~50 characters and the findings' What
    was cut beside 100 empty columns: the tables span their width, nothing ends in '…'."""
    commands = layer_commands()
    app = sample_app()
    async with app.run_test(size=LARGE) as pilot:
        await loaded(app, pilot)
        await open_waste(app, pilot, tab)
        table = app.screen.query_one(WASTE_TABS[tab], DataTable)
        assert table.virtual_size.width == table.scrollable_content_region.width
        names, rows = table_cells(app, WASTE_TABS[tab])
        assert rows
        widths = {str(c.label): c.get_render_width(table) - 2 * table.cell_padding for c in table.ordered_columns}
        for row in rows:
            # only a command longer than the room left is cut, and then it fills its column
            assert not any(v.endswith("…") for k, v in row.items() if k != "Command"), row
        if "Command" in names:
            for row in rows:
                cmd = row["Command"]
                assert cmd.startswith("RUN "), row
                if cmd.endswith("…"):
                    assert len(cmd) == widths["Command"], (widths, row)
                    cmd = cmd[:-1]
                assert any(cmd.removeprefix("RUN ") in c for c in commands), row
            assert min(len(r["Command"]) for r in rows) > 60


@pytest.mark.parametrize("tab", ["1", "2", "4"])
async def test_waste_tables_fit_80_columns(tab: str) -> None:
    """At 80×24 the tables fit the screen (no sideways scrolling): text columns give way, with
    an ellipsis, and every figure is whole."""
    app = sample_app()
    async with app.run_test(size=SMALL) as pilot:
        await loaded(app, pilot)
        await open_waste(app, pilot, tab)
        table = app.screen.query_one(WASTE_TABS[tab], DataTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width
        _, rows = table_cells(app, WASTE_TABS[tab])
        for row in rows:
            for name in ("Size", "Hidden"):
                if name in row:
                    assert re.fullmatch(r"\d+ B", row[name]), row


async def test_versions_command_is_whole() -> None:
    """The Versions pane cut commands at 60 characters; it scrolls sideways to all of a command."""
    commands = layer_commands()
    app = sample_app()
    async with app.run_test(size=LARGE) as pilot:
        await loaded(app, pilot)
        app.query_one(LayerStack).select_layer(5)
        await pilot.pause()
        tree = app.query_one(FileTree)
        tree.focus()
        assert tree.reveal("/root/.aws/credentials")
        await loaded(app, pilot)
        table = app.query_one(VersionsPane)
        shown = [str(table.get_row_at(i)[7]) for i in range(table.row_count)]
        assert len(commands[5]) > 60
        assert [commands[5].endswith(c.removeprefix("RUN ")) for c in shown] == [True, False], shown
        assert commands[3].endswith(shown[1].removeprefix("RUN ")), shown
        rows = await versions_columns(app, pilot, "Command")
        assert rows[0]["Command"].startswith("RUN rm /root/.aws/credentials"), rows


# -- 5. what else: the content view's long lines ---------------------------------------------


LONG_LINE = "key = " + "".join(f"v{i:03d}," for i in range(60)) + "END"  # 306 characters


async def test_text_view_scrolls_sideways_to_the_end_of_a_long_line(tmp_path: Path) -> None:
    """A text line wider than the view was cut at the view's edge, its end out of reach."""
    image = docker_archive(tmp_path / "long.tar", [layer_tar([file("etc/long.conf", LONG_LINE + "\nshort = 1\n")])])
    app = make_app(image)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        assert tree.reveal("/etc/long.conf")
        await pilot.press("c")
        assert isinstance(app.screen, ContentScreen)
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        first = pane_lines(app, "#content-scroll")[0]
        assert "key = v000," in first and "END" not in first
        await pilot.press("end")  # the view's end: its last line and the right edge of the longest
        scroll = app.screen.query_one("#content-scroll")
        scroll.scroll_to(x=scroll.max_scroll_x, animate=False)
        await pilot.pause()
        lines = pane_lines(app, "#content-scroll")
        assert any(line.rstrip().endswith("v059,END") for line in lines), lines


async def test_attributes_in_a_narrow_pane_leave_the_sizes_whole() -> None:
    """`i` at 80×24: the attributes do not fit beside the names; the sizes read ``786`` and
    ``2.0 M`` at the pane's edge. They stay whole there, the attributes a sideways scroll away."""
    app = sample_app()
    async with app.run_test(size=SMALL) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        await pilot.press("home", "down", "e", "i")
        await loaded(app, pilot)
        top = listing()
        rows = pane_lines(app, "#tree")
        checked = 0
        for y, line in enumerate(tree.lines[: len(rows)]):
            path = line.data
            if isinstance(path, str) and path in top and top[path][1] == "file":
                assert rows[y].rstrip().endswith(" " + bytes_text(int(top[path][5]))), (path, rows[y])
                checked += 1
        assert checked >= 5
        tree.scroll_to(x=tree.max_scroll_x, animate=False)
        await pilot.pause()
        rows = pane_lines(app, "#tree")
        assert any(re.search(r"-rw-r--r-- 1000:1000\s*$", r) for r in rows), rows


async def test_tree_width_follows_a_resize_and_the_attributes() -> None:
    """The tree's scrollable width is its rows' after a resize and after `i`, both ways:
    no sideways scroll is left over once the rows fit again."""
    app = sample_app()
    async with app.run_test(size=SMALL) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        await pilot.press("home", "down", "e")
        await loaded(app, pilot)
        fits = tree.scrollable_content_region.width
        assert tree.virtual_size.width == fits
        await pilot.press("i")  # the attributes do not fit at 80 columns: the tree scrolls sideways
        await pilot.pause()
        await pilot.pause()
        assert tree.virtual_size.width > tree.scrollable_content_region.width
        await pilot.press("i")
        await pilot.pause()
        await pilot.pause()
        assert tree.virtual_size.width == tree.scrollable_content_region.width
        await pilot.resize_terminal(*LARGE)
        await pilot.pause()
        await pilot.pause()
        assert tree.scrollable_content_region.width > fits
        assert tree.virtual_size.width == tree.scrollable_content_region.width
        await pilot.resize_terminal(*SMALL)
        await pilot.pause()
        await pilot.pause()
        assert tree.virtual_size.width == tree.scrollable_content_region.width == fits
