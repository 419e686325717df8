"""``heapspurs``: why is this Go object still alive? The original tool's flags, plus JSON."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO

from . import __version__
from .analysis.anchors import find_anchors
from .analysis.describe import place_of
from .analysis.ownergraph import owner_graph
from .analysis.owners import owner_pieces
from .dumpfile.columns import DumpFile
from .dumpfile.errors import DumpFormatError
from .heap import roots as R
from .heap.model import Heap
from .loaded import LoadedDump, load_dump
from .names.elf import ProgramError, read_symbols
from .names.oid import OidFileError
from .render import jsonout, text
from .render.graph import GraphvizMissing, render_svg, to_dot


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
    act.add_argument("--find", metavar="REGEX", help="list objects whose name matches")
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
        "--json", action="store_true", help="JSON for --anchors/--owners/--find/--hexdump"
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="neither reuse nor save the index kept beside the dump",
    )
    p.add_argument("--version", action="version", version=f"heapspurs {__version__}")
    return p


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_args(args)
        write_lines(out, run(args, out))
        return 0
    except (DumpFormatError, OidFileError, ProgramError, GraphvizMissing, UsageError) as err:
        print(f"heapspurs: error: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


def check_args(args: argparse.Namespace) -> None:
    asks_object = args.anchors or args.owners is not None or args.hexdump
    if asks_object and args.address is None:
        raise UsageError("--anchors, --owners and --hexdump need --address")
    if (args.owners is not None and args.owners < -1) or args.owners == 0:
        raise UsageError("--owners takes N > 0 levels, or -1 for all")
    if not (args.print or args.find or args.address is not None):
        raise UsageError("nothing to do: give --print, --find REGEX or --address A")
    if args.find:
        try:
            args.find_re = re.compile(args.find)
        except re.error as err:
            raise UsageError(f"--find: bad regular expression {args.find!r}: {err}") from None


def write_lines(out: TextIO, lines: Iterable[str]) -> None:
    """Write in batches: millions of owner lines cost little more than their formatting.
    An item may hold many lines (a formatted chunk); a batch holds about a megabyte."""
    batch: list[str] = []
    size = 0
    for line in lines:
        batch.append(line)
        size += len(line)
        if len(batch) >= 8192 or size >= 1 << 20:
            out.write("\n".join(batch) + "\n")
            batch.clear()
            size = 0
    if batch:
        out.write("\n".join(batch) + "\n")
    out.flush()


def run(args: argparse.Namespace, out: TextIO) -> Iterator[str]:
    if args.print and not args.oid:
        yield from print_without_index(args)
        return
    loaded = load_dump(args.dump, oid_path=args.oid, program=args.program, cache=not args.no_cache)
    heap, names = loaded.heap, loaded.names
    if args.print:
        yield from text.print_records(
            heap.dump, names.value_name, names.symbol, lambda a: names.object_name(heap.find(a))
        )
    elif args.find:
        yield from find(loaded, args)
    else:
        obj = locate(loaded, args.address)
        if args.anchors:
            report = find_anchors(heap, names, obj)
            if args.json:
                yield json.dumps(jsonout.anchors_json(heap, names, args.address, report), indent=2)
            else:
                yield from text.anchor_lines(heap, names, args.address, report)
        elif args.owners is not None:
            pieces = owner_pieces(heap, names, obj, args.owners)
            if args.json:
                yield from owners_json(heap, loaded, args.address, obj, args.owners, pieces)
            else:
                yield from text.owner_text(heap, names, pieces)
        elif args.hexdump:
            if args.json:
                yield json.dumps(jsonout.hexdump_json(heap, names, args.address, obj), indent=2)
            else:
                offsets = (int(heap.cols.field_off[k]) for k in heap.fields_of(obj))
                yield from text.hexdump_lines(heap.contents(obj), offsets)
        else:
            yield from write_graph(loaded, obj, args)


def print_without_index(args: argparse.Namespace) -> Iterator[str]:
    """``--print`` streams records without building the heap index (a 1 GB dump stays cheap);
    ``--program`` still names data/bss slots and values pointing at globals."""
    dump = DumpFile(args.dump)
    symbols = read_symbols(args.program) if args.program else None
    lookup = symbols.lookup if symbols else (lambda a: None)
    yield from text.print_records(dump, lookup, lookup, lambda a: None)


def locate(loaded: LoadedDump, address: int) -> int:
    obj = loaded.heap.find(address)
    if obj < 0:
        raise UsageError(describe_non_object(loaded.heap, loaded, address))
    return obj


def describe_non_object(heap: Heap, loaded: LoadedDump, address: int) -> str:
    """Why ``address`` names no object: a global, a stack slot, or nothing in this dump."""
    place = place_of(heap, loaded.names, address)
    if place.kind in ("data", "bss"):
        sym = f" ({place.symbol})" if place.symbol else ""
        return (
            f"{address:#x} is not a heap object: it is in the {place.kind} segment{sym}; "
            "globals are roots, not objects"
        )
    if place.kind == "stack":
        where = f"goroutine {place.goroutine}'s stack, frame {place.frame} {place.function}"
        return f"{address:#x} is not a heap object: it is on {where} (+{place.offset:#x})"
    p = heap.params
    where = (
        "inside the heap arena but in no object record (free or unused memory)"
        if place.kind == "free"
        else f"outside the heap arena {p.heap_start:#x}-{p.heap_end:#x}"
    )
    return f"{address:#x} is not in any object of this dump: {where}"


def find(loaded: LoadedDump, args: argparse.Namespace) -> Iterator[str]:
    heap, names = loaded.heap, loaded.names
    objs = [int(o) for o in names.find(args.find_re)]
    globals_hit = []
    if names.symbols:
        for r in range(len(heap.roots)):
            if heap.roots.kind[r] in (R.DATA, R.BSS):
                sym = names.symbol(int(heap.roots.slot[r]))
                if sym and args.find_re.search(sym):
                    globals_hit.append((sym, int(heap.roots.target[r])))
    if args.json:
        found = [dict(jsonout.object_json(heap, names, o)) for o in objs]
        held = [
            {"global": s, "object": jsonout.object_json(heap, names, o)} for s, o in globals_hit
        ]
        yield json.dumps({"pattern": args.find, "objects": found, "globals": held}, indent=2)
        return
    for o in objs:
        yield text.object_line(heap, names, o)
        yield from text.object_pointer_lines(heap, names, o)
    for sym, o in globals_hit:
        yield f"{sym} -> {text.object_line(heap, names, o)}"
    if not objs and not globals_hit:
        yield f"no object or global matches {args.find!r}"


def owners_json(
    heap: Heap, loaded: LoadedDump, address: int, obj: int, depth: int, pieces: Iterable
) -> Iterator[str]:
    """Streams: one owner per line inside the JSON array, so huge trees never sit in memory."""
    head = {
        "address": jsonout.hexaddr(address),
        "object": jsonout.object_json(heap, loaded.names, obj),
        "offset": address - int(heap.addr[obj]),
        "depth": depth,
    }
    yield json.dumps(head)[:-1] + ', "owners": ['
    first = True
    for chunk in jsonout.owner_entries(heap, loaded.names, pieces):
        yield "  " + chunk[2:] if first else chunk  # each entry after ", " but the first
        first = False
    yield "]}"


def write_graph(loaded: LoadedDump, obj: int, args: argparse.Namespace) -> Iterator[str]:
    g = owner_graph(loaded.heap, loaded.names, obj, args.max_nodes, args.prune)
    yield f"Rendering graph ({len(g.nodes)} nodes{', truncated' if g.truncated else ''})..."
    svg = render_svg(to_dot(loaded.heap, loaded.names, g))
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(svg)
    yield f"Wrote {args.output}"


if __name__ == "__main__":
    sys.exit(main())
