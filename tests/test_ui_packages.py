"""Packages in the UI: read after the tree is up, the owner in the Details pane,
the packages view of a layer (Enter: the package's files in the tree), the
``pkg:`` search and the owner column.

Truth on the real Debian image is dpkg-query's, reading the layer's own
dpkg database unpacked by tar (``layertrees.dpkg_dbs``), not our index.
"""

from __future__ import annotations

import threading
from pathlib import Path

import imagegen as g
import pytest
from conftest import SAMPLES, need_tools
from layertrees import dpkg_dbs, dpkg_listfiles, dpkg_query
from test_packages import STATUS

from layerscope.api import load
from layerscope.packages import index as packages_index
from layerscope.packages.index import build
from layerscope.packages.lookup import STATE, UNMANAGED, Owners, package_matcher
from layerscope.packages.records import Ecosystem, Package
from layerscope.snapshot import count_matches, search
from layerscope.ui.app import LayerscopeApp, make_app
from layerscope.ui.screens.packages import PackagesScreen
from layerscope.ui.screens.search import SearchScreen
from layerscope.ui.widgets.details import DetailsPane
from layerscope.ui.widgets.file_tree import FileTree
from layerscope.ui.widgets.layer_stack import LayerStack
from layerscope.ui.widgets.table import MeasuredTable

SIZE = (120, 40)


def _pkg(eco: Ecosystem, name: str) -> Package:
    return Package(eco, name, "1", "amd64", "/db")


def test_pkg_query_names_packages_whole_in_any_or_one_ecosystem() -> None:
    curl, pycurl, lib = _pkg(Ecosystem.DEB, "curl"), _pkg(Ecosystem.PYTHON, "curl"), _pkg(Ecosystem.DEB, "libcurl4")
    every = [curl, pycurl, lib]
    assert [p for p in every if package_matcher("pkg:curl")(p)] == [curl, pycurl]
    assert [p for p in every if package_matcher("pkg:deb:curl")(p)] == [curl]
    assert [p for p in every if package_matcher(" pkg:CURL ")(p)] == [curl, pycurl]
    assert [p for p in every if package_matcher("pkg:*curl*")(p)] == every
    assert [p for p in every if package_matcher("pkg:rpm:curl")(p)] == []
    with pytest.raises(ValueError, match="package name"):
        package_matcher("pkg:")


def _small_image(tmp_path: Path) -> str:
    """dpkg's ``good`` (``/usr/bin/good``) in layer 0; layer 1 copies a tool no package owns."""
    return g.build(
        tmp_path,
        [
            [
                g.file("/var/lib/dpkg/status", STATUS),
                g.file("/var/lib/dpkg/info/good.list", "/.\n/usr\n/usr/bin\n/usr/bin/good\n"),
                g.file("/usr/bin/good", b"v1"),
                g.file("/usr/bin/goodbye", b"not the package"),
            ],
            [g.file("/opt/tool/bin/x", b"12345")],
        ],
    )


def test_pkg_search_finds_the_files_a_package_owns(tmp_path: Path) -> None:
    merged = load(_small_image(tmp_path))
    ix = build(merged)
    for query in ("pkg:good", "pkg:deb:good", "pkg:GOOD", "pkg:go*d"):
        found, total = search(merged, 1, query, packages=ix)
        assert ([ev.path for ev in found], total) == (["/usr/bin/good"], 1), query  # no directory, not goodbye
        assert count_matches(merged, 1, query, packages=ix) == (1, 0)
    assert search(merged, 1, "pkg:python:good", packages=ix) == ([], 0)
    with pytest.raises(ValueError, match="no package database"):
        search(merged, 1, "pkg:good")  # not read (yet): said, not a silent "no match"
    assert [ev.path for ev in search(merged, 1, "/usr/bin/good")[0]] == ["/usr/bin/good", "/usr/bin/goodbye"]


def test_owner_text_names_the_package_or_why_none(tmp_path: Path) -> None:
    merged = load(_small_image(tmp_path))
    owners = Owners(build(merged))
    assert owners.text("/usr/bin/good", 1, False) == "deb:good@1.0-1"
    assert owners.text("/opt/tool/bin/x", 1, False) == UNMANAGED == "none (unmanaged)"
    assert owners.text("/var/lib/dpkg/status", 1, False) == STATE
    assert owners.text("/usr/bin", 1, True) == "- (a directory)"
    assert (owners.name("/usr/bin/good", 1), owners.name("/opt/tool/bin/x", 1)) == ("good", "-")


# -- the real Debian image ------------------------------------------------------------


def _debian_truth(debian_image: Path, tmp_path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """dpkg-query's packages (name:arch -> version) as of layer 0 and layer 1 (apt-get install curl…)."""
    need_tools("dpkg-query")
    roots = dpkg_dbs(debian_image, tmp_path)
    return dpkg_query(roots[0]), dpkg_query(roots[1])


async def _ready(app: LayerscopeApp, pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app.merged is not None and app.packages is not None


async def test_details_show_the_owner_of_the_highlighted_file(debian_image: Path, tmp_path: Path) -> None:
    _, after = _debian_truth(debian_image, tmp_path)
    app = make_app(str(debian_image))
    async with app.run_test(size=SIZE) as pilot:
        await _ready(app, pilot)
        details = app.query_one(DetailsPane)
        assert "Owner" not in details.text  # the tree's root: no owner line
        tree = app.query_one(FileTree)
        tree.focus()
        assert tree.reveal("/usr/bin/curl")
        await pilot.pause()
        assert f"Owner deb:curl@{after['curl:amd64']}" in " ".join(details.text.split())
        assert tree.reveal("/usr/local/bin/healthcheck.sh")  # COPY'd: no package's
        await pilot.pause()
        assert "Owner none (unmanaged)" in " ".join(details.text.split())


async def test_packages_view_lists_the_layer_and_enter_filters_the_tree(debian_image: Path, tmp_path: Path) -> None:
    before, after = _debian_truth(debian_image, tmp_path)
    app = make_app(str(debian_image))
    async with app.run_test(size=SIZE) as pilot:
        await _ready(app, pilot)
        app.query_one(LayerStack).select_layer(1)
        await pilot.pause()
        await pilot.press("P")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PackagesScreen)
        table = screen.query_one(MeasuredTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        added = {r[2].removeprefix("deb:") for r in rows if r[1] == "added"}
        assert added == {key.split(":")[0] for key in set(after) - set(before)}
        curl = next(i for i, r in enumerate(rows) if r[2] == "deb:curl")
        assert rows[curl][3] == after["curl:amd64"] and rows[curl][4].endswith("kB")
        assert "Unmanaged:" in str(screen.query_one("#packages-unmanaged").render())
        table.move_cursor(row=curl)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is not screen and app.search_query == "pkg:deb:curl"
        tree = app.query_one(FileTree)
        assert tree.current_path == "/usr/bin/curl" and app.focused is tree
        assert [str(c.data) for c in tree.root.children] == ["/usr"]  # only curl's files
        await pilot.press("escape")  # clears the filter as a search's does
        assert "/etc" in [str(c.data) for c in tree.root.children]


async def test_pkg_search_lists_what_dpkg_lists(debian_image: Path, tmp_path: Path) -> None:
    need_tools("dpkg-query")
    root = dpkg_dbs(debian_image, tmp_path)[-1]
    listed = dpkg_listfiles(root, "curl")
    app = make_app(str(debian_image))
    async with app.run_test(size=SIZE) as pilot:
        await _ready(app, pilot)
        assert app.merged is not None
        files = sorted(p for p in listed if (e := app.merged.entry_at(p, app.merged.top)) and e.type != "dir")
        await pilot.press("slash", *"pkg:curl")
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        assert screen.matches == files and "/usr/bin/curl" in files
        await pilot.press("ctrl+f")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert app.search_query == "pkg:curl"
        assert [str(c.data) for c in app.query_one(FileTree).root.children] == ["/usr"]


def _row_text(tree: FileTree, path: str) -> str:
    assert tree.reveal(path)
    return tree.render_line(tree.cursor_line - tree.scroll_offset.y).text


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_owner_column_toggles(debian_image: Path, size: tuple[int, int]) -> None:
    app = make_app(str(debian_image))
    async with app.run_test(size=size) as pilot:
        await _ready(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        plain = _row_text(tree, "/usr/bin/curl")
        await pilot.press("o")
        await pilot.pause()
        shown = _row_text(tree, "/usr/bin/curl")
        assert shown.split() == [*plain.split(), "curl"], (plain, shown)  # the name, the figures, then the owner
        assert _row_text(tree, "/usr/local/bin/healthcheck.sh").split()[-1] == "-"
        await pilot.press("o")
        await pilot.pause()
        assert _row_text(tree, "/usr/bin/curl") == plain


async def test_an_image_without_packages_looks_as_before() -> None:
    app = make_app(str(SAMPLES / "sample-docker.tar"))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _ready(app, pilot)
        assert app.packages is not None and not app.packages.any
        tree = app.query_one(FileTree)
        tree.focus()
        plain = _row_text(tree, "/app/hello.py")
        await pilot.pause()
        assert "Owner" not in app.query_one(DetailsPane).text
        for key in ("o", "P"):
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, PackagesScreen)
        assert _row_text(tree, "/app/hello.py") == plain
        said = [str(n.message) for n in app._notifications]
        assert said.count("No package database (dpkg, apk, RPM, Python, npm) in this image") == 2


async def test_the_tree_is_up_and_usable_before_the_packages_are_read(
    debian_image: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real = packages_index.build

    def slow(merged):  # type: ignore[no-untyped-def]
        release.wait(30)
        return real(merged)

    monkeypatch.setattr(packages_index, "build", slow)
    app = make_app(str(debian_image))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if app.merged is not None and app.query_one(FileTree).root.children:
                break
        tree = app.query_one(FileTree)
        assert "/usr" in [str(c.data) for c in tree.root.children] and app.packages is None
        tree.focus()
        assert tree.reveal("/usr/bin/curl")  # the tree moves while the packages are read
        await pilot.press("P", "o")
        assert not isinstance(app.screen, PackagesScreen)
        assert "Still reading the package databases…" in [str(n.message) for n in app._notifications]
        assert "Owner" not in app.query_one(DetailsPane).text
        release.set()
        await _ready(app, pilot)
        assert "deb:curl@" in app.query_one(DetailsPane).text  # filled in on the highlighted file


async def test_a_hostile_database_warns_as_the_cli_does_and_the_ui_stays(tmp_path: Path) -> None:
    archive = g.build(
        tmp_path, [[g.file("/etc/hostname", "x\n")], [g.file("/var/lib/rpm/rpmdb.sqlite", b"not sqlite" * 10)]]
    )
    expected = build(load(archive)).problems[0].text()  # what ``layerscope packages`` prints after "! "
    app = make_app(archive)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _ready(app, pilot)
        said = "\n".join(str(n.message) for n in app._notifications)
        assert f"! {expected}" in said and expected.startswith("layer 1: /var/lib/rpm/rpmdb.sqlite: ")
        app.query_one(LayerStack).select_layer(1)
        await pilot.pause()
        assert "rpmdb.sqlite" in app.query_one(DetailsPane).text
        await pilot.press("slash", *"host")
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, SearchScreen) and app.screen.matches == ["/etc/hostname"]
