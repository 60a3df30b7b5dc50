"""Command line: ``layerscope IMAGE`` opens the UI; subcommands answer headless.

The headless paths never import Textual. Every failure the user can cause ends
here as one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import __version__
from .errors import LayerscopeError
from .textsafe import safe

SUBCOMMANDS = ("report",)
EXIT_ERROR = 2


def _source_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", help="docker-save tar(.gz), OCI archive or OCI layout directory")
    p.add_argument("--platform", help="os/arch[/variant] to pick from a multi-platform index")
    p.add_argument("--image", dest="image_ref", metavar="REF", help="which image of a multi-image archive")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="layerscope",
        description="See inside container images: what each layer adds, changes, deletes and hides.",
        epilog="Run 'layerscope IMAGE' for the terminal UI, or 'layerscope report IMAGE' for a summary.",
    )
    parser.add_argument("--version", action="version", version=f"layerscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    ui = sub.add_parser("ui", help="open the terminal UI (the default: layerscope IMAGE)")
    _source_args(ui)
    rep = sub.add_parser("report", help="print a summary, or the full model as JSON")
    _source_args(rep)
    rep.add_argument("--layer", type=int, metavar="K", help="show the merged tree as of layer K (default: top)")
    rep.add_argument("--json", action="store_true", help="write the layerscope.report/1 JSON document")
    return parser


def _layer_index(k: int | None, count: int) -> int | None:
    if k is None:
        return None
    if k < 0:
        k += count
    if not 0 <= k < count:
        raise LayerscopeError(f"--layer {k}: the image has layers 0..{count - 1}")
    return k


def cmd_report(args: argparse.Namespace) -> int:
    from .api import load
    from .report import write_json, write_text

    merged = load(args.image, args.platform, args.image_ref)
    k = _layer_index(args.layer, len(merged.image.layers))
    if not merged.image.layers:
        raise LayerscopeError(f"{args.image}: the image has no layers")
    if args.json:
        write_json(merged, sys.stdout, k)
    else:
        write_text(merged, sys.stdout, k)
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    from .ui.app import run_app

    return run_app(args.image, args.platform, args.image_ref)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and not args_list[0].startswith("-") and args_list[0] not in SUBCOMMANDS + ("ui",):
        args_list.insert(0, "ui")
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    handler = {"report": cmd_report, "ui": cmd_ui}[args.command]
    try:
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
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, no traceback
        if os.environ.get("LAYERSCOPE_DEBUG"):
            raise
        print(f"layerscope: internal error: {type(exc).__name__}: {safe(str(exc))[:300]}", file=sys.stderr)
        return EXIT_ERROR
