"""The auditor's workflow in the TUI (issue 13): layer pane, acting on versions, small screens.

Expectations come from outside the code under test: the umoci listings of the
sample (``*.expected.txt``: digests, sizes), its README (history, counts) and
the layer commands as the config records them.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from conftest import SAMPLES
from rich.color import Color, ColorSystem
from textual.widgets import Input, OptionList, Static

from layerscope.ui.app import LayerscopeApp, make_app
from layerscope.ui.screens.help import HelpScreen
from layerscope.ui.screens.save import SaveScreen
from layerscope.ui.screens.search import SearchScreen
from layerscope.ui.widgets.file_tree import FileTree
from layerscope.ui.widgets.layer_stack import LayerStack
from layerscope.ui.widgets.versions import VersionsPane

SMALL = (80, 24)
MEDIUM = (160, 45)
LARGE = (200, 60)
# what the sample's config records for L2 and L6 (sample_images/Containerfile, podman's history)
L2_COMMAND = "COPY dir:38aaf5bc6f030accafe528d5737789c91450d00bca9b2342547a75233"
L6_TAIL = "> /data/dirtofile"


def expected(listing: str, path: str) -> list[str]:
    """The umoci line of ``path`` in a listing: path, type, mode, uid, gid, size, digest, link."""
    for line in (SAMPLES / listing).read_text().splitlines():
        fields = line.split("\t")
        if fields[0] == path:
            return fields
    raise KeyError(path)


def sample_app(name: str = "sample-docker.tar") -> LayerscopeApp:
    return make_app(str(SAMPLES / name))


async def loaded(app: LayerscopeApp, pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app.merged is not None and app.analysis is not None


def pane_lines(app: LayerscopeApp, selector: str) -> list[str]:
    """The screen lines inside one pane's region (what the user sees of it)."""
    region = app.query_one(selector).region
    strips = list(app.screen._compositor.render_strips())
    return [strips[y].text[region.x : region.right] for y in range(region.y, region.bottom)]


def screen_lines(app: LayerscopeApp) -> list[str]:
    return [s.text for s in app.screen._compositor.render_strips()]


# -- the layer pane -----------------------------------------------------------------------


async def test_layer_pane_at_80_columns_keeps_every_count_and_the_command() -> None:
    """At 80×24 the deleted counts of L5 (8) and L6 (3) once disappeared, and every command.
    The rows give the counts' room to their commands (issue 20): the highlighted
    layer shows its counts below its command, as the Details pane does."""
    app = sample_app()
    async with app.run_test(size=SMALL) as pilot:
        await loaded(app, pilot)
        lines = pane_lines(app, "#layers")
        text = " ".join(line.strip("│ ▂▃▄▅▆▇█") for line in lines)
        assert "-3" in text and "~2" in text and "+1" in text  # L6, highlighted
        app.query_one(LayerStack).select_layer(5)
        await pilot.pause()
        text = " ".join(line.strip("│ ▂▃▄▅▆▇█") for line in pane_lines(app, "#layers"))
        assert "-8" in text and "+1" in text
        app.query_one(LayerStack).select_layer(6)
        await pilot.pause()
        lines = pane_lines(app, "#layers")
        # the highlighted layer's whole command is on screen, wrapped below its row
        text = " ".join(line.strip("│ ▂▃▄▅▆▇█") for line in lines)
        assert "RUN rm /var/lib/thing" in text
        app.query_one(LayerStack).select_layer(4)
        await pilot.pause()
        lines = pane_lines(app, "#layers")
        text = " ".join(" ".join(line.strip("│ ▂▃▄▅▆▇█").split()) for line in lines)
        assert "RUN printf '# sample config, version 2" in text
        assert "RUN rm /var/lib/thing" in text  # every row shows the start of its command...
        assert L6_TAIL not in text  # ...only the highlighted layer all of it


@pytest.mark.parametrize("size,room", [(MEDIUM, 30), (LARGE, 60)])
async def test_layer_pane_gives_the_command_room(size: tuple[int, int], room: int) -> None:
    """dive shows ~70 cells of command at 200 columns; we showed 14 at 160."""
    app = sample_app()
    async with app.run_test(size=size) as pilot:
        await loaded(app, pilot)
        lines = pane_lines(app, "#layers")
        l2 = next(line for line in lines if line.strip("│ ").startswith("L2 "))
        assert L2_COMMAND[:room] in l2, l2
        l6 = next(i for i, line in enumerate(lines) if line.strip("│ ").startswith("L6 "))
        whole = " ".join(line.strip("│ ") for line in lines[l6 : l6 + 4])
        assert L6_TAIL in whole  # the highlighted (top) layer: all of its command


async def test_base_layers_are_marked_in_the_stack() -> None:
    """multistage: L0–L4 are localhost/layerscope/base:1 (its manifest annotations)."""
    app = sample_app("multistage-oci.tar")
    async with app.run_test(size=MEDIUM) as pilot:
        await loaded(app, pilot)
        lines = [line.strip("│ ") for line in pane_lines(app, "#layers")]
        marked = [line.split()[1] for line in lines if line.startswith("b L")]
        assert marked == ["L0", "L1", "L2", "L3", "L4"]
        assert any(line.startswith("L5 ") for line in lines) and any(line.startswith("L6 ") for line in lines)
        rule = [i for i, line in enumerate(lines) if "base image:" in line]
        first_user = [i for i, line in enumerate(lines) if line.startswith("L5 ")]
        assert len(rule) == 1 and "localhost/layerscope/base:1" in lines[rule[0]] and rule[0] < first_user[0]
        stack = app.query_one(LayerStack)
        await pilot.press("1", "up", "up")  # the rule is skipped like an empty step
        assert stack.highlighted_layer == 4 and app.k == 4
    app = sample_app()  # FROM scratch: nothing to mark
    async with app.run_test(size=MEDIUM) as pilot:
        await loaded(app, pilot)
        lines = [line.strip("│ ") for line in pane_lines(app, "#layers")]
        assert not any(line.startswith("b ") or "base image" in line for line in lines)


async def test_status_bar_counts_layers_from_zero() -> None:
    app = sample_app()
    async with app.run_test(size=MEDIUM) as pilot:
        await loaded(app, pilot)
        status = str(app.query_one("#status", Static).render())
        assert status.startswith("L6 of L0–L6")  # 7 layers: not "L6 of 6"


# -- colours and symbols -------------------------------------------------------------------


async def test_change_classes_differ_without_colour_and_in_256_colours() -> None:
    """/etc/motd (chmod: metadata) and /srv/remove-me.txt (deleted) at L5 once both
    rendered as colour 197 in a 256-colour terminal, and looked the same without strikethrough."""
    app = sample_app()
    async with app.run_test(size=MEDIUM) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        rows: dict[str, tuple[str, str]] = {}
        app.query_one(LayerStack).select_layer(4)
        await pilot.pause()
        paths = ("/etc/motd", "/app/config.txt", "/app/NEWS.txt", "/etc/group")
        for path in paths:
            assert tree.reveal(path)
        tree.move_cursor(tree.root)  # the cursor row has the cursor's colours
        await pilot.pause()
        for path in paths:
            rows[path] = tree_row(app, path.rsplit("/", 1)[1])
        app.query_one(LayerStack).select_layer(5)
        await pilot.pause()
        assert tree.reveal("/srv/remove-me.txt")
        tree.move_cursor(tree.root)
        await pilot.pause()
        rows["deleted"] = tree_row(app, "remove-me.txt")
        # Without colour the change column says it: its word, or its mark in a narrow pane.
        expected = {
            "/etc/motd": ("metadata", "m"),
            "/app/config.txt": ("modified", "~"),
            "/app/NEWS.txt": ("added", "+"),
            "/etc/group": ("rewritten", "="),
            "deleted": ("deleted", "-"),
        }
        for p, (text, _c) in rows.items():
            assert text.split()[2] in expected[p], (p, text)
        colours = {p: c for p, (_t, c) in rows.items()}
        assert len(set(colours.values())) == 5, colours


def tree_row(app: LayerscopeApp, name: str) -> tuple[str, str]:
    """(text, 256-colour index of the name) of the tree line that shows ``name``."""
    tree = app.query_one(FileTree)
    region = tree.region
    for strip in list(app.screen._compositor.render_strips())[region.y : region.bottom]:
        text = strip.text[region.x : region.right]
        if name in text:
            label = text[text.index("▶") + 1 :] if "▶" in text else text.lstrip("│├└ ")
            for seg in strip:
                if name in seg.text and seg.style is not None and seg.style.color is not None:
                    colour = Color.parse(seg.style.color.name).downgrade(ColorSystem.EIGHT_BIT)
                    return label.lstrip("│├└ "), str(colour.number)
            return label, "none"
    raise AssertionError(f"{name} not on screen")


# -- acting on versions ----------------------------------------------------------------------


async def open_deleted_secret(app: LayerscopeApp, pilot) -> None:  # type: ignore[no-untyped-def]
    """The L3 version of /root/.aws/credentials, under L5's whiteout, in the versions pane."""
    app.query_one(LayerStack).select_layer(5)
    await pilot.pause()
    assert app.query_one(FileTree).reveal("/root/.aws/credentials")
    await pilot.pause()
    versions = app.query_one(VersionsPane)
    versions.focus()
    await pilot.press("down")
    assert versions.selected_event is not None and versions.selected_event.layer == 3


async def save_as(app: LayerscopeApp, pilot, name: str | None = None) -> SaveScreen:  # type: ignore[no-untyped-def]
    await pilot.press("S")
    screen = app.screen
    assert isinstance(screen, SaveScreen)
    if name is not None:
        field = screen.query_one(Input)
        field.value = name
    await pilot.press("enter")
    await screen.workers.wait_for_complete()
    await pilot.pause()
    return screen


def status_of(screen: SaveScreen) -> str:
    return str(screen.query_one("#save-status", Static).render())


async def test_save_a_deleted_version_to_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    want = expected("sample-docker.L3.expected.txt", "/root/.aws/credentials")
    app = sample_app()
    async with app.run_test(size=SMALL) as pilot:
        await loaded(app, pilot)
        await open_deleted_secret(app, pilot)
        await pilot.press("S")
        screen = app.screen
        assert isinstance(screen, SaveScreen)
        assert screen.query_one(Input).value == "credentials"  # the basename, to confirm
        assert "deleted by L5 (whiteout)" in str(screen.query_one("#save-what", Static).render())
        await pilot.press("enter")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, SaveScreen)
    saved = tmp_path / "credentials"
    data = saved.read_bytes()
    assert len(data) == int(want[5]) and "sha256:" + hashlib.sha256(data).hexdigest() == want[6]
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600


async def test_save_never_replaces_without_asking_nor_follows_a_symlink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "credentials").symlink_to(victim)
    (tmp_path / "config.txt").write_text("mine")
    want = expected("sample-docker.expected.txt", "/app/config.txt")
    app = sample_app()
    async with app.run_test(size=SMALL) as pilot:
        await loaded(app, pilot)
        await open_deleted_secret(app, pilot)
        screen = await save_as(app, pilot)
        assert isinstance(app.screen, SaveScreen) and "already exists" in status_of(screen)
        assert victim.read_text() == "keep me" and (tmp_path / "credentials").is_symlink()
        await pilot.press("escape")
        # a plain file: first Enter asks, a second Enter replaces it
        app.query_one(LayerStack).select_layer(6)
        await pilot.pause()
        tree = app.query_one(FileTree)
        tree.focus()
        assert tree.reveal("/app/config.txt")
        screen = await save_as(app, pilot)
        assert "already exists" in status_of(screen) and (tmp_path / "config.txt").read_text() == "mine"
        await pilot.press("enter")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, SaveScreen)
        data = (tmp_path / "config.txt").read_bytes()
        assert "sha256:" + hashlib.sha256(data).hexdigest() == want[6]
        # a changed name saves beside it; a name with a slash is refused
        screen = await save_as(app, pilot, "../escape.txt")
        assert "no /" in status_of(screen) and not (tmp_path.parent / "escape.txt").exists()
        await pilot.press("escape")
        # replacing a symlink replaces the link, never its target
        await open_deleted_secret(app, pilot)
        screen = await save_as(app, pilot)
        await pilot.press("enter")
        await screen.workers.wait_for_complete()
        await pilot.pause()
    assert victim.read_text() == "keep me"
    assert not (tmp_path / "credentials").is_symlink()
    assert (
        hashlib.sha256((tmp_path / "credentials").read_bytes()).hexdigest()
        in expected("sample-docker.L3.expected.txt", "/root/.aws/credentials")[6]
    )
    assert sorted(os.listdir(tmp_path)) == ["config.txt", "credentials", "victim.txt"]  # no temp files left


async def test_yank_path_and_digest() -> None:
    want = expected("sample-docker.expected.txt", "/app/config.txt")
    app = sample_app()
    async with app.run_test(size=SMALL) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        assert tree.reveal("/app/config.txt")
        await pilot.press("y")
        assert app.clipboard == "/app/config.txt"
        await pilot.press("Y")
        assert app.clipboard == want[6]
        # the lower (hidden) version's digest, from the versions pane
        app.query_one(VersionsPane).focus()
        await pilot.press("down", "Y")
        assert app.clipboard == expected("sample-docker.L3.expected.txt", "/app/config.txt")[6]
        # a directory has no digest: the clipboard keeps what it had
        tree.focus()
        assert tree.reveal("/app")
        await pilot.press("Y")
        assert app.clipboard == expected("sample-docker.L3.expected.txt", "/app/config.txt")[6]
        await pilot.press("y")
        assert app.clipboard == "/app"


# -- small screens -------------------------------------------------------------------------


async def test_help_fits_80x24_and_scrolls_to_the_legend() -> None:
    app = sample_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause()
        box = app.screen.query_one("#help-box")
        assert box.region.x >= 0 and box.region.right <= SMALL[0] and box.region.bottom <= SMALL[1]
        lines = screen_lines(app)
        top = box.region.y
        assert lines[top].rstrip().endswith("╮") and lines[box.region.bottom - 1].rstrip().endswith("╯")
        assert box.max_scroll_y > 0
        await pilot.press("end")
        await pilot.pause()
        assert "struck" in "".join(screen_lines(app)) or "whiteout" in "".join(screen_lines(app))


async def test_search_jump_never_leaves_the_cursor_under_the_scrollbar() -> None:
    """At 80×24 a jump to /var/lib/thing/inside.txt brings a horizontal scrollbar that hid the cursor."""
    app = sample_app()
    async with app.run_test(size=SMALL) as pilot:
        await loaded(app, pilot)
        await pilot.press("slash", *"inside.txt")
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        for _ in range(3):
            await pilot.pause()
        tree = app.query_one(FileTree)
        assert tree.current_path == "/var/lib/thing/inside.txt"
        # (the aligned columns may fit without a horizontal scrollbar; with one or
        # without, the cursor's row must be in view)
        visible = tree.scrollable_content_region.height
        assert tree.scroll_y <= tree.cursor_line < tree.scroll_y + visible
        # and on screen: the cursor's row is above the scrollbar row (when there is one)
        await pilot.pause()
        lines = pane_lines(app, "#tree")[:-1]  # the bottom border
        if tree.show_horizontal_scrollbar:
            lines = lines[:-1]
        assert any("inside.txt" in line for line in lines)


async def test_first_down_in_search_selects_the_first_match() -> None:
    app = sample_app()
    async with app.run_test(size=SMALL) as pilot:
        await loaded(app, pilot)
        await pilot.press("slash", *"*.txt")
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("down")
        results = screen.query_one("#search-results", OptionList)
        assert results.has_focus and results.highlighted == 0
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one(FileTree).current_path == screen.matches[0]


# -- waste rollups in the audit screen ------------------------------------------------------


async def test_audit_shows_rollups_and_percentages() -> None:
    from layerscope.ui.screens.audit import AuditScreen

    app = sample_app()
    async with app.run_test(size=MEDIUM) as pilot:
        await loaded(app, pilot)
        await pilot.press("w")
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        # 825 of 1,984,121 content bytes hidden (sample_images/README.md; report JSON)
        assert "99.96 %" in text and "0.04 % of 2.0 MB" in text
        assert "dive's figures" in text and "efficiency 99.9611 %" in text
        await pilot.press("2")
        await pilot.pause()
        dirs = screen.query_one("#waste-dirs")
        assert dirs.has_focus
        rows = [[str(c) for c in dirs.get_row_at(i)] for i in range(dirs.row_count)]  # type: ignore[attr-defined]
        assert [(r[2], r[0], r[1]) for r in rows[:3]] == [
            ("/", "825 B", "14"),
            ("/app", "592 B", "3"),
            ("/root/.aws", "90 B", "1"),
        ]
        assert "/root" not in [r[2] for r in rows]  # all of it is in /root/.aws
        await pilot.press("3")
        await pilot.pause()
        by_layer = screen.query_one("#waste-layers")
        rows = [[str(c) for c in by_layer.get_row_at(i)] for i in range(by_layer.row_count)]  # type: ignore[attr-defined]
        assert [(r[0], r[1], r[2]) for r in rows] == [("L4", "671 B", "5"), ("L5", "130 B", "6"), ("L6", "24 B", "3")]
        # Enter on /srv/old: at L5, the layer whose `rm -rf /srv/old` hid its files
        await pilot.press("2")
        idx = [r[2] for r in [[str(c) for c in dirs.get_row_at(i)] for i in range(dirs.row_count)]].index("/srv/old")  # type: ignore[attr-defined]
        for _ in range(idx):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert app.k == 5 and app.query_one(FileTree).current_path == "/srv/old"


async def test_versions_rows_never_keep_header_widths() -> None:
    """A frame drawn between adding rows and measuring them once stayed cached: `- dele`, `abse`."""
    app = sample_app()
    async with app.run_test(size=MEDIUM) as pilot:
        await loaded(app, pilot)
        app.query_one(LayerStack).select_layer(5)
        await pilot.pause()
        versions = app.query_one(VersionsPane)
        versions.show_path(app.merged, "/root/.aws/credentials", 5)  # type: ignore[arg-type]
        early = versions.render_line(2).text  # drawn before the table is idle: header widths
        await pilot.pause()
        await pilot.pause()
        line = versions.render_line(2).text
        assert "deleted by L5 (whiteout)" in line and "-rw-------" in line, (early, line)
