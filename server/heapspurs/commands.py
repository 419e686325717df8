"""The answers of the ``heapspurs`` command (see :mod:`heapspurs.cli`): load the dump, find
the object, and produce the output's lines."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator

from .analysis import compare as C
from .analysis.anchors import anchors_and_retained
from .analysis.describe import place_of
from .analysis.dominators import dominators, retained_per_type
from .analysis.ownergraph import owner_graph
from .analysis.owners import owner_pieces
from .analysis.suspects import NoRoots, suspects_answer, top_answer
from .analysis.typing import type_histogram
from .cli import UsageError
from .dumpfile.columns import DumpFile, read_columns
from .dumpfile.errors import DumpFormatError
from .export.errors import ExportError
from .heap import roots as R
from .heap.index import IndexDamaged
from .heap.model import Heap
from .loaded import LoadedDump, _Background, load_dump, load_types, segments_of
from .names.elf import ProgramError, UnusableProgram, check_matches, read_symbols
from .names.oid import OidFileError
from .render import jsonout, text
from .render.goroutines import goroutine_text, goroutine_view, goroutines_json_lines
from .render.graph import GraphvizMissing, render_svg, to_dot

# reported in one line on stderr (exit status 1), not as a traceback
USER_ERRORS = (DumpFormatError, OidFileError, ProgramError, GraphvizMissing, UsageError,
               NoRoots, ExportError, C.NotComparable, IndexDamaged)  # fmt: skip


def run(args: argparse.Namespace) -> Iterator[str]:
    if args.print and not args.oid:
        yield from print_without_index(args)
        return
    loaded = load_dump(args.dump, oid_path=args.oid, program=args.program,
                       cache=not args.no_cache, many_lookups=False,
                       index_beside=args.index_beside_dump,
                       tree_wanted=wants_tree(args))  # fmt: skip
    for warning in loaded.warnings:
        print(f"heapspurs: warning: {warning}", file=sys.stderr)
    told = len(loaded.warnings)
    try:
        yield from run_on(loaded, args)
    finally:  # damage found in an array of the index when the answer first used it
        for warning in loaded.warnings[told:]:
            print(f"heapspurs: warning: {warning}", file=sys.stderr)


def wants_tree(args: argparse.Namespace) -> bool:
    """Whether the answer holds retained sizes from the dominator tree (one dump's)."""
    if getattr(args, "baseline", None):
        return False
    return bool(args.histogram or getattr(args, "top", None) is not None
                or getattr(args, "suspects", False))  # fmt: skip


def run_on(loaded: LoadedDump, args: argparse.Namespace) -> Iterator[str]:
    """The answer to ``args`` from a loaded dump."""
    heap, names = loaded.heap, loaded.names
    if getattr(args, "baseline", None):
        yield from compared(loaded, args)
    elif args.histogram:
        yield from histogram(loaded, args.json)
    elif args.goroutines:
        yield from goroutines(loaded, args.json)
    elif args.print:
        yield from text.print_records(
            heap.dump, names.value_name, names.symbol, lambda a: names.label(heap.find(a), a)
        )
    elif args.find:
        yield from find(loaded, args)
    elif getattr(args, "top", None) is not None:
        yield from top(loaded, args)
    elif getattr(args, "suspects", False):
        yield from suspects(loaded, args)
    elif getattr(args, "export", None) is not None:
        yield from export_tables(loaded, args)
    else:
        obj = locate(loaded, args.address)
        if args.anchors:
            report, retained = anchors_and_retained(heap, names, obj)
            if args.json:
                yield jsonout.anchors_json_text(heap, names, args.address, report, retained)
            else:
                yield from text.anchor_lines(heap, names, args.address, report, retained)
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
                yield from text.record_hexdump_lines(heap, obj)
        else:
            yield from write_graph(loaded, obj, args)


def histogram(loaded: LoadedDump, as_json: bool) -> Iterator[str]:
    heap, names = loaded.heap, loaded.names
    answer = type_histogram(heap, names.typed, retained_per_type(heap, names.typed))
    if as_json:
        yield json.dumps(answer, indent=2)
    else:
        yield from text.histogram_lines(answer)


def compared(loaded: LoadedDump, args: argparse.Namespace) -> Iterator[str]:
    """``--histogram`` or ``--top N`` with ``--baseline``: what grew since the older dumps."""
    from .render.compare import comparison_lines, growth_lines

    comparison = C.compare(loaded, [load_baseline(loaded, path, args) for path in args.baseline])
    if args.histogram:
        answer = C.histogram_answer(comparison)
        lines = comparison_lines
    else:
        tree = dominators(loaded.heap)
        top = top_answer(loaded.heap, loaded.names, tree, args.top)
        answer = C.growth_answer(comparison, top, args.top)
        lines = growth_lines
    if args.json:
        yield json.dumps(answer, indent=2)
    else:
        yield from lines(answer)


def load_baseline(loaded: LoadedDump, path: str, args: argparse.Namespace) -> LoadedDump:
    """An older dump, typed with the dump's program (its DWARF, read once for the dump, is
    reused); one that program did not write is refused (its types would be another
    program's)."""
    baseline = load_dump(path, cache=not args.no_cache, many_lookups=False,
                         index_beside=args.index_beside_dump)  # fmt: skip
    symbols, types = loaded.names.symbols, loaded.names.typed.types
    if symbols is not None and types is not None:
        program = symbols.path
        try:
            check_matches(symbols, baseline.segments())
        except UnusableProgram:
            raise C.NotComparable(
                f"baseline {path} was not written by {program}, the dump's program: "
                "compare dumps of one program"
            ) from None
        baseline.names.symbols = symbols
        typed = load_types(baseline.heap, program, not args.no_cache, baseline.warnings,
                           _Background(lambda: types))  # fmt: skip
        baseline.names.set_types(typed)
    for warning in baseline.warnings:
        print(f"heapspurs: warning: baseline {path}: {warning}", file=sys.stderr)
    return baseline


def top(loaded: LoadedDump, args: argparse.Namespace) -> Iterator[str]:
    """``--top N [--address A]``: the largest retainers, of the heap or under A."""
    heap, names = loaded.heap, loaded.names
    under = None if args.address is None else locate(loaded, args.address)
    tree = dominators(heap)
    if under is not None and not tree.reached(under):
        raise UsageError(f"{args.address:#x} is in an object no root reaches: it retains nothing")
    answer = top_answer(heap, names, tree, args.top, under)
    if args.json:
        yield json.dumps(answer, indent=2)
    else:
        yield from text.top_lines(answer)


def suspects(loaded: LoadedDump, args: argparse.Namespace) -> Iterator[str]:
    tree = dominators(loaded.heap)
    answer = suspects_answer(loaded.heap, loaded.names, tree, args.suspect_threshold / 100)
    if args.json:
        yield json.dumps(answer, indent=2)
    else:
        yield from text.suspect_lines(answer)


def export_tables(loaded: LoadedDump, args: argparse.Namespace) -> Iterator[str]:
    """``--export DIR``: the dump's Parquet tables, one line per file written."""
    from .export.parquet import export  # pyarrow: only for an export

    written = export(loaded, args.export, args.export_bytes or "none", args.force)
    for w in written:
        yield f"Wrote {w.path} ({w.rows} rows, {w.bytes} bytes)"


def goroutines(loaded: LoadedDump, as_json: bool) -> Iterator[str]:
    symbols = loaded.names.symbols
    view = goroutine_view(loaded.heap, loaded.names, symbols.path if symbols else None)
    if as_json:
        yield from goroutines_json_lines(view)
    else:
        yield from goroutine_text(view)


def print_without_index(args: argparse.Namespace) -> Iterator[str]:
    """``--print`` streams records without building the heap index (a 1 GB dump stays cheap);
    ``--program`` still names data/bss slots and values pointing at globals."""
    dump = DumpFile(args.dump)
    symbols = None
    if args.program:  # checked before a line is printed: the segments come after the objects
        try:
            symbols = read_symbols(args.program)
            check_matches(symbols, segments_of(read_columns(dump).recs))
        except UnusableProgram as err:
            print(f"heapspurs: warning: {err}; printed without global names", file=sys.stderr)
            symbols = None
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
    svg = render_svg(to_dot(loaded.heap, loaded.names, g, dominators(loaded.heap)))
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(svg)
    yield f"Wrote {args.output}"
