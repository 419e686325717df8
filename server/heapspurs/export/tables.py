"""One dump as Arrow tables (DESIGN §10): objects, references, roots, goroutines, types,
and a one-row ``dumps`` table that says which dump and process the rows come from.

Every table starts with a ``dump`` column, ``<file name>:<pid>``, so the tables of many
dumps read through one glob are one table. A Go heap dump has no pid record, but it lists
the runtime's OS threads (tag 9) with their kernel thread ids, and the first thread
(``m0``, id 0) is the process's main thread, whose thread id on Linux is the pid. A dump
without that record falls back to its heap arena's start (random per process from Go 1.26).

Addresses are signed 64-bit integers (``int64``): user-space addresses are below 2^63, and
Spark and Trino read unsigned 64-bit Parquet columns badly or not at all.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numba
import numpy as np
import pyarrow as pa

from ..analysis import goroutines as GR
from ..analysis.describe import describe_root
from ..analysis.dominators import UNREACHED, dominators, retained_per_type
from ..analysis.fieldpath import slot_selectors
from ..analysis.typing import type_histogram
from ..dumpfile import layout as L
from ..dumpfile.records import decode_at
from ..heap import graph
from ..heap import roots as R
from ..heap.model import Heap
from ..loaded import LoadedDump
from ..render.goroutines import GoroutineView, goroutine_view

CONTENTS_CHUNK = 1 << 16  # objects whose bytes are read and written at a time


@dataclass(frozen=True)
class DumpIdentity:
    """What tells one dump (and its process) from another in a table."""

    dump: str  # "<file name>:<pid>", the ``dump`` column of every table
    file: str
    pid: int | None


def identity(heap: Heap) -> DumpIdentity:
    name = os.path.basename(heap.dump.path)
    pid = main_thread_id(heap)
    tail = str(pid) if pid is not None else f"{heap.params.heap_start:#x}"
    return DumpIdentity(f"{name}:{tail}", name, pid)


def main_thread_id(heap: Heap) -> int | None:
    """The kernel thread id of ``m0`` (the process's main thread: its pid on Linux)."""
    recs = heap.cols.recs[heap.rows(L.TAG_OS_THREAD)]
    m0 = recs[recs[:, 3] == 0] if len(recs) else recs
    return int(m0[0, 4]) if len(m0) else None


def _same(value: str, n: int) -> pa.DictionaryArray:
    """A column of ``n`` copies of one string, dictionary-encoded (costs nothing stored)."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([value]))


def _labels(index: np.ndarray, labels: list[str]) -> pa.DictionaryArray:
    """Strings by index into ``labels`` (-1: null), dictionary-encoded."""
    index = np.asarray(index, dtype=np.int32)
    values = pa.array(labels, type=pa.string())
    if not labels:  # all null (no OID file, no types): no index to read through
        return pa.nulls(len(index), pa.dictionary(pa.int32(), pa.string()))
    nulls = index < 0
    indices = pa.array(index, mask=nulls) if nulls.any() else pa.array(index)
    return pa.DictionaryArray.from_arrays(indices, values)


def _address(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values).view(np.int64)


def objects_table(loaded: LoadedDump, who: DumpIdentity) -> pa.Table:
    """Per object record (file order): its address, size, type, OID name, what it retains,
    its immediate dominator's address, its distance from the roots, and whether it is a
    phantom (span metadata the dumper walks as if it were an object)."""
    heap, names = loaded.heap, loaded.names
    n = heap.n_objects
    tree = dominators(heap)
    type_index, type_labels = names.typed.name_index(heap)
    oid = np.asarray(names.name_index, dtype=np.int32)
    unreached = tree.idom == UNREACHED
    has_idom = tree.idom >= 0
    idom_addr = heap.addr[np.where(has_idom, tree.idom, 0)] if n else heap.addr
    distance = root_distance(heap)
    return pa.table({
        "dump": _same(who.dump, n),
        "address": _address(heap.addr),
        "size": heap.size.astype(np.int64, copy=False),
        "type": _labels(type_index, type_labels),
        "name": _labels(oid, names.oid_names),
        "retained": pa.array(tree.retained, mask=unreached),
        "idom": pa.array(_address(idom_addr), mask=~has_idom),
        "root_distance": pa.array(distance, mask=distance < 0),
        "phantom": pa.array(heap.phantom),
    })  # fmt: skip


def root_distance(heap: Heap) -> np.ndarray:
    """Per object, the fewest pointers from a root to it (0: a root points at it; -1: no
    root reaches it): the levels of the breadth-first search the anchors use
    (graph.from_roots, phantoms never entered)."""
    n = heap.n_objects
    out = np.full(n, -1, dtype=np.int32)
    graph.from_roots(heap.root_target, heap.cols.obj_first, heap.field_target, ~heap.phantom,
                     np.empty(0, np.int32), out, np.empty(n, np.int32))  # fmt: skip
    return out


REFERENCES_CHUNK = 1 << 20  # pointers a chunk holds at most (Parquet's row group: 1Mi rows)


def references_chunks(
    loaded: LoadedDump, who: DumpIdentity, chunk: int = REFERENCES_CHUNK
) -> Iterator[pa.Table]:
    """Every pointer field that points into an object: the owner's and the owned object's
    record addresses, the field's offset in the owner's record and its Go selector (from
    the owner's type and that offset). Phantom records own nothing (their "pointers" are
    span metadata).

    A run of objects at a time (an object's pointers never split), up to ``chunk``
    pointers, in columns reused from one run to the next: made whole, 12.5M pointers'
    columns are 300 MB of new memory whose first touch took 2/3 of the time. So each
    table must be used up (written) before the next is asked for."""
    heap, names = loaded.heap, loaded.names
    cols = heap.cols
    typed = names.typed.types is not None  # else no field names: no owner and field kept
    addr = _address(heap.addr)
    columns = _ReferenceColumns(0, typed)
    for a, b in _runs(cols.obj_first, chunk):
        columns = columns.at_least(int(cols.obj_first[b] - cols.obj_first[a]))
        m = _references(cols.obj_first, heap.field_target, cols.field_off, heap.phantom, addr,
                        a, b, *columns.arrays())  # fmt: skip
        if not m:
            continue
        if typed:
            field_ids, field_texts = slot_selectors(
                heap, names, columns.owner[:m], columns.field[:m]
            )
        else:
            field_ids, field_texts = np.full(m, -1, np.int32), []
        yield pa.table({
            "dump": _same(who.dump, m),
            "owner": columns.owner_addr[:m],
            "owned": columns.owned_addr[:m],
            "offset": columns.offset[:m],
            "field": _labels(field_ids, field_texts),
        })  # fmt: skip


REFERENCES_SCHEMA = pa.schema([
    ("dump", pa.dictionary(pa.int32(), pa.string())), ("owner", pa.int64()),
    ("owned", pa.int64()), ("offset", pa.int64()),
    ("field", pa.dictionary(pa.int32(), pa.string())),
])  # fmt: skip


def references_table(loaded: LoadedDump, who: DumpIdentity) -> pa.Table:
    """The references as one table: one run, whose columns are then not reused."""
    whole = max(len(loaded.heap.field_target), 1)
    chunks = list(references_chunks(loaded, who, whole))
    return chunks[0] if chunks else REFERENCES_SCHEMA.empty_table()


def _runs(obj_first: np.ndarray, chunk: int) -> Iterator[tuple[int, int]]:
    """Runs of objects ``[a, b)`` with at most ``chunk`` pointer fields (or one object)."""
    n = len(obj_first) - 1
    a = 0
    while a < n:
        b = int(np.searchsorted(obj_first, obj_first[a] + chunk, side="right")) - 1
        b = min(max(b, a + 1), n)
        yield a, b
        a = b


class _ReferenceColumns:
    """The references' columns for one run of objects, reused by the next."""

    def __init__(self, size: int, typed: bool):
        self.size, self.typed = size, typed
        kept = size if typed else 0  # owner and field: for the fields' selectors
        self.owner, self.field = np.empty(kept, np.int32), np.empty(kept, np.int64)
        self.owner_addr, self.owned_addr, self.offset = (np.empty(size, np.int64) for _ in range(3))

    def at_least(self, size: int) -> _ReferenceColumns:
        return self if size <= self.size else _ReferenceColumns(size, self.typed)

    def arrays(self) -> tuple[np.ndarray, ...]:
        return self.owner, self.field, self.owner_addr, self.owned_addr, self.offset


@numba.njit(cache=True, nogil=True)
def _references(obj_first, target, field_off, phantom, addr, first_obj, end_obj, owner, field,
                owner_addr, owned_addr, offset):  # fmt: skip
    """The pointer fields that point into an object, of objects ``first_obj`` to
    ``end_obj`` that are not phantoms, in object order: one pass, each column written once
    (the owned objects' addresses asked for 16 pointers ahead, as graph.resolve does).
    Returns how many."""
    m = 0
    n = addr.shape[0]
    last = target.shape[0] - 1
    for o in range(max(first_obj, 0), min(end_obj, n, obj_first.shape[0] - 1)):
        if phantom[o]:
            continue
        lo, hi = graph.csr_span(obj_first, o, target.shape[0])
        for k in range(lo, hi):
            ahead = target[min(k + 16, last)]  # the owned addresses are random reads: ask early
            if 0 <= ahead < n:
                graph.prefetch(addr, ahead)
            t = target[k]
            if t < 0 or t >= n or m >= owner_addr.shape[0]:
                continue
            if owner.shape[0]:
                owner[m], field[m] = o, k
            offset[m] = field_off[k]
            owner_addr[m], owned_addr[m] = addr[o], addr[t]
            m += 1
    return m


def roots_table(loaded: LoadedDump, who: DumpIdentity) -> pa.Table:
    """Every root slot: its kind and name as ``--anchors --json`` says them, the label,
    the record address of the object it points into, the slot's address (0: none), and
    for stack roots the goroutine and frame."""
    heap, names = loaded.heap, loaded.names
    roots = heap.roots
    described: dict[tuple[int, int], object] = {}
    columns: dict[str, list] = {k: [] for k in ("kind", "name", "label", "goroutine", "frame")}
    for r in range(len(roots)):
        kind = int(roots.kind[r])
        key = (kind, int(roots.rec[r]))
        info = described.get(key) if kind not in (R.DATA, R.BSS) else None
        if info is None:
            info = described[key] = describe_root(heap, names, r)
        for k in columns:
            columns[k].append(getattr(info, k))
    n = len(roots)
    return pa.table({
        "dump": _same(who.dump, n),
        "kind": pa.array(columns["kind"], pa.string()).dictionary_encode(),
        "name": pa.array(columns["name"], pa.string()),
        "label": pa.array(columns["label"], pa.string()),
        "target": _address(heap.addr[roots.target]),
        "slot": _address(roots.slot),
        "goroutine": pa.array(columns["goroutine"], pa.int64()),
        "frame": pa.array(columns["frame"], pa.int64()),
    })  # fmt: skip


GOROUTINE_COLUMNS = (
    ("id", pa.int64()), ("status", pa.string()), ("wait_reason", pa.string()),
    ("wait_minutes", pa.int64()), ("leaked", pa.bool_()), ("retained", pa.int64()),
    ("retained_objects", pa.int64()), ("function", pa.string()), ("created_by", pa.string()),
    ("created_file", pa.string()), ("created_line", pa.int64()), ("address", pa.int64()),
)  # fmt: skip


def goroutines_table(loaded: LoadedDump, who: DumpIdentity) -> pa.Table:
    """Every goroutine as ``--goroutines --json`` sees it: id, status, wait reason and
    minutes, the leak verdict (null: unknown), what only its stack retains, the function
    it runs now (innermost frame), and where it was created."""
    names = loaded.names
    program = names.symbols.path if names.symbols else None
    view = goroutine_view(loaded.heap, names, program)
    rows = [_goroutine_row(view, i) for i in range(len(view.gor))]
    table: dict[str, pa.Array] = {"dump": _same(who.dump, len(rows))}
    for j, (key, kind) in enumerate(GOROUTINE_COLUMNS):
        table[key] = pa.array([row[j] for row in rows], kind)
    return pa.table(table)


def _goroutine_row(view: GoroutineView, i: int) -> tuple:
    gor = view.gor
    frames = gor.frames(i)
    created = view.created_by(i)
    verdict = int(gor.verdict[i])
    address = int(np.array([gor.address[i]], np.uint64).view(np.int64)[0])
    return (int(gor.ids[i]), gor.status_name(i), gor.wait_reason[i], gor.wait_minutes(i),
            None if verdict == GR.UNKNOWN else verdict == GR.LEAKED,
            int(gor.retained_bytes[i]), int(gor.retained_objects[i]),
            view.frame_name(int(frames[0])) if len(frames) else None,
            created["function"], created["file"], created["line"], address)  # fmt: skip


def types_table(loaded: LoadedDump, who: DumpIdentity) -> pa.Table:
    """The ``--histogram`` rows: live objects, bytes and retained bytes per Go type."""
    heap, typed = loaded.heap, loaded.names.typed
    rows = type_histogram(heap, typed, retained_per_type(heap, typed))["types"]
    assert isinstance(rows, list)
    return pa.table({
        "dump": _same(who.dump, len(rows)),
        "type": pa.array([r["type"] for r in rows], pa.string()),
        "count": pa.array([r["count"] for r in rows], pa.int64()),
        "bytes": pa.array([r["bytes"] for r in rows], pa.int64()),
        "retained": pa.array([r["retained"] for r in rows], pa.int64()),
    })  # fmt: skip


def dumps_table(loaded: LoadedDump, who: DumpIdentity, with_bytes: bool) -> pa.Table:
    """One row: the dump, its process and its moment. ``total_alloc`` (bytes allocated
    since the process started) and ``num_gc`` only grow within a process: they order its
    dumps; ``last_gc`` is the wall time of the last collection before the dump."""
    heap = loaded.heap
    stats = memstats(heap)
    live = ~heap.phantom
    p = heap.params
    last_gc = stats["LastGC"] // 1000 if stats.get("LastGC") else None  # ns -> us
    return pa.table({
        "dump": _same(who.dump, 1),
        "file": [who.file],
        "pid": pa.array([who.pid], pa.int64()),
        "go_version": [p.go_version],
        "arch": [p.arch],
        "pointer_size": [p.ptr_size],
        "heap_start": pa.array([p.heap_start], pa.int64()),
        "objects": [int(live.sum())],
        "bytes": [int(heap.size[live].sum())],
        "total_alloc": pa.array([stats.get("TotalAlloc")], pa.int64()),
        "num_gc": pa.array([stats.get("NumGC")], pa.int64()),
        "last_gc": pa.array([last_gc], pa.timestamp("us", tz="UTC")),
        "contents": [with_bytes],
    })  # fmt: skip


def memstats(heap: Heap) -> dict[str, int]:
    """The dump's MemStats record by name ({} when it has none)."""
    rows = heap.rows(L.TAG_MEMSTATS)
    if not len(rows):
        return {}
    rec, _ = decode_at(heap.dump, int(heap.cols.recs[rows[0], 1]), heap.params.ptr_size)
    out = {k: int(v) for k, v in rec.values.items() if isinstance(v, int)}
    if rec.numbers:
        out["NumGC"] = int(rec.numbers[-1])
    return out


CONTENTS_SCHEMA = pa.schema([
    ("dump", pa.dictionary(pa.int32(), pa.string())), ("address", pa.int64()),
    ("bytes", pa.large_binary()),
])  # fmt: skip


def contents_batches(
    loaded: LoadedDump, who: DumpIdentity, chunk: int = CONTENTS_CHUNK
) -> Iterator[pa.RecordBatch]:
    """Each object's bytes as the dump holds them (record order), a chunk of objects at a
    time: the objects of a chunk lie back to back in the file, so one read serves it."""
    heap = loaded.heap
    data, size = heap.cols.obj_data, heap.size
    for a in range(0, heap.n_objects, chunk):
        b = min(a + chunk, heap.n_objects)
        start = int(data[a:b].min())
        end = int((data[a:b] + size[a:b]).max())
        raw = np.frombuffer(heap.dump.bytes_at(start, end - start), dtype=np.uint8)
        offsets = np.zeros(b - a + 1, dtype=np.int64)
        np.cumsum(size[a:b], out=offsets[1:])
        starts = data[a:b] - start
        gather = np.repeat(starts - offsets[:-1], size[a:b]) + np.arange(offsets[-1])
        values = pa.py_buffer(raw[gather].tobytes())
        blob = pa.LargeBinaryArray.from_buffers(
            pa.large_binary(), b - a, [None, pa.py_buffer(offsets), values]
        )
        yield pa.record_batch({"dump": _same(who.dump, b - a),
                               "address": _address(heap.addr[a:b]), "bytes": blob})  # fmt: skip


TABLES: dict[str, Callable[[LoadedDump, DumpIdentity], pa.Table]] = {
    "objects": objects_table,
    "references": references_table,  # the export writes references_chunks instead
    "roots": roots_table,
    "goroutines": goroutines_table,
    "types": types_table,
}
