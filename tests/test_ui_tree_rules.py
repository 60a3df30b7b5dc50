"""What the tree shows and where its keys go, checked against the sample's own layer tars.

Issue 20: with every change class hidden the tree kept expanded, empty
directories; a Ctrl+F filter showed whole-subtree sizes; Shift+→ lost the
cursor when the parent was the last of its own; the waste screen's Enter
went where README did not say. The expectations here are read from the
archive with ``tarfile``, not from layerscope's model.
"""

from __future__ import annotations

import io
import json
import posixpath
import tarfile
from collections.abc import Iterator

from conftest import SAMPLES

from layerscope.ui.app import LayerscopeApp, make_app
from layerscope.ui.format import human_size
from layerscope.ui.screens.audit import AuditScreen
from layerscope.ui.screens.search import SearchScreen
from layerscope.ui.widgets.file_tree import FileTree

SAMPLE = SAMPLES / "sample-docker.tar"
SMALL = (80, 24)


def layer_members(archive: str = str(SAMPLE)) -> list[list[tarfile.TarInfo]]:
    """Each layer's tar members, bottom first, straight from the docker archive."""
    out = []
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        for name in manifest[0]["Layers"]:
            blob = outer.extractfile(name)
            assert blob is not None
            with tarfile.open(fileobj=io.BytesIO(blob.read())) as layer:
                out.append(layer.getmembers())
    return out


def merged_files(upto: int) -> dict[str, tarfile.TarInfo]:
    """The merged tree of layers 0..upto by the OCI rules: whiteouts, opaque dirs, type changes."""
    tree: dict[str, tarfile.TarInfo] = {}
    for members in layer_members()[: upto + 1]:
        for m in members:
            path = "/" + m.name.strip("./").rstrip("/")
            parent, base = posixpath.split(path)
            if base == ".wh..wh..opq":
                tree = {p: v for p, v in tree.items() if not p.startswith(parent + "/")}
            elif base.startswith(".wh."):
                gone = posixpath.join(parent, base[4:])
                tree = {p: v for p, v in tree.items() if p != gone and not p.startswith(gone + "/")}
        for m in members:
            path = "/" + m.name.strip("./").rstrip("/")
            if posixpath.basename(path).startswith(".wh."):
                continue
            old = tree.get(path)
            if old is not None and old.isdir() != m.isdir():
                tree = {p: v for p, v in tree.items() if not p.startswith(path + "/")}
            tree[path] = m
    return tree


def children(tree: dict[str, tarfile.TarInfo], d: str) -> list[str]:
    return sorted(p for p in tree if posixpath.dirname(p) == d and p != "/")


def row_paths(tree: FileTree) -> Iterator[tuple[str, bool, int]]:
    """Each loaded row: its path, whether it is an expanded directory, and its number of rows below."""
    stack = list(reversed(tree.root.children))
    while stack:
        node = stack.pop()
        if isinstance(node.data, str):
            yield node.data, node.is_expanded, len(node.children)
        if node.is_expanded:
            stack.extend(reversed(node.children))


async def loaded(app: LayerscopeApp, pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app.merged is not None and app.analysis is not None


async def test_hiding_every_class_leaves_no_directory_open_on_nothing() -> None:
    """A directory there only as the way to what is shown below it goes when nothing below is shown."""
    app = make_app(str(SAMPLE))
    async with app.run_test(size=SMALL) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        assert tree.reveal("/app/config.txt")  # /app is open
        await pilot.press("right_square_bracket")  # no-op at the top: L6
        for key in "amprx":
            await pilot.press(key)
            await pilot.pause()
        shown = list(row_paths(tree))
        assert shown, "unchanged paths still show"
        await pilot.press("u")
        await pilot.pause()
        status = str(app.query_one("#status").render())
        # the status bar names the six hidden classes, or counts them when short of room
        assert "hiding: added, modified, metadata, rewritten, deleted, unchanged" in status or "hiding 6" in status
        assert list(row_paths(tree)) == []  # nothing is left to show, not a row of empty directories
        assert "L6: all hidden, a m p r x u" in str(tree.root.label)
        # in L6's own view with added hidden: L6 adds /var/lib/thing/inside.txt where a file was
        await pilot.press("u", "m", "p", "r", "x")
        await pilot.press("v")
        await pilot.pause()
        rows = {p: (open_, n) for p, open_, n in row_paths(tree)}
        l6 = {"/" + m.name.strip("./").rstrip("/") for m in layer_members()[6]}
        assert "/var/lib/thing/inside.txt" in l6
        for path, (is_open, below) in rows.items():
            assert not (is_open and below == 0), f"{path} open on nothing"
        # /var/lib/thing became a directory in L6 (shown: modified), its one file is added (hidden)
        assert "/var/lib/thing" in rows and rows["/var/lib/thing"] == (False, 0)
        assert tree.reveal("/var/lib/thing")
        await pilot.press("space")
        assert tree.current_path == "/var/lib/thing" and not tree.cursor_node.is_expanded  # type: ignore[union-attr]
        await pilot.press("a")  # added shown again: the way to them is back
        await pilot.pause()
        rows = {p: (open_, n) for p, open_, n in row_paths(tree)}
        assert "/var/lib/thing/inside.txt" in rows and "/var" in rows


async def test_filtered_tree_sizes_are_the_bytes_of_what_matched() -> None:
    """Ctrl+F on "config": a directory shows the bytes of the matching files below it."""
    files = merged_files(6)
    matched = {p: m for p, m in files.items() if "config" in p.lower()}
    expect_app = sum(m.size for p, m in matched.items() if p.startswith("/app/") and m.isreg())
    whole_app = sum(m.size for p, m in files.items() if p.startswith("/app/") and m.isreg())
    assert 0 < expect_app < whole_app
    app = make_app(str(SAMPLE))
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        await pilot.press("slash", *"config")
        assert isinstance(app.screen, SearchScreen)
        await app.screen.workers.wait_for_complete()
        await pilot.press("ctrl+f")
        for _ in range(3):
            await app.screen.workers.wait_for_complete()
            await app.workers.wait_for_complete()
            await pilot.pause()
        tree = app.query_one(FileTree)
        assert tree.within is not None
        cells = tree.row_cells("/app")
        assert cells is not None
        assert cells.size == human_size(expect_app), (cells.size, expect_app, whole_app)
        etc = sum(m.size for p, m in matched.items() if p.startswith("/etc/") and m.isreg())
        etc_cells = tree.row_cells("/etc")
        assert etc_cells is not None and etc_cells.size == human_size(etc)  # /etc/app-config is a symlink: 0 B
        # clearing the filter brings the whole subtree's bytes back
        await pilot.press("escape")
        await pilot.pause()
        cells = tree.row_cells("/app")
        assert cells is not None and cells.size == human_size(whole_app)


async def test_shift_right_leaves_the_directory_forward_and_never_loses_the_cursor() -> None:
    files = merged_files(6)
    app = make_app(str(SAMPLE))
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        root = children(files, "/")
        # from a file in /app: the row after /app, its next sibling
        assert tree.reveal("/app/config.txt")
        await pilot.press("shift+right")
        assert tree.current_path == root[root.index("/app") + 1]
        # the parent is the last of its own: out one more level
        var = children(files, "/var")
        inside = children(files, "/var/lib/thing")
        assert children(files, "/var/lib") == ["/var/lib/thing"] and inside
        assert tree.reveal(inside[-1])
        await pilot.press("shift+right")
        assert tree.current_path == var[var.index("/var/lib") + 1]
        # nothing after it: the cursor stays where it is
        assert tree.reveal(var[-1]) and root[-1] == "/var"
        await pilot.press("shift+right")
        assert tree.current_path == var[-1] and tree.cursor_line >= 0
        await pilot.press("shift+down")
        assert tree.current_path == var[-1] and tree.cursor_line >= 0
        # Shift+↓ goes over an open directory's rows; Shift+← back to the parent
        assert tree.reveal("/app/config.txt")
        await pilot.press("shift+left")
        assert tree.current_path == "/app"
        await pilot.press("shift+down")
        assert tree.current_path == root[root.index("/app") + 1]
        await pilot.press("shift+up")
        assert tree.current_path == "/app"


async def test_waste_enter_goes_where_each_tab_says() -> None:
    """Hidden files: the layer that hid the version. Findings: the layer whose version ships."""
    layers = layer_members()
    added_in = {"/" + m.name.strip("./"): k for k, ms in enumerate(layers) for m in ms if m.isreg()}
    whiteout_in = {
        posixpath.join("/" + posixpath.dirname(m.name.strip("./")), posixpath.basename(m.name)[4:]): k
        for k, ms in enumerate(layers)
        for m in ms
        if posixpath.basename(m.name).startswith(".wh.") and m.name.count(".wh.") == 1
    }
    secret = "/root/.aws/credentials"
    assert added_in[secret] == 3 and whiteout_in[secret] == 5
    app = make_app(str(SAMPLE))
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        await pilot.press("w", "4")
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        assert "at the layer that ships it" in str(screen.query_one("#audit-box").border_title)
        findings = [j.path for j in screen.jumps["findings"]]
        await pilot.press(*["down"] * findings.index(secret), "enter")
        await pilot.pause()
        assert app.screen is not screen
        assert app.query_one(FileTree).current_path == secret
        assert app.k == added_in[secret]  # where the secret ships: c shows it
        await pilot.press("w", "1")
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        assert "at the layer that hid it" in str(screen.query_one("#audit-box").border_title)
        hidden = [j.path for j in screen.jumps["waste"]]
        await pilot.press(*["down"] * hidden.index(secret), "enter")
        await pilot.pause()
        assert app.query_one(FileTree).current_path == secret
        assert app.k == whiteout_in[secret]  # the layer that hid it


def test_a_directory_too_big_to_look_through_on_a_keystroke_is_kept(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The rule is exact within a budget of paths; past it a directory stays, as it did before."""
    from layerscope.api import load
    from layerscope.snapshot import FILTER_CLASSES, Snapshot, ViewOptions

    merged = load(str(SAMPLE))
    every = ViewOptions(hidden=set(FILTER_CLASSES))
    assert Snapshot(merged, 6).children("/", every) == []
    monkeypatch.setattr("layerscope.snapshot.LOOK_BELOW", 1)
    kept = [n.path for n in Snapshot(merged, 6).children("/", every)]
    assert kept and all(p.count("/") == 1 for p in kept)


async def test_filtered_tree_sorted_by_size_ranks_by_what_matched() -> None:
    files = merged_files(6)
    matched = {p: m for p, m in files.items() if "config" in p.lower()}
    tops = {p.split("/")[1] for p in matched}
    by_bytes = sorted(
        tops, key=lambda t: (-sum(m.size for p, m in matched.items() if p.startswith(f"/{t}/") and m.isreg()), t)
    )
    assert by_bytes[0] == "app"  # /bin is the biggest directory, but only its symlinks match
    app = make_app(str(SAMPLE))
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        await pilot.press("s", "slash", *"config")
        await app.screen.workers.wait_for_complete()
        await pilot.press("ctrl+f")
        for _ in range(3):
            await app.screen.workers.wait_for_complete()
            await app.workers.wait_for_complete()
            await pilot.pause()
        tree = app.query_one(FileTree)
        assert [str(c.data) for c in tree.root.children] == [f"/{t}" for t in by_bytes]


async def test_filtered_layer_view_leaves_out_directories_with_no_match_in_the_layer() -> None:
    """Ctrl+F on "app", then L4's own view: /etc leads to /etc/app-config (L3), not in L4's changes."""
    l4 = {"/" + m.name.strip("./").rstrip("/") for m in layer_members()[4]}
    in_l4 = {p for p in l4 if "app" in p and not posixpath.basename(p).startswith(".wh.")}
    assert any(p.startswith("/etc/") for p in l4) and not any(p.startswith("/etc/") for p in in_l4)
    app = make_app(str(SAMPLE))
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        await pilot.press("slash", *"app")
        await app.screen.workers.wait_for_complete()
        await pilot.press("ctrl+f")
        for _ in range(3):
            await app.screen.workers.wait_for_complete()
            await app.workers.wait_for_complete()
            await pilot.pause()
        tree = app.query_one(FileTree)
        assert "/etc" in [str(c.data) for c in tree.root.children]  # /etc/app-config matched, as of L6
        await pilot.press("v", "left_square_bracket", "left_square_bracket")
        await pilot.pause()
        assert app.k == 4 and tree.opts.layer_only
        shown = {p for p, _open, _n in row_paths(tree)}
        assert "/etc" not in shown
        assert {p for p in in_l4 if p.count("/") <= 2} <= shown
