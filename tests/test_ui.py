"""The Textual UI driven by Pilot on the real sample image."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from conftest import SAMPLES
from imagegen import docker_archive, file, layer_tar
from rich.console import Console
from textual.widgets import Static

from layerscope.model import Deletion
from layerscope.sizes import Sizes
from layerscope.snapshot import Snapshot, ViewOptions, search
from layerscope.ui.app import LayerscopeApp, make_app
from layerscope.ui.format import short_count
from layerscope.ui.keys import GROUPS
from layerscope.ui.screens.help import HelpScreen
from layerscope.ui.screens.search import SearchScreen
from layerscope.ui.widgets.file_tree import FileTree
from layerscope.ui.widgets.layer_stack import LayerStack
from layerscope.ui.widgets.lines import LinesPane
from layerscope.ui.widgets.versions import VersionsPane

SIZE = (160, 48)


async def loaded(app: LayerscopeApp, pilot) -> None:  # type: ignore[no-untyped-def]
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert app.merged is not None


def sample_app() -> LayerscopeApp:
    return make_app(str(SAMPLES / "sample-docker.tar"))


def cursor_row(tree: FileTree) -> tuple[str, bool]:
    """The cursor's row as the tree draws it, and whether its name is struck through."""
    strip = tree.render_line(tree.cursor_line - tree.scroll_offset.y)
    struck = any(seg.style is not None and seg.style.strike for seg in strip if seg.text.strip())
    return strip.text, struck


def root_paths(app: LayerscopeApp) -> list[str]:
    return [str(c.data) for c in app.query_one(FileTree).root.children]


async def test_layer_stack_shows_layers_and_empty_history() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        stack = app.query_one(LayerStack)
        # the stack is there before the layers are read
        assert stack.option_count == 14
        await loaded(app, pilot)
        opts = [stack.get_option_at_index(i) for i in range(stack.option_count)]
        assert [o.id for o in opts if not o.disabled] == [f"L{i}" for i in range(7)]
        assert sum(1 for o in opts if o.disabled) == 7
        assert stack.highlighted_layer == 6 and app.k == 6


def stack_lines(app: LayerscopeApp) -> list[str]:
    """The layer pane's lines as on screen, inside its border."""
    inner = app.query_one(LayerStack).content_region
    lines = [strip.text for strip in app.screen._compositor.render_strips()]
    return [line[inner.x : inner.right] for line in lines[inner.y : inner.bottom]]


async def test_a_click_on_a_layer_row_chooses_that_layer_and_a_step_row_nothing() -> None:
    app = sample_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        stack = app.query_one(LayerStack)
        top = stack.content_region.y - stack.region.y  # the border above the rows
        row = re.compile(r"L(\d+) ")
        for _ in range(3):  # a layer row in sight other than the chosen one, each time
            y, want = next(
                (n, int(m.group(1)))
                for n, line in enumerate(stack_lines(app))
                if (m := row.match(line)) and int(m.group(1)) != app.k
            )
            await pilot.click(LayerStack, offset=(4, top + y))
            await pilot.pause()
            assert app.k == want and stack.highlighted_layer == want
        y = next(n for n, line in enumerate(stack_lines(app)) if line.lstrip().startswith("·"))
        await pilot.click(LayerStack, offset=(4, top + y))
        await pilot.pause()
        assert app.k == want and stack.highlighted_layer == want


async def test_page_down_at_the_last_layer_keeps_it() -> None:
    """History steps below the last layer: a page down from it found no layer
    row below and the stack lost its cursor (OptionList's page move)."""
    app = sample_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        stack = app.query_one(LayerStack)
        stack.focus()
        await pilot.press("home", "pagedown")
        await pilot.pause()
        assert 0 < app.k < 6 and stack.highlighted_layer == app.k
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        assert app.k == 6 and stack.highlighted_layer == 6
        await pilot.press("up")
        await pilot.pause()
        assert app.k == 5 and stack.highlighted_layer == 5


async def test_selecting_a_layer_reroots_the_tree() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        assert app.merged is not None
        top = root_paths(app)
        expect_top = [n.path for n in Snapshot(app.merged, 6).children("/", ViewOptions())]
        assert top == expect_top
        app.query_one(LayerStack).focus()
        await pilot.press("up", "up", "up", "up")  # L6 -> L2 (empty entries are skipped)
        await pilot.pause()
        assert app.k == 2
        l2 = root_paths(app)
        assert l2 == [n.path for n in Snapshot(app.merged, 2).children("/", ViewOptions())]
        assert "/root" in top and "/root" not in l2
        assert "as of L2" in str(app.query_one(FileTree).root.label)
        await pilot.press("down", "down", "down", "down", "down", "down", "down")
        assert app.k == 6  # no wrap-around past the top layer


async def test_versions_pane_lists_exactly_the_lower_versions() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        assert app.merged is not None
        tree = app.query_one(FileTree)
        assert tree.reveal("/app/config.txt")
        await pilot.pause()
        versions = app.query_one(VersionsPane)
        assert versions.path == "/app/config.txt"
        layers = [ev.layer for ev in versions.events]
        assert layers == [4, 2]
        entry = app.merged.entry_at("/app/config.txt", 6)
        assert entry is not None
        assert [v.layer for v in app.merged.versions_below(entry)] == layers[1:][::-1]
        row = [str(c) for c in versions.get_row_at(1)]
        assert row[0] == "L2" and "hidden by L4 (modified)" in row[2]


async def test_deleted_paths_show_at_their_place_and_in_versions() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        app.query_one(LayerStack).select_layer(5)
        await pilot.pause()
        assert app.k == 5
        tree = app.query_one(FileTree)
        assert tree.reveal("/root/.aws/credentials")
        await pilot.pause()
        text, struck = cursor_row(tree)
        assert "credentials" in text and "deleted" in text and struck
        versions = app.query_one(VersionsPane)
        assert isinstance(versions.events[0], Deletion)
        assert [ev.layer for ev in versions.events] == [5, 3]
        # at the top layer the secret still shows where it was, as a ghost (X hides ghosts)
        app.query_one(LayerStack).select_layer(6)
        await pilot.pause()
        assert tree.reveal("/root/.aws/credentials")
        tree.focus()
        await pilot.press("X")
        assert not tree.reveal("/root/.aws/credentials")


async def test_layer_only_view_and_filters() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        app.query_one(LayerStack).select_layer(4)
        await pilot.pause()
        all_root = root_paths(app)
        app.query_one(FileTree).focus()
        await pilot.press("v")
        changed_root = root_paths(app)
        assert set(changed_root) < set(all_root)
        # /tmp is only re-listed (a file made and removed within the step): not a change
        assert set(changed_root) == {"/app", "/etc"}
        tree = app.query_one(FileTree)
        assert tree.reveal("/etc/motd")
        await pilot.press("p")  # hide metadata-only
        assert not tree.reveal("/etc/motd")
        assert tree.reveal("/app/config.txt")  # modified stays
        await pilot.press("m")
        assert not tree.reveal("/app/config.txt")
        status = str(app.query_one("#status", Static).render())
        assert "hiding: modified, metadata" in status


async def test_attributes_and_size_sort() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        await pilot.press("i")
        assert tree.reveal("/usr/local/bin/suid-helper")
        await pilot.pause()
        assert "-rwsr-xr-x 0:0" in cursor_row(tree)[0]
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert root_paths(app)[0] == "/bin"  # busybox is the biggest subtree


async def test_size_sort_never_computes_sizes_on_the_key_path() -> None:
    """Before the sizes worker has run, `s` keeps name order and the worker re-sorts."""
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await app.workers.wait_for_complete()
        assert app.merged is not None
        # name order from the model while sizes are unknown, size order once known
        fresh = Snapshot(app.merged, app.k)
        by_size = ViewOptions(sort_by_size=True)
        assert [n.path for n in fresh.children("/", by_size)] == [n.path for n in fresh.children("/", ViewOptions())]
        assert not fresh.sizes_ready()
        fresh.compute_sizes()
        assert fresh.children("/", by_size)[0].path == "/bin"
        # in the app: pretend the sizes are not computed yet
        assert app.sizes is not None
        app.sizes = Sizes(app.merged)
        app._snapshots.clear()
        app._retree()
        app.query_one(FileTree).focus()
        await pilot.press("s")
        assert "sort: size" in str(app.query_one("#status", Static).render())
        assert root_paths(app)[0] == "/app"  # name order until the sizes are there
        app.compute_sizes(app.sizes, app.query_one(FileTree).opts)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.sizes.ready(app.k)
        assert root_paths(app)[0] == "/bin"


async def test_search_jumps_and_filters() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("slash")
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"hello.py")
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        assert screen.matches == ["/app/hello.py"]
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one(FileTree).current_path == "/app/hello.py"
        # filter the tree to a glob
        await pilot.press("slash")
        await pilot.press("ctrl+a", "ctrl+k", *"*.txt")
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        search_screen = app.screen
        await pilot.press("ctrl+f")  # filtering runs in a worker, then dismisses
        await search_screen.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, SearchScreen)
        assert root_paths(app) == ["/app", "/data", "/opt", "/srv", "/var"]
        await pilot.press("escape")
        assert "/bin" in root_paths(app)


async def test_search_query_kinds_and_cancellation() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        merged = app.merged
        assert merged is not None
        top = len(merged.image.layers) - 1
        glob, n_glob = search(merged, top, "*.txt")
        assert n_glob == len(glob) > 0 and all(n.path.endswith(".txt") for n in glob)
        rx, _ = search(merged, top, r"re:^/app/hello\.py$")
        assert [n.path for n in rx] == ["/app/hello.py"]
        # a superseded search stops at once instead of walking every path (a glob
        # is walked in Python, polling; a fragment is asked once, before the core's walk)
        for query in ("", "*"):
            calls: list[int] = []
            stopped, total = search(merged, top, query, cancelled=lambda: calls.append(1) or True)  # noqa: B023
            assert stopped == [] and total == 0 and calls == [1]
        with pytest.raises(ValueError, match="bad regular expression"):
            search(merged, top, "re:(")


async def test_jump_to_supplying_layer_and_back() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        assert tree.reveal("/app/data.bin")
        await pilot.press("l")
        await pilot.pause()
        assert app.k == 4 and app.query_one(LayerStack).highlighted_layer == 4
        assert tree.current_path == "/app/data.bin"
        await pilot.press("b")
        await pilot.pause()
        assert app.k == 6


async def test_help_lists_every_key() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = " ".join(app.screen.query_one(LinesPane).text.split())  # long ones wrap in the box
        for title, keys in GROUPS:
            assert title in text
            for k in keys:
                assert " ".join(k.description.split()) in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_damaged_layer_keeps_the_app_running(tmp_path: Path) -> None:
    good = layer_tar([file("a", "x" * 3000)])
    bad = layer_tar([file("b", "y" * 3000)])[:1500]  # truncated mid-content
    path = docker_archive(tmp_path / "broken.tar", [good, bad])
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        assert app.image.layers[1].error
        stack = app.query_one(LayerStack)
        assert "DAMAGED" in str(stack.get_option("L1").prompt)
        assert "/a" in root_paths(app)
        await pilot.press("q")


@pytest.mark.parametrize("name", ["sample-oci-gzip.tar", "sample-oci-zstd.tar"])
async def test_oci_samples_open(name: str) -> None:
    app = make_app(str(SAMPLES / name))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        assert "/app" in root_paths(app)


def screen_text(app: LayerscopeApp) -> str:
    console = Console(width=200, file=io.StringIO(), record=True)
    for s in app.screen.query(Static):
        console.print(s.content)
    return console.export_text()


async def test_content_view_reads_the_version_from_the_image() -> None:
    from layerscope.ui.screens.content import ContentScreen

    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        assert tree.reveal("/app/config.txt")
        await pilot.press("c")
        assert isinstance(app.screen, ContentScreen)
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        text = screen_text(app)
        assert "retries = 5" in text and "version 2" in text
        await pilot.press("escape")
        # the diff against the lower version (L2 -> L4)
        await pilot.press("d")
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        text = screen_text(app)
        assert "+# sample config, version 2" in text
        assert "-# sample config" in text
        await pilot.press("escape")
        # a binary file gets a hex view
        assert tree.reveal("/app/data.bin")
        await pilot.press("c")
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        assert re.search(r"^0000  [0-9a-f]{2} ", screen_text(app), re.M)  # the row at offset 0


async def test_deleted_secret_content_from_versions_pane() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        app.query_one(LayerStack).select_layer(5)
        await pilot.pause()
        assert app.query_one(FileTree).reveal("/root/.aws/credentials")
        await pilot.pause()
        versions = app.query_one(VersionsPane)
        versions.focus()
        await pilot.press("down", "enter")  # the L3 version, under the L5 deletion
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        assert "FAKE-NOT-A-SECRET" in screen_text(app)


async def test_audit_screen_lists_waste_and_jumps() -> None:
    from layerscope.ui.screens.audit import AuditScreen

    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.analysis is not None
        await pilot.press("w")
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        assert screen.jumps["waste"] and screen.jumps["findings"]
        secret = [j for j in screen.jumps["findings"] if j.path == "/root/.aws/credentials"]
        assert secret
        await pilot.press("4")  # the findings tab
        assert screen.query_one("#findings").has_focus
        idx = screen.jumps["findings"].index(secret[0])
        for _ in range(idx):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert app.k == secret[0].layer
        assert app.query_one(FileTree).current_path == "/root/.aws/credentials"


async def test_fixes_tab_ranks_the_sample_fixes_and_jumps_to_the_layer_to_change() -> None:
    """The sample's L4 chmods two files L2 added (its Containerfile): the
    fix names L4 and Enter shows its first path there."""
    from textual.widgets import DataTable

    from layerscope.ui.screens.audit import AuditScreen

    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("w")
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        await pilot.press("5")
        await pilot.pause()
        table = screen.query_one("#fixes", DataTable)
        assert table.has_focus and table.row_count == 6
        assert table.get_row_at(0)[0].plain == "secret"  # an exposed secret ranks first
        await pilot.press("down")  # 340 B: the chmod copies
        await pilot.pause()
        detail = str(screen.query_one("#fix-detail", Static).render())
        assert "COPY --chmod" in detail and "/app/data.bin" in detail
        await pilot.press("enter")
        await pilot.pause()
        assert app.k == 4
        assert app.query_one(FileTree).current_path == "/app/data.bin"


async def test_compare_screen(tmp_path: Path) -> None:
    from layerscope.ui.screens.compare import CompareScreen

    app = make_app(str(SAMPLES / "sample-docker.tar"), compare=str(SAMPLES / "sample-oci-gzip.tar"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.comparison is not None
        assert len(app.comparison.shared) == 7 and not app.comparison.paths
        await pilot.press("C")
        assert isinstance(app.screen, CompareScreen)
        assert "7 shared by diff_id" in screen_text(app)


def test_layer_stack_counts_stay_in_their_columns() -> None:
    """A 21,702-entry layer once printed `+21702~0`: counts must never run together."""
    cases = {0: "0", 9999: "9999", 10_000: "10k", 21_702: "22k", 999_499: "999k", 999_500: "1.0M", 12_345_678: "12M"}
    for n, want in cases.items():
        assert short_count(n) == want
    assert all(len(short_count(n)) <= 4 for n in (*cases, 10**12))


async def test_status_bar_says_how_long_reading_took_with_a_preload() -> None:
    """The TUI starts reading before Textual is imported: by the time the app
    is up the load is done, so the status bar must show the load's own
    clock (reading and merging), not the ~0 s the UI waited."""
    from layerscope.api import BackgroundLoad
    from layerscope.sources import open_source

    pre = BackgroundLoad(open_source(str(SAMPLES / "sample-docker.tar")))
    pre.result()
    assert pre.seconds is not None and pre.seconds > 0
    app = LayerscopeApp(pre.image, preload=pre)
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        assert app.load_seconds == pre.seconds
        status = str(app.query_one("#status", Static).render())
        assert f"loaded in {pre.seconds:.2f}s" in status


async def test_key_bar_shows_each_screens_keys_and_a_click_presses_one() -> None:
    """The one-line key bar that replaced Textual's footer: the main screen's
    keys, the palette key at the right edge, another screen's own keys once
    it is pushed, and a click on a key does what the key does."""
    from layerscope.ui.screens.audit import AuditScreen
    from layerscope.ui.widgets.key_bar import KeyBar

    app = sample_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(app, pilot)
        await app.workers.wait_for_complete()
        bar = app.query_one(KeyBar)
        line = str(bar.render())
        assert line.startswith(" q Quit  ? Help  / Search ")
        assert line.rstrip().endswith("▏^p palette") and len(line) == 120
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, AuditScreen)
        assert str(app.screen.query_one(KeyBar).render()).startswith(" Esc Close  1 Files  2 Directories ")
        await pilot.press("escape")
        await pilot.pause()
        help_at = line.index("? Help") + 1  # a column inside " ? Help "
        await pilot.click(KeyBar, offset=(help_at, 0))
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
