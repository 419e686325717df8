"""Plain-text answers in the original heapspurs style."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from ..analysis.anchors import UNSEEN_ROOTS, AnchorReport
from ..analysis.fieldpath import chain_fields, owner_fields, path_text
from ..analysis.goroutines import anchor_words
from ..analysis.owners import OwnerRoot, OwnerTree
from ..dumpfile import layout as L
from ..dumpfile.columns import DumpFile
from ..dumpfile.records import Record, iter_records
from ..heap.model import Heap
from ..names.naming import Names, string_table
from . import linebuf

GOROUTINE_STATUS = {
    0: "Idle",
    1: "Runnable",
    2: "Running",
    3: "Syscall",
    4: "Waiting",
    6: "Dead",
    8: "Copystack",
    9: "Preempted",
}

NameOf = Callable[[int], "str | None"]


def with_name(value: int, name: str | None) -> str:
    return f"{value:#x} ({name})" if name else f"{value:#x}"


def object_line(heap: Heap, names: Names, obj: int) -> str:
    return describe_object(names.label(obj), int(heap.addr[obj]), heap.n_pointers(obj),
                           int(heap.size[obj]))  # fmt: skip


def describe_object(name: str | None, address: int, pointers: int, size: int) -> str:
    return f"{name or 'Object'} @ {address:#x} with {pointers} pointers in {size} bytes"


def object_pointer_lines(heap: Heap, names: Names, obj: int) -> Iterator[str]:
    base = int(heap.addr[obj])
    for i, (off, val) in enumerate(heap.pointers_of(obj)):
        yield f"Pointer[{i}]@{base + off:#x} = {with_name(val, names.value_name(val))}"


def root_line(label: str) -> str:
    return f"<- {label}"


# --- --print -------------------------------------------------------------------------------
def print_records(
    dump: DumpFile, value_name: NameOf, slot_name: NameOf, object_name: NameOf
) -> Iterator[str]:
    """Every record in file order, one decoded at a time (a 1 GB dump streams)."""
    ptr_size, big = 8, False
    for rec in iter_records(dump):
        if rec.tag == L.TAG_PARAMS:
            ptr_size, big = int(rec["pointer_size"]), bool(rec["big_endian"])
        yield from _record_lines(dump, rec, ptr_size, big, value_name, slot_name, object_name)


def _pointers(
    dump: DumpFile,
    rec: Record,
    ptr_size: int,
    big: bool,
    base: int,
    value_name: NameOf,
    slot_name: NameOf,
) -> Iterator[str]:
    offsets = rec.values.get("fields", [])
    assert isinstance(offsets, list)
    for i, off in enumerate(offsets):
        val = int.from_bytes(rec.contents[off : off + ptr_size], "big" if big else "little")
        slot = with_name(base + off, slot_name(base + off))
        yield f"Pointer[{i}]@{slot} = {with_name(val, value_name(val))}"


def _record_lines(
    dump: DumpFile,
    rec: Record,
    ptr_size: int,
    big: bool,
    value_name: NameOf,
    slot_name: NameOf,
    object_name: NameOf,
) -> Iterator[str]:
    v = rec.values
    t = rec.tag
    if t == L.TAG_OBJECT:
        addr = int(v["address"])
        name = object_name(addr) or "Object"
        yield f"{name} @ {addr:#x} with {len(v['fields'])} pointers in {rec.contents_len} bytes"
        yield from _pointers(dump, rec, ptr_size, big, addr, value_name, lambda a: None)
    elif t == L.TAG_PARAMS:
        yield (
            f"DumpParams: BigEndian={bool(v['big_endian'])}, PointerSize={v['pointer_size']}, "
            f"Heap={v['heap_start']:#x}-{v['heap_end']:#x}, Architecture={v['arch']}, "
            f"GoVersion={v['go_version']}, Cpus={v['ncpu']}"
        )
    elif t == L.TAG_TYPE:
        yield f"TypeDescriptor for '{v['name']}' @ {v['address']:#x}: Objects are {v['size']} bytes"
    elif t == L.TAG_ITAB:
        yield f"Itab @ {v['address']:#x}: {v['type']:#x}"
    elif t == L.TAG_GOROUTINE:
        status = GOROUTINE_STATUS.get(int(v["status"]) & 0xFFF, str(v["status"]))
        yield (
            f"Goroutine[{v['goid']}] @ {v['address']:#x}: {status} ({v['waitreason']}), "
            f"Stack @ {v['sp']:#x}"
        )
    elif t == L.TAG_STACK_FRAME:
        sp = int(v["sp"])
        yield (
            f"StackFrame[{v['depth']}] @ {sp:#x}: {v['name']} with {len(v['fields'])} "
            f"pointers in {rec.contents_len} bytes; child = {v['child_sp']:#x}"
        )
        yield from _pointers(dump, rec, ptr_size, big, sp, value_name, lambda a: None)
    elif t in (L.TAG_DATA, L.TAG_BSS):
        addr = int(v["address"])
        yield (
            f"{rec.kind} @ {addr:#x}-{addr + rec.contents_len:#x} with {len(v['fields'])} pointers"
        )
        yield from _pointers(dump, rec, ptr_size, big, addr, value_name, slot_name)
    elif t in (L.TAG_FINALIZER, L.TAG_QUEUED_FINALIZER):
        yield (
            f"{rec.kind} @ {v['object']:#x}: FuncVal: {v['funcval']:#x}, "
            f"Type: {v['fint']:#x}, Object Type: {v['object_type']:#x}"
        )
    elif t == L.TAG_OS_THREAD:
        yield f"OSThread @ {v['address']:#x}: id {v['id']}, procid {v['procid']}"
    elif t == L.TAG_MEMSTATS:
        yield memstats_line(rec.numbers)
    elif t == L.TAG_DEFER:
        yield (
            f"Defer @ {v['address']:#x}: goroutine {v['goroutine']:#x}, FuncVal: "
            f"{v['funcval']:#x}, PC: {v['pc']:#x}, link {v['link']:#x}"
        )
    elif t == L.TAG_PANIC:
        yield (
            f"Panic @ {v['address']:#x}: goroutine {v['goroutine']:#x}, Type: {v['type']:#x}, "
            f"Data: {with_name(int(v['data']), value_name(int(v['data'])))}, "
            f"link {v['link']:#x}"
        )
    elif t == L.TAG_OTHER_ROOT:
        yield f"OtherRoot '{v['description']}' = {v['pointer']:#x}"
    elif t == L.TAG_MEMPROF:
        yield (
            f"MemProf bucket @ {v['bucket']:#x}: {v['size']} bytes, allocs {v['allocs']}, "
            f"frees {v['frees']}, {v['nstk']} frames"
        )
        for func, file, line in v["stack"]:
            yield f"  {func} {file}:{line}"
    elif t == L.TAG_ALLOC_SAMPLE:
        yield f"AllocSample @ {v['object']:#x}: bucket {v['bucket']:#x}"
    elif t == L.TAG_EOF:
        yield "End Of File"


def memstats_line(numbers: list[int]) -> str:
    head = " ".join(f"{n}:{v}" for n, v in zip(L.MEMSTATS_NAMES, numbers, strict=False))
    k = len(L.MEMSTATS_NAMES)
    pause = " ".join(str(x) for x in numbers[k : k + 256])
    return f"MemStats: {{{head} PauseNs:[{pause}] NumGC:{numbers[-1]}}}"


# --- --anchors / --owners ------------------------------------------------------------------
def anchor_lines(
    heap: Heap,
    names: Names,
    address: int,
    report: AnchorReport,
    retained: tuple[int, int, int] | None = None,
) -> Iterator[str]:
    """``retained``: (bytes, objects) the object retains and the live heap's bytes, said
    after the object line."""
    obj = report.target
    yield f"{address:#x} is in {object_line(heap, names, obj)}"
    if retained is not None:
        yield "  " + retains_text(*retained)
    if report.phantom:
        yield (
            "  this record is span metadata the dumper walked by mistake (a phantom), "
            "not a Go object"
        )
        return
    if not report.anchors:
        yield "  no anchor in this dump: no root the dump records reaches this object."
        yield "  Roots a dump cannot show: " + "; ".join(UNSEEN_ROOTS) + "."
        return
    for a in report.anchors:
        cycle = (
            " [finalizer cycle: the finalizer never runs while this object lives]"
            if a.cycle
            else ""
        )
        more = anchor_words(heap, names, a.root_index, a.root.goroutine)
        yield f"{a.root.label}{more}: chain of {a.length} object(s){cycle}"
        if names.typed.types is not None:
            fields = chain_fields(heap, names, a.root_index, a.path)
            yield f"    path: {path_text(a.root, fields)} → {names.type_name(obj)}"
        for o in a.path:
            yield f"    {with_name(int(heap.addr[o]), names.label(o))}"
    if report.only_finalizer_cycles:
        yield (
            "only anchored by a finalizer cycle: the finalized object is kept alive through "
            "this object, so its finalizer can never run and the cycle leaks"
        )


def owner_text(heap: Heap, names: Names, pieces: Iterable[OwnerTree | OwnerRoot]) -> Iterator[str]:
    """The owner tree indented by level, in chunks of lines (joined by newlines)."""
    for piece, made in linebuf.prepared_ahead(pieces, lambda b: _object_lines(heap, names, b),
                                              OwnerTree):  # fmt: skip
        if isinstance(piece, OwnerRoot):
            yield indent(piece.level) + root_line(piece.root.label)
        elif made is not None:
            columns, tables = made
            yield from linebuf.chunks(linebuf.owner_text, columns, *tables)


def indent(level: int) -> str:
    deeper = level > linebuf.MAX_INDENT
    return "  " * min(level, linebuf.MAX_INDENT) + (f"[{level}] " if deeper else "")


def _text_name(name: str) -> bytes:
    return (name or "Object").encode()


def _object_lines(heap: Heap, names: Names, batch: OwnerTree) -> tuple[tuple, tuple]:
    """The columns and tables of linebuf.owner_text's lines for ``batch``."""
    field_ids, fields = owner_fields(heap, names, batch.nodes, batch.points_to)
    columns = (batch.levels, *linebuf.object_columns(batch.nodes, heap.addr, heap.cols.obj_first,
                                                      heap.size, names.label_index),
               field_ids + 1)  # fmt: skip
    return columns, (*names.label_table("Object", _text_name),
                     *string_table([b"", *(f.encode() for f in fields)]))  # fmt: skip


HEXDUMP_WINDOW = 1 << 20  # bytes of a record read at a time (a multiple of 16)


def hexdump_lines(data: bytes, pointer_offsets: Iterable[int]) -> Iterator[str]:
    """``hexdump -C`` style, then one ``Pointer: 0x..`` line per pointer slot."""
    yield from _hex_rows(data, 0)
    yield from _hexdump_end(len(data), pointer_offsets)


def record_hexdump_lines(heap: Heap, obj: int) -> Iterator[str]:
    """:func:`hexdump_lines` of ``obj``'s record, read a window at a time: a record of
    gigabytes is never held whole."""
    size, start = int(heap.size[obj]), int(heap.cols.obj_data[obj])
    for pos in range(0, size, HEXDUMP_WINDOW):
        yield from _hex_rows(heap.dump.bytes_at(start + pos, min(HEXDUMP_WINDOW, size - pos)), pos)
    yield from _hexdump_end(size, (off for off, _ in heap.pointers_of(obj)))


def _hex_rows(data: bytes, base: int) -> Iterator[str]:
    for pos in range(0, len(data), 16):
        chunk = data[pos : pos + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk[:8])
        if len(chunk) > 8:
            hexes += "  " + " ".join(f"{b:02x}" for b in chunk[8:])
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        yield f"{base + pos:08x}  {hexes:<48}  |{text}|"


def _hexdump_end(size: int, pointer_offsets: Iterable[int]) -> Iterator[str]:
    yield f"{size:08x}"
    for off in pointer_offsets:
        yield f"Pointer: {off:#x}"


def histogram_lines(answer: dict) -> Iterator[str]:
    """The histogram as an aligned table, largest bytes first, with a total line."""
    rows = answer["types"]
    total_b, total_n = answer["total_bytes"], answer["total_objects"]
    retained = bool(rows) and "retained" in rows[0]
    extra = f" {'retained':>12}" if retained else ""
    yield f"{'bytes':>12} {'%':>6} {'count':>10}{extra}  type"
    for r in rows:
        pct = 100.0 * r["bytes"] / total_b if total_b else 0.0
        extra = f" {r['retained']:>12}" if retained else ""
        yield f"{r['bytes']:>12} {pct:>5.1f}% {r['count']:>10}{extra}  {r['type']}"
    typed_pct = 100.0 * answer["typed_bytes"] / total_b if total_b else 0.0
    extra = f" {'':>12}" if retained else ""
    yield (f"{total_b:>12} {100.0:>5.1f}% {total_n:>10}{extra}  total ({typed_pct:.1f} % of "
           "bytes typed)")  # fmt: skip
    if answer.get("note"):
        yield answer["note"]


# --- retained sizes (--top, --suspects) ------------------------------------------------------
def percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def retains_text(nbytes: int, objects: int, live: int) -> str:
    share = percent(nbytes, live)
    return f"retains {nbytes} bytes ({share:.1f} % of the heap) in {objects} objects"


def top_lines(answer: dict) -> Iterator[str]:
    """``--top``: an aligned table, largest retained first, each with the nearest root."""
    live = answer["live_bytes"]
    parent = answer["parent"]
    if parent is not None:
        yield (f"{parent['address']} ({parent['type']}) "
               f"{retains_text(parent['retained'], parent['retained_objects'], live)}; it "
               "immediately dominates:")  # fmt: skip
    else:
        yield f"live heap: {live} bytes in {answer['live_objects']} objects; largest retainers:"
    yield f"{'retained':>12} {'%':>6} {'objects':>9} {'size':>9}  {'address':<16}  type  <- anchor"
    for o in answer["objects"]:
        anchor = o["anchor"] or "no root"
        yield (f"{o['retained']:>12} {percent(o['retained'], live):>5.1f}% "
               f"{o['retained_objects']:>9} {o['size']:>9}  {o['address']:<16}  {o['type']}  "
               f"<- {anchor}")  # fmt: skip
    if not answer["objects"]:
        yield "  (it dominates no other object)"


def suspect_lines(answer: dict) -> Iterator[str]:
    """``--suspects``: each suspect, where its memory piles up, the chain from its root
    (as Go, when typed) and the types accumulated there."""
    live, found = answer["live_bytes"], answer["suspects"]
    share = 100.0 * answer["threshold"]
    yield (f"{len(found)} leak suspect(s) retaining >= {share:g} % of the live heap "
           f"({live} bytes in {answer['live_objects']} objects)")  # fmt: skip
    for i, s in enumerate(found, 1):
        what = (f"{s['count']} objects of type {s['type']}" if s["kind"] == "group"
                else f"{s['type']} @ {s['objects'][0]['address']}")  # fmt: skip
        yield ""
        yield f"suspect {i}: {what} {retains_text(s['retained'], s['retained_objects'], live)}"
        point = s["accumulation_point"]
        yield (f"  accumulation point: {point['type']} @ {point['address']}, "
               f"{retains_text(point['retained'], point['retained_objects'], live)}")  # fmt: skip
        anchor = s["anchor"]
        if anchor is not None:
            yield f"  anchor: {anchor['label']}, chain of {len(anchor['path'])} object(s)"
            if anchor["expression"]:
                yield f"    path: {anchor['expression']} → {point['type']}"
        yield "  accumulated under it:"
        for t in s["accumulated"]:
            share = percent(t["bytes"], live)
            yield f"    {t['bytes']:>12} {share:>5.1f}% {t['count']:>9}  {t['type']}"
