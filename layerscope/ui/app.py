"""The layerscope Textual app: wiring between the model and the panes.

The image's manifest and config are read before the app starts (so a bad path
fails in one line, and the layer stack shows at once); layers are then read
in a background worker with a progress bar, and the tree fills in when the
merge is done. Widgets only display; all rules live in the headless modules.
"""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.widgets import Header, ProgressBar

from ..analysis import Analysis, BaseInfo
from ..api import BackgroundLoad
from ..compare import Comparison
from ..errors import LayerscopeError
from ..export import content_problem, last_version
from ..fixes import Fixes
from ..fmt import plural
from ..merge import ROOT, Merged
from ..model import CONTENT_DAMAGE_KINDS, DIR, Entry, Image
from ..sizes import Sizes
from ..snapshot import FILTER_CLASSES, Snapshot, ViewOptions, Within, cached_paths, matched_bytes
from ..textsafe import safe
from . import literal
from .clipboard import clip_text
from .collector import IdleCollector
from .commands import KeyCommands
from .drawn import Drawn
from .format import human_size
from .keys import bindings
from .screens.audit import AuditScreen, Jump
from .screens.compare import CompareScreen
from .screens.content import ContentScreen, describe, render_diff, render_version
from .screens.help import HelpScreen
from .screens.save import SaveScreen, version_words
from .screens.search import SearchResult, SearchScreen
from .widgets.details import DetailsPane, file_details, image_details, layer_details
from .widgets.file_tree import FileTree
from .widgets.key_bar import KeyBar
from .widgets.layer_stack import LayerStack
from .widgets.status import Part, StatusLine
from .widgets.versions import VersionsPane

if TYPE_CHECKING:
    from ..packages.index import PackageIndex  # imported by the worker that reads them
    from ..packages.lookup import Owners


class LayerscopeApp(App[int]):
    """Audit an image: layer stack, merged tree as of a layer, versions."""

    CSS_PATH = "layerscope.tcss"
    TITLE = "layerscope"
    BINDINGS = bindings()
    COMMANDS = App.COMMANDS | {KeyCommands}
    NOTIFICATION_TIMEOUT = 3  # a toast is a passing word: what stays true is in the status bar
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-normal"), (180, "-wide")]

    k: var[int] = var(0, init=False)  # a layer change repaints what it changes, not the whole screen

    def __init__(
        self,
        image: Image,
        workers: int | None = None,
        compare: str | None = None,
        base: str | None = None,
        preload: BackgroundLoad | None = None,
    ) -> None:
        super().__init__()
        self.image = image
        self.preload = preload
        self.merged: Merged | None = None
        self.analysis: Analysis | None = None
        self.fixes: Fixes | None = None
        self.comparison: Comparison | None = None
        self.compare_with = compare
        self.base_spec = base
        self.workers_count = workers
        self._snapshots: dict[int, Snapshot] = {}
        self.sizes: Sizes | None = None
        self.packages: PackageIndex | None = None  # read in a worker once the tree is up
        self.owners: Owners | None = None  # who owns a path, from ``packages``
        self._versions_shown: tuple[str | None, int] | None = None
        self._history: list[int] = []
        self._progress: dict[int, int] = {}
        self._load_started = 0.0
        self.load_seconds: float | None = None
        self.search_query: str | None = None
        self._collector = IdleCollector()
        self._damage: dict[int, str] = {}  # Image.layer_damage, once the layers are read
        self._problems: dict[int, list[str]] = {}  # each damaged layer's problems, first the worst
        self.set_reactive(LayerscopeApp.k, max(0, len(image.layers) - 1))
        # the Header shows sub_title as literal Content (never markup): only control characters need escaping
        self.sub_title = safe(image.ref or image.source)

    # -- layout -------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header(icon="◫")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                stack = LayerStack(id="layers")
                stack.border_title = "Layers"
                yield stack
                details = DetailsPane(id="details")
                details.border_title = "Details"
                yield details
            with Vertical(id="right"):
                tree = FileTree(id="tree")
                tree.border_title = "Files"
                yield tree
                versions = VersionsPane(id="versions")
                versions.border_title = "Versions"
                yield versions
        with Horizontal(id="statusbar"):
            yield StatusLine(id="status")
            yield ProgressBar(id="progress", show_eta=False)
        # what a first look needs stays longest on a narrow terminal
        yield KeyBar(keep=("quit", "search", "audit", "toggle_view", "content"))

    def on_mount(self) -> None:
        stack = self.query_one(LayerStack)
        early = self._early_base()
        if early is not None:
            stack.set_base(early)  # before the first paint: the rows never shift when the audit tells it
        else:
            stack.reserve_base_mark()  # --base IMAGE: known once the audit has read it
        stack.show_image(self.image, loaded=False)
        self.query_one(DetailsPane).show_image(Drawn(image_details(self.image)))
        self._show_layer_details()
        self.query_one(FileTree).root.set_label(Text("/  (reading layers…)", style="dim"))
        bar = self.query_one(ProgressBar)
        bar.update(total=max(1, len(self.image.layers)), progress=0)
        stack.focus()
        self._load_started = time.perf_counter()
        self._progress_timer = self.set_interval(0.1, self._update_progress)
        self.load_layers()
        self._update_status()

    def _early_base(self) -> BaseInfo | None:
        """The base image's layers when the config tells them (history,
        annotations, ``--base N``): cheap, so known before the first paint.
        None for ``--base IMAGE``, which the audit reads."""
        from ..analysis import resolve_base
        from ..api import base_value

        spec = self.base_spec
        if spec is not None and spec not in ("auto", "none") and not spec.isdigit():
            return None
        try:
            base, ref = base_value(spec, None)
        except LayerscopeError:
            return None  # the audit says what is wrong with it
        return resolve_base(self.image, base, ref)

    # -- loading ------------------------------------------------------------------
    @work(thread=True, exit_on_error=False, name="load")
    def load_layers(self) -> None:
        """Wait for the layers on a worker thread; the read itself is ``BackgroundLoad``'s
        (started before Textual by ``layerscope IMAGE``, here otherwise), which
        also owns the switch of the garbage collector around it."""
        load = self.preload if self.preload is not None else BackgroundLoad(self.image, self.workers_count)
        self._progress = load.progress  # read by the UI timer; no message flood
        try:
            merged = load.result()
        except LayerscopeError as exc:
            self.call_from_thread(self._load_failed, str(exc))
            return
        except Exception as exc:
            self.call_from_thread(self._load_failed, f"{type(exc).__name__}: {exc}")
            return
        self.call_from_thread(self._loaded, merged)

    def _update_progress(self) -> None:
        if self.merged is not None:
            return
        done = sum(1 for la in self.image.layers if la.uncompressed_bytes or la.error)
        read = sum(self._progress.values())
        self.query_one(ProgressBar).update(progress=done)
        self.query_one(StatusLine).show_text(
            Text(f"Reading layers: {done}/{len(self.image.layers)} done, {human_size(read)} read", style="yellow")
        )

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._collector.key()
        await super().on_event(event)

    def on_unmount(self) -> None:
        self._collector.stop()

    def on_key(self, event: events.Key) -> None:
        # letters of a quick "/cred" that reached the app after "/" opened the search
        if isinstance(self.screen, SearchScreen) and event.is_printable and event.character:
            self.screen.type_ahead(event.character)

    def _load_failed(self, msg: str) -> None:
        self._progress_timer.stop()
        self.query_one(ProgressBar).display = False
        self.query_one(StatusLine).show_text(literal.text(f"Error: {msg}", style="bold red"))
        literal.notify(self, msg, title="Could not load the image", severity="error", timeout=30)

    def _loaded(self, merged: Merged) -> None:
        self.image = merged.image  # the image as read and merged (it was the description until now)
        self.merged = merged
        self._collector.start()
        self.set_interval(0.25, self._collector.tick, name="collector")
        self.sizes = Sizes(merged)
        self._damage = self.image.layer_damage()  # the layers ``ci`` refuses: named in the status bar
        self._problems = {}
        # a layer's worst problem first: what makes it DAMAGED rather than UNVERIFIED
        for w in sorted(self.image.unverified(), key=lambda w: w.kind not in CONTENT_DAMAGE_KINDS):
            if w.layer is not None:
                self._problems.setdefault(w.layer, []).append(w.message)
        # With a preload the layers were read while the UI started: its own
        # clock says how long reading and merging took (the UI's would say ~0).
        preloaded = self.preload.seconds if self.preload is not None else None
        self.load_seconds = preloaded if preloaded is not None else time.perf_counter() - self._load_started
        self._progress_timer.stop()
        self.query_one(ProgressBar).display = False
        self.query_one(LayerStack).show_image(self.image, loaded=True)
        self.query_one(DetailsPane).show_image(Drawn(image_details(self.image)))
        self._show_layer_details()
        self._reroot(keep_path=None)
        self.compute_sizes(self.sizes, self.query_one(FileTree).opts)
        if messages := self.image.messages():
            literal.notify(self, f"{plural(len(messages), 'warning')} while loading — see Details", severity="warning")
        # damaged layers are marked on their rows and named in the status bar
        self.audit(merged)
        # the packages after the tree's first frame: it must not wait for them
        self.call_after_refresh(self.read_packages, merged)

    @work(thread=True, exclusive=True, group="packages", exit_on_error=False)
    def read_packages(self, merged: Merged) -> None:
        """The package databases of every layer (``packages.index``): owners, per-layer changes."""
        from ..packages.index import build

        try:
            ix = build(merged)
        except Exception as exc:  # a reader's bug must not take the UI down: the tree is up
            msg = f"{type(exc).__name__}: {exc}"
            self.call_from_thread(partial(literal.notify, self, msg, title="Packages", severity="error"))
            return
        self.call_from_thread(self._packages_read, ix)

    def _packages_read(self, ix: PackageIndex) -> None:
        from ..packages.lookup import Owners

        self.packages = ix
        self.owners = Owners(ix)
        if self.analysis is not None and ix.any:
            self.refix(self.analysis, ix)
        if ix.problems:
            # the lines ``layerscope packages`` starts with; the layer's details keep them
            lines = [f"! {p.text()}" for p in ix.problems[:5]]
            if len(ix.problems) > 5:
                lines.append(f"… {plural(len(ix.problems) - 5, 'more problem')} (layerscope packages)")
            title = f"{plural(len(ix.problems), 'package database problem')} — see Details"
            literal.notify(self, "\n".join(lines), title=title, severity="warning", timeout=10)
            self._show_layer_details()
        self._show_owner(self.query_one(FileTree).current_path)

    @work(thread=True, exclusive=True, group="audit", exit_on_error=False)
    def audit(self, merged: Merged) -> None:
        """Waste and findings (and the comparison, if asked) after the tree is up."""
        from ..analysis import analyze
        from ..api import base_value, load
        from ..compare import compare
        from ..fixes import fixes

        try:
            base, ref = base_value(self.base_spec, None)
            analysis = analyze(merged, base=base, base_ref=ref)
        except LayerscopeError as exc:
            self.call_from_thread(partial(literal.notify, self, str(exc), title="Audit failed", severity="error"))
            return
        found = fixes(analysis)  # here, not when w opens: 100 ms on a 500k-path image
        self.call_from_thread(self._audited, analysis, found)
        if self.compare_with:
            try:
                other = load(self.compare_with)
                comparison = compare(merged, other)
            except LayerscopeError as exc:
                self.call_from_thread(partial(literal.notify, self, str(exc), title="Compare failed", severity="error"))
                return
            self.call_from_thread(self._compared, comparison)

    @work(thread=True, exclusive=True, group="refix", exit_on_error=False)
    def refix(self, analysis: Analysis, ix: PackageIndex) -> None:
        """The fixes again once the packages are read: the build tools the
        image keeps are one (the rest were found without them)."""
        from ..fixes import fixes

        found = fixes(analysis, ix)
        self.call_from_thread(setattr, self, "fixes", found)

    def _audited(self, analysis: Analysis, found: Fixes) -> None:
        self.analysis = analysis
        self.fixes = found
        if self.packages is not None and self.packages.any:
            self.refix(analysis, self.packages)
        self.query_one(LayerStack).set_base(analysis.base)
        self._show_layer_details()
        self._update_status()  # it names the high-severity findings: a toast would hide the bars

    def _compared(self, comparison: Comparison) -> None:
        self.comparison = comparison
        t = comparison.totals()
        literal.notify(self, f"Compared: +{t['added']} -{t['removed']} ~{t['changed']} paths — press C")

    # -- the selected layer --------------------------------------------------------------
    def snapshot(self, k: int) -> Snapshot:
        assert self.merged is not None
        snap = self._snapshots.get(k)
        if snap is None:
            if len(self._snapshots) > 8:
                self._snapshots.pop(next(iter(self._snapshots)))
            snap = self._snapshots[k] = Snapshot(self.merged, k, self.sizes)
        return snap

    @on(LayerStack.LayerChosen)
    def _layer_chosen(self, event: LayerStack.LayerChosen) -> None:
        if event.index != self.k:
            self._history.append(self.k)
            self.k = event.index

    def watch_k(self, old: int, new: int) -> None:
        self._show_layer_details()
        if self.merged is not None:
            self._reroot(keep_path=None)

    def _show_layer_details(self) -> None:
        if self.image.layers:
            layer = self.image.layers[self.k]
            waste = self.analysis.layers[self.k] if self.analysis is not None else None
            damage = self._damage.get(self.k)
            problem = (damage, self._problems[self.k][0]) if damage and self._problems.get(self.k) else None
            warnings = [p.text() for p in self.packages.problems if p.layer == self.k] if self.packages else []
            details = layer_details(layer, self.merged is not None, waste, problem, warnings)
            self.query_one(DetailsPane).show_layer(Drawn(details))

    def _reroot(self, keep_path: str | None) -> None:
        if self.merged is None:
            return
        snap = self.snapshot(self.k)
        tree = self.query_one(FileTree)
        tree.show(snap, keep_path)
        self._count_matched_bytes()
        self._show_versions(tree.current_path)
        self._update_status()

    def _count_matched_bytes(self) -> None:
        """A filtered tree's directory sizes, for this layer and view, if not counted yet."""
        tree = self.query_one(FileTree)
        if tree.matched is None or self.merged is None:
            return
        key = (self.k, tree.opts.layer_only)
        if key not in tree.matched_bytes:
            self.count_matched_bytes(self.snapshot(self.k), tree.matched, key)

    @work(thread=True, exclusive=True, group="matched-bytes", exit_on_error=False)
    def count_matched_bytes(self, snap: Snapshot, paths: list[str], key: tuple[int, bool]) -> None:
        """Off the UI thread: a filter can match every path of a big image."""
        counted = matched_bytes(snap, paths, layer_only=key[1])
        self.call_from_thread(self._matched_bytes_counted, paths, key, counted)

    def _matched_bytes_counted(self, paths: list[str], key: tuple[int, bool], counted: dict[str, int]) -> None:
        tree = self.query_one(FileTree)
        if tree.matched is paths:  # still the same filter
            tree.matched_bytes[key] = counted
            if tree.opts.sort_by_size:
                self._retree()  # ranked by these sizes now
            else:
                tree.refresh_labels()

    @work(thread=True, exclusive=True, group="sizes", exit_on_error=False)
    def compute_sizes(self, sizes: Sizes, opts: ViewOptions) -> None:
        """Every layer's byte figures, once per image: the shown layer's first.

        After each layer, the view on screen (read from ``opts`` and ``k``,
        which the UI may change meanwhile) is told as soon as its figures are
        all there, so a layer's own view waits for one layer, not the image.
        """
        told: set[tuple[int, bool]] = set()
        first = self.k
        for j in [first, *(i for i in range(len(self.image.layers)) if i != first)]:
            sizes.compute_layer(j)
            if j == first:
                # the path list search walks: one C call holding the GIL for
                # ~0.3 s at 500k paths, better here than on the first keystroke
                cached_paths(sizes.merged)
            want = (self.k, opts.layer_only)
            ready = sizes.layer(want[0]) is not None if want[1] else sizes.ready(want[0])
            if ready and want not in told:
                told.add(want)
                self.call_from_thread(self._sizes_ready)

    def _sizes_ready(self) -> None:
        tree = self.query_one(FileTree)
        snap = tree.snapshot
        if snap is None or not snap.sizes_ready(tree.opts.layer_only):
            return
        if tree.opts.sort_by_size:
            self._retree()  # it was shown in name order until now
        else:
            tree.refresh_labels()

    def _show_versions(self, path: str | None) -> None:
        # Re-rooting, sorting or filtering re-highlights the same path: a versions
        # table re-filled for nothing costs ~50 ms of DataTable rendering.
        if self.merged is not None and (path, self.k) != self._versions_shown:
            self._versions_shown = (path, self.k)
            self.query_one(VersionsPane).show_path(self.merged, path, self.k)
            self._show_owner(path)

    def _show_owner(self, path: str | None) -> None:
        """The Details pane's owner of the highlighted path: only in an image with packages."""
        ix, owners = self.packages, self.owners
        if ix is None or owners is None or not ix.any or self.merged is None:
            return
        if path is None or path == ROOT:
            self.query_one(DetailsPane).show_file(None)
            return
        shown = self.snapshot(self.k).shipped(path)
        is_dir = shown is not None and shown.type == DIR
        self.query_one(DetailsPane).show_file(Drawn(file_details(path, owners.text(path, self.k, is_dir))))

    @on(FileTree.PathHighlighted)
    def _path_highlighted(self, event: FileTree.PathHighlighted) -> None:
        # A re-rooted tree highlights whatever sits on the old cursor line, then
        # the kept path: only the highlight still current is worth a refill.
        if event.path == self.query_one(FileTree).current_path:
            self._show_versions(event.path)

    @on(FileTree.PathSelected)
    def _path_selected(self, event: FileTree.PathSelected) -> None:
        self.action_content()

    @on(VersionsPane.VersionChosen)
    def _version_chosen(self, event: VersionsPane.VersionChosen) -> None:
        self._open_content(event.entry)

    def _update_status(self) -> None:
        """The status bar's parts, most important first to stay (``StatusLine`` fits them)."""
        tree = self.query_one(FileTree)
        opts = tree.opts
        n = len(self.image.layers)
        parts = [Part(f"{self.image.label_of(self.k)} of L0–{self.image.label_of(n - 1)}" if n else "no layers", 100)]
        damage = self._damage
        if damage:
            names = ",".join(self.image.label_of(i) for i in sorted(damage))
            words = sorted(set(damage.values()))
            parts.append(Part(f"{'/'.join(words)}: {names}", 95, f"! {names}", "bold red"))
        if self.analysis is not None:
            high = self.analysis.findings_by_severity().get("high", 0)
            if high:
                parts.append(Part(f"{plural(high, 'high-severity finding')}: w", 90, f"{high} high: w", "bold red"))
        parts.append(
            Part("view: this layer's changes", 70, "this layer")
            if opts.layer_only
            else Part("view: aggregate", 70, "aggregate")
        )
        if not opts.ghosts:
            parts.append(Part("ghosts hidden", 60, "no ghosts"))
        if opts.hidden:
            hidden = [c for c in FILTER_CLASSES if c in opts.hidden]
            parts.append(Part("hiding: " + ", ".join(hidden), 80, f"hiding {len(hidden)}"))
        parts.append(Part("sort: size" if opts.sort_by_size else "sort: name", 50, None))
        if self.search_query is not None:
            parts.append(Part(f"filter: {self.search_query!r} (esc clears)", 85, f"filter: {self.search_query!r}"))
        if self.load_seconds is not None:
            parts.append(Part(f"loaded in {self.load_seconds:.2f}s", 10))
        self.query_one(StatusLine).show_parts(parts)

    # -- actions ---------------------------------------------------------------------------
    def _current_entry(self) -> Entry | None:
        """The version the user points at: a versions row if focused, else the tree path."""
        if self.merged is None:
            return None
        versions = self.query_one(VersionsPane)
        if versions.has_focus:
            ev = versions.selected_event
            return ev if type(ev) is Entry else None
        path = self.query_one(FileTree).current_path
        # a deleted path stands for the version that still ships
        return self.snapshot(self.k).shipped(path) if path else None

    def _reader(self, entry: Entry, limit: int) -> bytes:
        from ..content import iter_content

        return b"".join(iter_content(self.image, entry, limit))

    def _open_content(self, entry: Entry) -> None:
        self.push_screen(ContentScreen(describe(entry), partial(render_version, entry, self._reader)))

    def action_content(self) -> None:
        entry = self._current_entry()
        if entry is None:
            literal.notify(self, "Select a file (in the tree or the versions pane) first")
            return
        if entry.type == DIR:  # a screen saying "no content" is one more Esc for nothing
            literal.notify(self, f"{entry.path} is a directory: Enter or → opens it, d diffs its metadata")
            return
        self._open_content(entry)

    def action_diff(self) -> None:
        if self.merged is None:
            return
        new = self._current_entry()
        if new is None:
            literal.notify(self, "Select a file first")
            return
        older = [v for v in self.merged.versions_below(new)]
        if not older:
            literal.notify(self, "This version hides nothing: no lower version to diff against")
            return
        old = older[-1]
        title = f"diff {new.path}: L{old.layer} → L{new.layer}"
        self.push_screen(ContentScreen(title, partial(render_diff, old, new, self._reader)))

    def action_jump_layer(self) -> None:
        entry = self._current_entry()
        if entry is None:
            return
        target = max(entry.layer, 0)
        path = entry.path
        if target != self.k:
            self._history.append(self.k)
            self.k = target
        self.query_one(LayerStack).select_layer(target, notify=False)
        self.query_one(FileTree).reveal(path)

    async def action_back(self) -> None:
        if self._history:
            target = self._history.pop()
            path = self.query_one(FileTree).current_path
            self.k = target
            self.query_one(LayerStack).select_layer(target, notify=False)
            if path:
                self.query_one(FileTree).reveal(path)

    def _step_layer(self, delta: int) -> None:
        target = min(max(self.k + delta, 0), len(self.image.layers) - 1)
        if target != self.k:
            self.query_one(LayerStack).select_layer(target)

    def action_prev_layer(self) -> None:
        self._step_layer(-1)

    def action_next_layer(self) -> None:
        self._step_layer(1)

    def _retree(self) -> None:
        tree = self.query_one(FileTree)
        if self.merged is not None:
            tree.show(self.snapshot(self.k))
            self._count_matched_bytes()
        self._update_status()

    def action_toggle_view(self) -> None:
        opts = self.query_one(FileTree).opts
        opts.layer_only = not opts.layer_only
        self._retree()

    def action_toggle_filter(self, cls: str) -> None:
        opts = self.query_one(FileTree).opts
        opts.hidden ^= {cls}
        self._retree()

    def action_toggle_ghosts(self) -> None:
        opts = self.query_one(FileTree).opts
        opts.ghosts = not opts.ghosts
        self._retree()

    def action_tree(self, what: str) -> None:
        """Keys that act on the tree from any pane: expand/collapse all below its cursor."""
        tree = self.query_one(FileTree)
        if self.merged is not None:
            {"expand_below": tree.expand_below, "collapse_below": tree.collapse_below}[what]()

    @on(FileTree.VersionsWanted)
    def _versions_wanted(self, event: FileTree.VersionsWanted) -> None:
        self.query_one(VersionsPane).focus()

    @on(FileTree.Truncated)
    def _truncated(self, event: FileTree.Truncated) -> None:
        literal.notify(self, f"Opened {plural(event.rows, 'row')}; press e on a directory to open more below it")

    def action_toggle_attrs(self) -> None:
        tree = self.query_one(FileTree)
        tree.attrs = not tree.attrs
        tree.refresh_labels()

    def _package_index(self) -> PackageIndex | None:
        """The packages if there are any; else a toast says why not (still reading, or none)."""
        if self.merged is None:
            literal.notify(self, "Still reading layers…")
        elif self.packages is None:
            literal.notify(self, "Still reading the package databases…")
        elif not self.packages.any:
            literal.notify(self, "No package database (dpkg, apk, RPM, Python, npm) in this image")
        else:
            return self.packages
        return None

    def action_toggle_packages(self) -> None:
        if self._package_index() is None or self.owners is None:
            return
        tree = self.query_one(FileTree)
        tree.package_of = self.owners.name if tree.package_of is None else None
        tree.refresh_labels()

    def action_packages(self) -> None:
        ix = self._package_index()
        if ix is None or self.merged is None:
            return
        from ..fmt import short_command
        from ..packages.lookup import layer_changes
        from .screens.packages import PackagesScreen

        layer = self.image.layers[self.k]
        title = f"Packages of {layer.label}: {short_command(layer.command) or '-'}"
        self.push_screen(PackagesScreen(layer_changes(self.merged, ix, self.k), title), self._package_chosen)

    def _package_chosen(self, query: str | None) -> None:
        """The tree filtered to a package's files, as a search's Ctrl+F filters it."""
        if query is None or self.merged is None or self.packages is None:
            return
        from ..packages.lookup import package_paths

        ghosts = self.query_one(FileTree).opts.ghosts
        paths = [ev.path for ev in package_paths(self.merged, self.packages, self.k, query, ghosts)]
        if not paths:
            literal.notify(self, f"{query}: no file of it as of {self.image.label_of(self.k)} (removed here?)")
            return
        self._search_done(SearchResult(query, filter_paths=paths))
        tree = self.query_one(FileTree)
        tree.focus()
        tree.reveal(paths[0])

    def action_toggle_sort(self) -> None:
        tree = self.query_one(FileTree)
        tree.opts.sort_by_size = not tree.opts.sort_by_size
        snap = tree.snapshot
        if tree.opts.sort_by_size and snap is not None and not snap.sizes_ready(tree.opts.layer_only):
            # Never compute sizes on the key path (seconds at 500k entries):
            # the worker re-sorts the tree when they are ready.
            literal.notify(self, "Sorting by size once directory sizes are computed…")
            self._update_status()
            return
        self._retree()

    def action_search(self) -> None:
        if self.merged is None:
            literal.notify(self, "Still reading layers…")
            return
        ghosts = self.query_one(FileTree).opts.ghosts
        query = self.search_query or ""
        self.push_screen(SearchScreen(self.merged, self.k, query, ghosts, self.packages), self._search_done)

    def _search_done(self, result: SearchResult | None) -> None:
        if result is None:
            return
        tree = self.query_one(FileTree)
        if result.filter_paths is not None:
            self.search_query = result.query
            tree.within = Within.of(result.filter_paths)  # opened up to a budget of rows
            tree.matched, tree.matched_bytes = result.filter_paths, {}
            self._retree()
            n = len(result.filter_paths)
            literal.notify(self, f"{plural(n, 'path')} match{'es' if n == 1 else ''} {result.query!r}")
        elif result.jump_to:
            tree.focus()
            if not tree.reveal(result.jump_to):
                literal.notify(self, "That path is hidden by the current view or filters")

    def action_clear_search(self) -> None:
        if self.search_query is not None:
            self.search_query = None
            tree = self.query_one(FileTree)
            tree.within, tree.matched, tree.matched_bytes = None, None, {}
            self._retree()

    async def action_focus(self, which: str) -> None:
        target = {"layers": "#layers", "tree": "#tree", "versions": "#versions", "details": "#details"}[which]
        self.query_one(target).focus()

    def action_audit(self) -> None:
        if self.analysis is None or self.fixes is None:
            literal.notify(self, "The audit is still running…" if self.merged is not None else "Still reading layers…")
            return
        self.push_screen(AuditScreen(self.analysis, self.fixes), self._jump)

    def action_compare(self) -> None:
        if not self.compare_with:
            literal.notify(self, "Start with --compare OTHER to compare with another image")
        elif self.comparison is None:
            literal.notify(self, "Still loading the other image…")
        else:
            self.push_screen(CompareScreen(self.comparison), self._jump_path)

    def _jump(self, jump: Jump | None) -> None:
        if jump is None:
            return
        if jump.layer != self.k:
            self._history.append(self.k)
            self.k = jump.layer
            self.query_one(LayerStack).select_layer(jump.layer, notify=False)
        tree = self.query_one(FileTree)
        tree.focus()
        if not tree.reveal(jump.path):
            literal.notify(self, "That path is hidden by the current view or filters")

    def _jump_path(self, path: str | None) -> None:
        if path is None:
            return
        if self.merged is not None and self.merged.state_at(path, self.k) is None:
            # a path only B has: not "hidden by the view", there is none here
            literal.notify(self, f"{path} is only in B (the --compare image): not in this one")
            return
        self._jump(Jump(path, self.k))

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    # -- acting on a version: save it, copy its path or digest ----------------------------
    def _pointed(self) -> tuple[str | None, Entry | None]:
        """The path and version the user points at: the versions row if that pane
        has the focus, else the tree's path (if deleted as of this layer: its last version)."""
        if self.merged is None:
            return None, None
        versions = self.query_one(VersionsPane)
        if versions.has_focus and versions.selected_event is not None:
            ev = versions.selected_event
            return ev.path, ev if type(ev) is Entry else None
        path = self.query_one(FileTree).current_path
        if not path or path == "/":
            return None, None
        return path, last_version(self.merged, path, self.k)

    def action_save(self) -> None:
        path, entry = self._pointed()
        if entry is None:
            literal.notify(
                self,
                "Select a file version (tree or versions pane) to save"
                if path is None
                else f"{path}: no version to save here",
            )
            return
        problem = content_problem(entry)
        if problem is not None:
            literal.notify(self, problem)
            return
        self.push_screen(SaveScreen(self.image, entry, version_words(self.merged, entry)))

    def action_yank(self, what: str) -> None:
        path, entry = self._pointed()
        if path is None:
            literal.notify(self, "Select a path first")
            return
        text, note = clip_text(path if what == "path" else (entry.digest_str if entry is not None else None))
        if text is None:
            literal.notify(self, f"{path}: this version has no content digest (only regular files have one)")
            return
        self.copy_to_clipboard(text)
        literal.notify(self, f"Copied {text}" + (f" ({note})" if note else ""))


def make_app(
    path: str,
    platform: str | None = None,
    image_ref: str | None = None,
    workers: int | None = None,
    compare: str | None = None,
    base: str | None = None,
) -> LayerscopeApp:
    """Open the image (manifest + config only) and build the app around it."""
    from ..api import open_source

    return LayerscopeApp(open_source(path, platform, image_ref), workers=workers, compare=compare, base=base)


def run_app(
    image: Image,
    preload: BackgroundLoad | None = None,
    compare: str | None = None,
    base: str | None = None,
) -> int:
    """Run the UI on an opened image whose layers ``preload`` is already reading."""
    app = LayerscopeApp(image, compare=compare, base=base, preload=preload)
    app.run()
    return app.return_code or 0
