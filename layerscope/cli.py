"""Command line: ``layerscope IMAGE`` opens the UI; subcommands answer headless.

The headless paths never import Textual. Every failure the user can cause ends
here as one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO, TypeAlias

from . import __version__
from .errors import LayerscopeError
from .textsafe import safe

if TYPE_CHECKING:
    from .analysis import Analysis
    from .merge import Merged

SUBCOMMANDS = ("report", "ls", "ci", "diff", "cat", "which", "packages")
EXIT_ERROR = 2
EXIT_DIFFER = 1  # diff: the images differ (as diff(1) and cmp)


IMAGE_HELP = (
    "docker-save tar(.gz), OCI archive, OCI layout directory, docker://REF, podman://REF, "
    "registry://HOST[:PORT]/REPO[:TAG|@DIGEST], or container://NAME "
    "(a container: its image plus its writable layer; podman-container:// or docker-container:// for one engine)"
)


UI_USAGE = (  # argparse prints a given usage as it is: folded here for 80 columns
    "layerscope [ui] IMAGE [--platform P] [--image REF] [--upper DIR]\n"
    "                  [--base BASE] [--compare OTHER] [--insecure] [--no-cache]"
)


def _remember(namespace: argparse.Namespace, dest: str, option_string: str | None) -> None:
    typed: dict[str, str] = getattr(namespace, "typed_options", None) or {}
    if option_string:
        typed[dest] = option_string
    namespace.typed_options = typed


class _Store(argparse.Action):
    """``store``, remembering the option as typed so that errors name it that way."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        _remember(namespace, self.dest, option_string)


class _Append(argparse.Action):
    """``append``, remembering the option as typed."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, [*(getattr(namespace, self.dest, None) or []), values])
        _remember(namespace, self.dest, option_string)


def _source_args(p: argparse.ArgumentParser, name: str = "image") -> None:
    p.add_argument(name, help=IMAGE_HELP)
    p.add_argument("--platform", help="os/arch[/variant] to pick from a multi-platform index")
    p.add_argument("--image", dest="image_ref", metavar="REF", help="which image of a multi-image archive")
    p.add_argument(
        "--upper",
        metavar="DIR",
        help="an overlay upper directory (a container's writable layer, e.g. copied off a host) to put on top "
        "of the image as its top layer",
    )
    _registry_args(p)


def _registry_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--insecure",
        action="store_true",
        help="registry:// sources: allow plain HTTP and skip TLS certificate checks (loopback allows HTTP anyway)",
    )
    p.add_argument(
        "--no-cache", action="store_true", help="registry:// sources: do not use or fill the blob cache (~/.cache)"
    )


def _base_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--base",
        metavar="BASE",
        help="base image layers, excluded from 'user' figures, their findings grouped: an image (path or "
        "docker://REF; shared leading layers by diff_id), a layer count N, 'auto' (the default: the image's "
        "base.name annotation and its history) or 'none'",
    )


# what add_subparsers returns (argparse names its class privately; typeshed types it so)
_Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

# each parser build_parser made -> its subcommands (``_subparser`` looks them up)
_COMMANDS: weakref.WeakKeyDictionary[argparse.ArgumentParser, _Commands] = weakref.WeakKeyDictionary()


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: one function per command below, in ``--help``'s order."""
    parser = argparse.ArgumentParser(
        prog="layerscope",
        description="See inside container images: what each layer adds, changes, deletes and hides.",
        epilog="Run 'layerscope IMAGE' for the terminal UI, or 'layerscope report IMAGE' for a summary.",
    )
    parser.add_argument("--version", action="version", version=f"layerscope {__version__}")
    sub = _COMMANDS[parser] = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in (
        _ui_parser,
        _report_parser,
        _ls_parser,
        _ci_parser,
        _diff_parser,
        _cat_parser,
        _which_parser,
        _packages_parser,
    ):
        add(sub)
    return parser


def _ui_parser(sub: _Commands) -> None:
    """``layerscope IMAGE`` (``ui`` is implied): the terminal UI."""
    ui = sub.add_parser(
        "ui",
        help="open the terminal UI (the default: layerscope IMAGE)",
        prog="layerscope",  # its errors read "layerscope: error: …", as typed without "ui"
        usage=UI_USAGE,
    )
    _source_args(ui)
    _base_args(ui)
    ui.add_argument("--compare", metavar="OTHER", help="another image to compare with (key C in the UI)")


def _report_parser(sub: _Commands) -> None:
    """``report``: the summary, or the whole model as layerscope.report/1."""
    rep = sub.add_parser("report", help="print a summary, or the full model as JSON")
    _source_args(rep)
    rep.add_argument(
        "--layer",
        type=int,
        metavar="K",
        help="as of layer K (default: top; negative counts from the top): the JSON's files/hidden; "
        "'layerscope ls IMAGE --layer K' lists that tree",
    )
    rep.add_argument("--json", action="store_true", help="write the layerscope.report/1 JSON document")
    rep.add_argument(
        "--markdown", action="store_true", help="write the summary as GitHub-flavoured Markdown (a PR comment)"
    )
    rep.add_argument(
        "--html", metavar="FILE", help="also write one self-contained HTML page (layers, treemap, file browser) to FILE"
    )
    rep.add_argument("--top", type=int, default=10, metavar="N", help="top offenders to list (default 10)")
    _base_args(rep)
    rep.add_argument(
        "--all-findings",
        action="store_true",
        help="list findings in base layers one by one (default: one line per rule; JSON always lists all)",
    )


def _ls_parser(sub: _Commands) -> None:
    """``ls``: the tree as of a layer, like ``tar -tv`` (``-h`` is ls(1)'s, so help is ``--help`` only)."""
    ls = sub.add_parser(
        "ls",
        help="list the merged tree as of a layer, one path a line (like tar -tv)",
        description="Each line: the layer that supplies the path, its change class and the path; "
        "--long adds mode, owner and size in bytes (-h: 1.0 kB). Deleted paths that still ship show class "
        "'deleted', the layer that deleted them and the layers they still ship in. "
        "Globs: * and ? stay inside a path segment, ** crosses '/', a pattern without '/' matches the file name.",
        add_help=False,  # -h is --human-readable, as in ls(1); --help stays
    )
    ls.add_argument("--help", action="help", help="show this help message and exit")
    _source_args(ls)
    ls.add_argument("glob", nargs="?", metavar="PATH-GLOB", help="only paths matching this glob")
    ls.add_argument("--layer", type=int, metavar="K", help="as of layer K (default: top; negative counts from the top)")
    ls.add_argument("--changes", action="store_true", help="only layer K's own changes, its deletions included")
    ls.add_argument("--deleted", action="store_true", help="only deleted paths whose bytes still ship in lower layers")
    ls.add_argument("--long", "-l", action="store_true", help="mode, owner and size (in bytes) too")
    ls.add_argument(
        "--human-readable", "-h", dest="human", action="store_true", help="with --long: sizes as 1.0 kB (as ls -lh)"
    )
    ls.add_argument("--json", action="store_true", help="write layerscope.ls/1 JSON (report --json's files/hidden)")


def _ci_parser(sub: _Commands) -> None:
    """``ci``: the gate; its thresholds are ``_threshold_args``."""
    ci = sub.add_parser(
        "ci",
        help="check waste and findings against thresholds: exit 0 pass, 1 fail, 2 error or not fully read",
        description="Thresholds come from --config, .layerscope.toml or [tool.layerscope] in pyproject.toml "
        "(searched upwards from the current directory), then flags. Sizes: 20MB, 20MiB, bytes. "
        "Without any threshold: --min-efficiency 0.9 --forbid high. An image that could not be fully read "
        "or verified (damaged layer, digest or size mismatch, content left unread) exits 2.",
    )
    _source_args(ci)
    _base_args(ci)
    ci.add_argument("--config", metavar="FILE", help="TOML file ([tool.layerscope] table or top-level keys)")
    ci.add_argument("--no-config", action="store_true", help="ignore .layerscope.toml / pyproject.toml")
    ci.add_argument("--json", action="store_true", help="write the result as JSON (layerscope.ci/1)")
    ci.add_argument(
        "--markdown",
        action="store_true",
        help="write the result as GitHub-flavoured Markdown (also appended to $GITHUB_STEP_SUMMARY whenever it is set)",
    )
    ci.add_argument(
        "--sarif", metavar="FILE", help="also write findings and gate failures to FILE as SARIF 2.1.0 (code scanning)"
    )
    ci.add_argument(
        "--allow-damaged",
        action="store_true",
        help="gate on what could be read: report damaged layers and unverified content as a failed check "
        "that does not decide the exit code (default: exit 2)",
    )
    _threshold_args(ci)


def _threshold_args(ci: argparse.ArgumentParser) -> None:
    """The gate's thresholds as flags (the same keys as the config file's, see ``gate.apply``)."""
    ci.add_argument("--min-efficiency", action=_Store, metavar="F", help="minimum efficiency, 0.95 or 95%%")
    ci.add_argument(
        "--max-wasted-bytes", action=_Store, metavar="SIZE", help="maximum wasted bytes, e.g. 20MB or 20MiB"
    )
    ci.add_argument("--max-wasted-percent", action=_Store, metavar="P", help="maximum wasted percent of the image size")
    ci.add_argument(
        "--max-user-wasted-bytes", action=_Store, metavar="SIZE", help="maximum waste caused by non-base layers"
    )
    ci.add_argument(
        "--max-user-wasted-percent", action=_Store, metavar="P", help="... as percent of the non-base layers"
    )
    ci.add_argument(
        "--lowest-efficiency",
        "--dive-lowest-efficiency",
        dest="lowestEfficiency",
        action=_Store,
        metavar="F",
        help="dive's lowestEfficiency, checked against the dive-compatible efficiency",
    )
    ci.add_argument(
        "--highest-wasted-bytes",
        "--dive-highest-wasted-bytes",
        dest="highestWastedBytes",
        action=_Store,
        metavar="SIZE",
        help="dive's highestWastedBytes",
    )
    ci.add_argument(
        "--highest-user-wasted-percent",
        "--dive-highest-user-wasted-percent",
        dest="highestUserWastedPercent",
        action=_Store,
        metavar="F",
        help="dive's highestUserWastedPercent (a fraction: 0.1 = 10%%)",
    )
    ci.add_argument(
        "--max-fixable",
        dest="max_fixable",
        action=_Store,
        metavar="SIZE|P%",
        help="most bytes the fixes (report's Fixes) may save: 20MB, or 5%% of the image",
    )
    ci.add_argument(
        "--forbid",
        dest="forbid_findings",
        action=_Append,
        metavar="RULE|SEVERITY|all",
        help="fail on findings of this rule or severity, or 'all' for any finding (repeatable)",
    )
    ci.add_argument(
        "--forbid-path",
        dest="forbid_paths",
        action=_Append,
        metavar="GLOB",
        help="fail if any layer ships a path matching GLOB (repeatable)",
    )
    ci.add_argument(
        "--ignore-path",
        dest="ignore_paths",
        action=_Append,
        metavar="GLOB",
        help="ignore findings and forbidden paths matching GLOB (repeatable)",
    )


def _diff_parser(sub: _Commands) -> None:
    """``diff A B``: shared layers and changed paths; exit status as diff(1)."""
    diff = sub.add_parser(
        "diff",
        help="compare two images: shared layers and changed paths; exit 0 same, 1 different, 2 error",
        description="Exit status, as diff(1) and cmp: 0 when both images have the same layers and the same "
        "merged tree, 1 when they differ, 2 on an error.",
    )
    diff.add_argument("image_a", help=IMAGE_HELP)
    diff.add_argument("image_b", help=IMAGE_HELP)
    diff.add_argument("--platform", help="os/arch[/variant] to pick from a multi-platform index (both images)")
    diff.add_argument("--image", dest="image_ref", metavar="REF", help="which image of a multi-image archive (both)")
    diff.add_argument("--platform-b", metavar="P", help="B's platform, when it differs from --platform")
    diff.add_argument("--image-b", dest="image_ref_b", metavar="REF", help="B's image, when it differs from --image")
    diff.add_argument("--json", action="store_true", help="write the comparison as JSON (layerscope.diff/1)")
    _registry_args(diff)
    diff.add_argument("--limit", type=int, default=200, metavar="N", help="paths to list per kind (text; 0: all)")


def _cat_parser(sub: _Commands) -> None:
    """``cat``: one version of a file, raw, to stdout."""
    cat = sub.add_parser("cat", help="write one version of a file to stdout")
    _source_args(cat)
    cat.add_argument("path", help="path inside the image")
    cat.add_argument("--layer", type=int, metavar="K", help="the version visible as of layer K (default: top)")


def _which_parser(sub: _Commands) -> None:
    """``which``: the version stack of a path or of each path a glob matches."""
    which = sub.add_parser("which", help="print the version stack of a path, or of every path a glob matches")
    _source_args(which)
    which.add_argument("path", help="path inside the image, or a glob (see 'Path patterns' in the README)")
    which.add_argument("--json", action="store_true", help="write the stack as JSON")
    which.add_argument("--limit", type=int, metavar="N", help="stacks a glob shows (default 50; 0: all)")


def _packages_parser(sub: _Commands) -> None:
    """``packages``: what each layer installs, and the files no package owns."""
    pk = sub.add_parser("packages", help="list the packages (dpkg, apk, Python) as of a layer, or each layer's changes")
    _source_args(pk)
    pk.add_argument("--layer", type=int, metavar="K", help="as of layer K (default: top; negative counts from the top)")
    pk.add_argument(
        "--changes",
        action="store_true",
        help="what each layer (or layer K) added, removed, upgraded; its unmanaged files; packaged files changed later",
    )
    pk.add_argument(
        "--verify",
        action="store_true",
        help="check every packaged file against its package's md5/sha1 too (reads the content; sha256 always checked)",
    )
    pk.add_argument("--json", action="store_true", help="write the layerscope.packages/1 JSON document")


def _subparser(parser: argparse.ArgumentParser, command: str | None) -> argparse.ArgumentParser:
    """The parser of subcommand ``command`` (``parser`` itself for none)."""
    sub = _COMMANDS.get(parser)  # argparse has no public accessor for a parser's subparsers
    if sub is not None and command in sub.choices:
        found: argparse.ArgumentParser = sub.choices[command]
        return found
    return parser


def _layer_index(k: int | None, count: int) -> int | None:
    if k is None:
        return None
    index = k + count if k < 0 else k
    if not 0 <= index < count:
        raise LayerscopeError(f"--layer {k}: the image has layers 0..{count - 1} (or -{count}..-1 from the top)")
    return index


def _analyze(merged: Merged, base_spec: str | None, platform: str | None) -> Analysis:
    from .analysis import analyze
    from .api import base_value

    base, ref = base_value(base_spec, platform)
    return analyze(merged, base=base, base_ref=ref)


def _load(image: str, platform: str | None, image_ref: str | None, upper: str | None = None) -> Merged:
    from .api import load

    line = None
    if image.startswith("registry://") and sys.stderr.isatty():
        from .progress import ProgressLine

        line = ProgressLine(sys.stderr)  # downloads take a while: show that they move
    try:
        merged = load(image, platform, image_ref, line, upper=upper)
    finally:
        if line is not None:
            line.close()
    if not merged.image.layers:
        raise LayerscopeError(f"{image}: the image has no layers")
    return merged


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_json
    from .text.report import write_text

    merged = _load(args.image, args.platform, args.image_ref, args.upper)
    k = _layer_index(args.layer, len(merged.image.layers))
    analysis = _analyze(merged, args.base, args.platform)
    if args.html:
        from .html import write_html

        _write_file(args.html, lambda out: write_html(merged, analysis, out, k))
    if args.json:
        write_json(merged, sys.stdout, k, analysis=analysis)
    elif args.markdown:
        from .text.markdown import report_markdown

        sys.stdout.write(report_markdown(merged, analysis))
    else:
        write_text(
            merged,
            sys.stdout,
            k,
            analysis=analysis,
            top=max(0, args.top),
            image_arg=args.image,
            all_findings=args.all_findings,
        )
    return 0


def cmd_ls(args: argparse.Namespace) -> int:
    from . import listing
    from .packages.lookup import file_owners
    from .text import ls

    merged = _load(args.image, args.platform, args.image_ref, args.upper)
    k = _layer_index(args.layer, len(merged.image.layers))
    k = merged.top if k is None else k
    if args.json:
        owners = file_owners(merged, k) if args.long else None
        shown = listing.write_json(
            merged, sys.stdout, k, changes=args.changes, deleted=args.deleted, pattern=args.glob, owners=owners
        )
    else:
        rows = list(listing.rows(merged, k, changes=args.changes, deleted=args.deleted, pattern=args.glob))
        ls.write_text(merged, sys.stdout, rows, long=args.long, human=args.human)
        shown = len(rows)
    if args.glob is not None and not shown:
        # like grep: 1 says "nothing matched", distinct from an error (2)
        print(f"layerscope: no path matches {safe(args.glob)!r} as of layer {k}", file=sys.stderr)
        return 1
    return 0


CI_FLAGS = (
    "min_efficiency",
    "max_wasted_bytes",
    "max_wasted_percent",
    "max_user_wasted_bytes",
    "max_user_wasted_percent",
    "lowestEfficiency",
    "highestWastedBytes",
    "highestUserWastedPercent",
    "max_fixable",
    "forbid_findings",
    "forbid_paths",
    "ignore_paths",
)


def cmd_ci(args: argparse.Namespace) -> int:
    from .gate import ci_document, evaluate, thresholds
    from .layout import output_width
    from .report import dump_json
    from .text.ci import write_ci

    flags = {k: getattr(args, k) for k in CI_FLAGS}
    typed = getattr(args, "typed_options", None) or {}
    # config errors before the slow load; a bad flag is named as typed (--min-efficiency)
    th = thresholds(args.config, flags, use_config=not args.no_config, names=typed)
    merged = _load(args.image, args.platform, args.image_ref, args.upper)
    analysis = _analyze(merged, args.base if args.base is not None else th.base, args.platform)
    result = evaluate(merged, analysis, th, allow_damaged=args.allow_damaged)
    if args.sarif:
        from .sarif import sarif_document

        _write_file(args.sarif, lambda out: dump_json(sarif_document(result, merged, analysis), out))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if args.markdown or summary:
        from .text.markdown import ci_markdown

        text = ci_markdown(result, merged, analysis)
        if summary:  # GitHub Actions: the job's summary page; the gate's verdict does not depend on it
            try:
                _write_file(summary, lambda out: out.write(text + "\n"), append=True)
            except LayerscopeError as exc:
                print(f"layerscope: warning: GITHUB_STEP_SUMMARY: {safe(str(exc))}", file=sys.stderr)
    if args.json:
        dump_json(ci_document(result, merged, analysis), sys.stdout)
    elif args.markdown:
        sys.stdout.write(text)
    else:
        write_ci(sys.stdout, output_width(sys.stdout), result, merged, analysis, th)
    if result.unverifiable:
        return EXIT_ERROR
    return 0 if result.passed else 1


def _write_file(path: str, write: Callable[[TextIO], object], append: bool = False) -> None:
    """Write an output file a flag names (``--sarif FILE``); a failure is the user's, one line."""
    try:
        with open(path, "a" if append else "w", encoding="utf-8", newline="\n") as out:
            write(out)
    except OSError as exc:
        raise LayerscopeError(f"{path}: {exc.strerror or exc}") from None


def cmd_diff(args: argparse.Namespace) -> int:
    """Exit 0 when the images are the same (layers and trees), 1 when they differ, 2 on trouble:
    as diff(1), cmp and ``git diff --exit-code``, whether the output is text or JSON."""
    from .compare import compare
    from .layout import output_width
    from .report import dump_json
    from .text.diff import write_diff

    a = _load(args.image_a, args.platform, args.image_ref)
    b = _load(
        args.image_b,
        args.platform_b if args.platform_b is not None else args.platform,
        args.image_ref_b if args.image_ref_b is not None else args.image_ref,
    )
    cmp = compare(a, b)
    if args.json:
        dump_json(cmp.to_dict(), sys.stdout)
    else:
        write_diff(sys.stdout, output_width(sys.stdout), cmp, a, b, args.limit)
    return EXIT_DIFFER if cmp.differ else 0


def cmd_cat(args: argparse.Namespace) -> int:
    from .content import iter_content, lookup

    merged = _load(args.image, args.platform, args.image_ref, args.upper)
    k = _layer_index(args.layer, len(merged.image.layers))
    entry = lookup(merged, args.path, k)
    out = sys.stdout.buffer
    for chunk in iter_content(merged.image, entry):
        out.write(chunk)
    out.flush()
    return 0


def cmd_which(args: argparse.Namespace) -> int:
    from .layout import output_width
    from .packages.index import build
    from .packages.lookup import Owners
    from .report import dump_json
    from .stacks import which
    from .text.which import write_which

    merged = _load(args.image, args.platform, args.image_ref, args.upper)
    ix = build(merged)
    found = which(merged, args.path, args.limit, Owners(ix).owner if ix.any else None)
    if args.json:
        dump_json(found.to_dict(), sys.stdout)
        return 0
    write_which(sys.stdout, output_width(sys.stdout), found, [la.label for la in merged.image.layers])
    return 0


def cmd_packages(args: argparse.Namespace) -> int:
    from .layout import output_width
    from .packages.document import document
    from .packages.index import build
    from .report import dump_json
    from .text.packages import write_text

    merged = _load(args.image, args.platform, args.image_ref, args.upper)
    only = _layer_index(args.layer, len(merged.image.layers))
    k = merged.top if only is None else only
    ix = build(merged)
    if args.json:
        dump_json(document(merged, ix, k, only, args.verify), sys.stdout)
    else:
        write_text(sys.stdout, output_width(sys.stdout), merged, ix, k, args.changes, only, args.verify)
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    from .api import BackgroundLoad, open_source

    image = open_source(args.image, args.platform, args.image_ref, args.upper)
    preload = BackgroundLoad(image)  # the core reads layers while Textual is imported
    from .ui.app import run_app

    return run_app(image, preload, compare=args.compare, base=args.base)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and not args_list[0].startswith("-") and args_list[0] not in (*SUBCOMMANDS, "ui"):
        args_list.insert(0, "ui")
    parser = build_parser()
    args, extra = parser.parse_known_args(args_list)
    if args.command == "ls" and args.glob is None and len(extra) == 1 and not extra[0].startswith("-"):
        # argparse fills an optional positional at its first chance: `ls IMAGE --deleted GLOB`
        args.glob, extra = extra[0], []
    if extra:
        # the usage of the command the user typed (the UI's for `layerscope IMAGE --bogus`), not the top level's
        _subparser(parser, args.command).error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    gc_was_enabled = gc.isenabled()
    if args.command != "ui":
        # The model is millions of small acyclic objects: the cyclic collector
        # would re-scan them again and again while they are built (~25% of the
        # run time) and could never free any of them. The UI manages it itself.
        gc.disable()
    try:
        return _run(args)
    finally:
        if gc_was_enabled:
            gc.enable()  # main() may be called as a library function


def _configure_registry(args: argparse.Namespace) -> None:
    """--insecure / --no-cache apply to every registry:// image of the run (IMAGE, --base, --compare)."""
    insecure, no_cache = getattr(args, "insecure", False), getattr(args, "no_cache", False)
    # (not imported without a reason: only a run that names a registry needs the HTTP client)
    if insecure or no_cache or "layerscope.sources.registry" in sys.modules:
        from .sources.registry import configure

        configure(insecure=insecure, cache=not no_cache)


def _run(args: argparse.Namespace) -> int:
    handler = {
        "report": cmd_report,
        "ls": cmd_ls,
        "ui": cmd_ui,
        "ci": cmd_ci,
        "diff": cmd_diff,
        "cat": cmd_cat,
        "which": cmd_which,
        "packages": cmd_packages,
    }[args.command]
    try:
        _configure_registry(args)
        return handler(args)
    except LayerscopeError as exc:
        print(f"layerscope: error: {safe(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error worth a message.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except MemoryError:
        print("layerscope: error: out of memory", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        if os.environ.get("LAYERSCOPE_DEBUG"):
            raise
        print(f"layerscope: internal error: {type(exc).__name__}: {safe(str(exc))[:300]}", file=sys.stderr)
        return EXIT_ERROR
