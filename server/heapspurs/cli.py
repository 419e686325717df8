"""``heapspurs``: why is this Go object still alive? The original tool's flags, plus JSON.

The arguments are parsed before the answering code (numpy, numba) is imported: ``--help``,
``--version`` and argument errors answer at once."""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import re
import sys
from collections.abc import Iterable
from typing import TextIO

from . import __version__
from .render.safe import CONTROLS


class UsageError(Exception):
    """A request the dump cannot answer as asked (bad address, nothing to do...)."""


def parse_address(value: str) -> int:
    """``0x...`` hex or decimal."""
    try:
        address = int(value, 16) if value.lower().startswith("0x") else int(value, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an address (0x... or decimal)"
        ) from None
    if not 0 <= address < 1 << 64:
        raise argparse.ArgumentTypeError(f"{value!r} is not a 64-bit address")
    return address


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="heapspurs",
        description="Find out why an object in a Go heap dump (debug.WriteHeapDump) is alive.",
    )
    p.add_argument("dump", help="heap dump written by runtime/debug.WriteHeapDump")
    p.add_argument("--oid", metavar="FILE", help="object-ID file: '0x<hex id> <name>' per line")
    p.add_argument("--program", metavar="BINARY", help="the Go binary that wrote the dump")
    act = p.add_mutually_exclusive_group()
    act.add_argument("--print", action="store_true", help="print every record in file order")
    act.add_argument(
        "--find", metavar="REGEX", help="list objects whose OID name or Go type matches"
    )
    act.add_argument("--histogram", action="store_true", help="live objects and bytes per Go type")
    act.add_argument(
        "--goroutines",
        action="store_true",
        help="every goroutine: stack, creator, what it retains, and whether it leaked",
    )
    act.add_argument(
        "--top",
        type=int,
        metavar="N",
        help="the N objects that retain most (with --address A: of those A dominates)",
    )
    act.add_argument(
        "--suspects",
        action="store_true",
        help="leak suspects: what retains a large share of the heap, and where it piles up",
    )
    act.add_argument(
        "--export",
        metavar="DIR",
        help="write the dump's tables as Parquet files into DIR (for DuckDB, Spark, Trino)",
    )
    p.add_argument(
        "--export-bytes",
        choices=("none", "all"),
        help="--export: none (default: the graph only) or all (also every object's bytes, "
        "which may hold secrets)",
    )
    p.add_argument(
        "--force", action="store_true", help="--export: replace the export in an existing DIR"
    )
    p.add_argument(
        "--baseline",
        action="append",
        metavar="OLD.dump",
        help="with --histogram or --top N: compare with an older dump (repeatable, oldest "
        "first); of the same process: new and freed objects too",
    )
    p.add_argument(
        "--suspect-threshold",
        type=float,
        metavar="P",
        help="--suspects: the share of the live heap a suspect retains, in %% (default 10)",
    )
    p.add_argument(
        "--address",
        type=parse_address,
        metavar="A",
        help="the object to explain (any address inside it; 0x... or decimal)",
    )
    what = p.add_mutually_exclusive_group()
    what.add_argument("--anchors", action="store_true", help="roots that keep it alive")
    what.add_argument("--owners", type=int, metavar="N", help="owner tree, N levels (-1: all)")
    what.add_argument("--hexdump", action="store_true", help="the object's bytes and pointers")
    p.add_argument(
        "--output",
        default="heapdump.svg",
        metavar="FILE.svg",
        help="where the owner graph goes (default heapdump.svg)",
    )
    p.add_argument(
        "--prune",
        action="store_true",
        help="graph: drop owners that lie on no path from a root to the object",
    )
    p.add_argument(
        "--max-nodes",
        type=int,
        default=500,
        metavar="N",
        help="graph: at most N objects, nearest and anchor chains first (default 500)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="JSON for --anchors/--owners/--find/--hexdump/--histogram/--top/--suspects",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="neither reuse nor save the dump's index (kept in ~/.cache/heapspurs)",
    )
    p.add_argument(
        "--index-beside-dump",
        action="store_true",
        help="keep the saved index beside the dump (DUMP.heapspurs-index/), not in the cache",
    )
    p.add_argument("--version", action="version", version=f"heapspurs {__version__}")
    return p


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """The command; without ``out`` (run as a program, output on stdout) the process ends
    here once the output is flushed."""
    args = build_parser().parse_args(argv)
    if out is None:
        # a short run making no cyclic garbage worth the scans: the collections that
        # numba's many import-time objects trigger cost 40-90 ms of every call
        gc.disable()
    status = answer(args, out or sys.stdout)
    if out is None:
        exit_now(status)
    return status


def answer(args: argparse.Namespace, out: TextIO) -> int:
    from . import commands

    try:
        check_args(args)
        write_lines(out, commands.run(args))
        return 0
    except commands.USER_ERRORS as err:
        print(f"heapspurs: error: {str(err).translate(CONTROLS)}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


def exit_now(status: int) -> None:
    """End the process without tearing the interpreter down: freeing a gigabyte of arrays
    and numba's compiled code piece by piece takes a quarter of a second. Everything the
    command writes is flushed first (files it wrote are already closed)."""
    with contextlib.suppress(BrokenPipeError):
        sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def check_args(args: argparse.Namespace) -> None:
    asks_object = args.anchors or args.owners is not None or args.hexdump
    if asks_object and args.address is None:
        raise UsageError("--anchors, --owners and --hexdump need --address")
    if (args.owners is not None and args.owners < -1) or args.owners == 0:
        raise UsageError("--owners takes N > 0 levels, or -1 for all")
    if not (args.print or args.find or args.histogram or args.goroutines or args.suspects
            or args.top is not None or args.address is not None
            or args.export is not None):  # fmt: skip
        raise UsageError(
            "nothing to do: give --print, --find REGEX, --histogram, --goroutines, --export DIR"
            " or --address A"
        )
    check_retained_args(args)
    check_export_args(args)
    check_baseline_args(args)
    if args.find:
        try:
            args.find_re = re.compile(args.find)
        except re.error as err:
            raise UsageError(f"--find: bad regular expression {args.find!r}: {err}") from None


def check_retained_args(args: argparse.Namespace) -> None:
    if args.top is not None and args.top < 1:
        raise UsageError("--top takes N >= 1 objects")
    if args.top is not None and (args.anchors or args.owners is not None or args.hexdump):
        raise UsageError("--top goes with --address A alone (the objects A dominates)")
    if args.suspects and args.address is not None:
        raise UsageError("--suspects looks at the whole heap: leave out --address")
    if args.suspect_threshold is None:
        args.suspect_threshold = 10.0
    elif not args.suspects:
        raise UsageError("--suspect-threshold goes with --suspects")
    elif not 0 < args.suspect_threshold <= 100:
        raise UsageError("--suspect-threshold takes a share of the heap in %, 0 < P <= 100")


def check_baseline_args(args: argparse.Namespace) -> None:
    if getattr(args, "baseline", None) and not (
        args.histogram or (args.top is not None and args.address is None)
    ):
        raise UsageError("--baseline goes with --histogram or --top N (of the whole heap)")


def check_export_args(args: argparse.Namespace) -> None:
    if args.export is None and (args.export_bytes is not None or args.force):
        raise UsageError("--export-bytes and --force go with --export DIR")
    if args.export is not None and args.address is not None:
        raise UsageError("--export writes the whole dump: leave out --address")


def write_lines(out: TextIO, lines: Iterable[str]) -> None:
    """Write in batches: millions of owner lines cost little more than their formatting.
    An item may hold many lines (a formatted chunk); a batch holds about a megabyte."""
    batch: list[str] = []
    size = 0
    for line in lines:
        batch.append(line)
        size += len(line)
        if len(batch) >= 8192 or size >= 1 << 20:
            _write_batch(out, batch)
            batch.clear()
            size = 0
    _write_batch(out, batch)
    out.flush()


def _write_batch(out: TextIO, batch: list[str]) -> None:
    if batch:
        # control characters from dumps, binaries and OID files (an ANSI escape sequence
        # in a name) are written out, never sent to the terminal
        out.write("\n".join(batch).translate(CONTROLS))
        out.write("\n")


if __name__ == "__main__":
    # ``python -m heapspurs.cli``: run the package's copy of this module, whose UsageError
    # is the one commands.USER_ERRORS catches (this copy's would end in a traceback)
    from heapspurs.cli import main as package_main

    sys.exit(package_main())
