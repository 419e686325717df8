"""The heap model: objects, the pointer graph in both directions, roots and liveness."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from ..dumpfile import layout as L
from ..dumpfile import records
from ..dumpfile.columns import DumpColumns, DumpFile
from . import graph, spans
from .roots import Roots, collect_roots

if TYPE_CHECKING:
    from .index import SavedArrays

# Go >= 1.22 puts a type word before pointer-holding objects in this size range.
MALLOC_HEADER_MAX = 32768
MALLOC_HEADER_BYTES = 8  # the type word, padded to 8 bytes on 32-bit platforms too
TINY_BLOCK = 16  # pointer-free objects under 16 bytes share records of this size
PAGE_SIZE = 8192
INLINE_MARK_BITS = 128  # Go >= 1.25 also keeps mark bits at the end of small-object spans
PARALLEL_MIN = 1 << 20  # pointers worth splitting across threads
FEW_POINTERS = 4096  # an object with at most these has them read from its record


def equal_range(sorted_values: np.ndarray, value: int) -> tuple[int, int]:
    """Where ``value`` sits in a sorted array: ``sorted_values[lo:hi] == value``.

    The probe takes the array's dtype; a Python int would make numpy convert the whole
    array on every call.
    """
    probe = np.array([value, value + 1], dtype=sorted_values.dtype)
    lo, hi = np.searchsorted(sorted_values, probe)
    return int(lo), int(hi)


@dataclass(frozen=True)
class Params:
    big_endian: bool
    ptr_size: int
    heap_start: int
    heap_end: int
    arch: str
    go_version: str
    ncpu: int

    @property
    def go_minor(self) -> int:
        """Minor version of Go (``go1.27.3`` → 27); 0 when unknown (devel builds)."""
        m = re.match(r"go1\.(\d+)", self.go_version)
        return int(m.group(1)) if m else 0

    @property
    def has_malloc_headers(self) -> bool:
        return self.go_minor >= 22 or self.go_minor == 0

    @property
    def small_object_max(self) -> int:
        """Largest object whose pointer bits live in its span (one bit per word of a word
        of bits: 512 bytes on 64-bit, 128 on 32-bit); larger ones get a malloc header."""
        return self.ptr_size * self.ptr_size * 8

    @property
    def span_tail(self) -> int:
        """Bytes of metadata at the end of a one-page small-object span: heap bits, then
        (allowed for on every version) inline mark bits."""
        return PAGE_SIZE // self.ptr_size // 8 + INLINE_MARK_BITS


def read_params(dump: DumpFile, cols: DumpColumns) -> Params:
    row = cols.recs[np.flatnonzero(cols.recs[:, 0] == L.TAG_PARAMS)[0]]
    v = [int(x) for x in row]
    return Params(
        bool(v[2]), v[3], v[4], v[5], dump.text_at(v[6], v[7]), dump.text_at(v[8], v[9]), v[10]
    )


class Heap:
    """A dump's objects and roots, as columns. Object ``i`` is the ``i``-th object record
    in file order; ``find(address)`` gives the record containing an address."""

    # Arrays derived from the columns; a saved index stores them (see heap.index).
    DERIVED = (
        "order", "sorted_addr", "sorted_end", "field_target", "in_first", "in_src",
        "has_header", "phantom", "roots_by_target", "root_targets_sorted",
        "root_kind", "root_rec", "root_slot", "root_target", "page_table", "page_shift",
    )  # fmt: skip

    # (set by _derive, or read from a saved index on first use: see __getattr__)
    order: np.ndarray
    sorted_addr: np.ndarray
    sorted_end: np.ndarray
    field_target: np.ndarray
    in_first: np.ndarray
    in_src: np.ndarray
    has_header: np.ndarray
    phantom: np.ndarray
    roots_by_target: np.ndarray
    root_targets_sorted: np.ndarray
    root_kind: np.ndarray
    root_rec: np.ndarray
    root_slot: np.ndarray
    root_target: np.ndarray
    page_table: np.ndarray
    page_shift: np.ndarray

    def __init__(self, dump: DumpFile, cols: DumpColumns, saved: SavedArrays | None = None):
        """``saved``: the derived arrays of a saved index (see heap.index), each read when
        first used; without, they are derived from ``cols`` now."""
        self.dump = dump
        self.cols = cols
        self.params = read_params(dump, cols)
        self._saved = saved
        if saved is None:
            self._n_objects = len(cols.obj_addr)
            self._derive()
        else:
            self._n_objects = saved.counts["n"]
        self.roots = Roots(self.root_kind, self.root_rec, self.root_slot, self.root_target)
        self._nearest: np.ndarray | None = None
        self.index_place: Path | None = None  # the saved index's folder, once there is one

    if not TYPE_CHECKING:  # (to the type checker, a Heap has only the attributes above)

        def __getattr__(self, name: str) -> np.ndarray:
            saved = self.__dict__.get("_saved")
            if saved is None or name not in self.DERIVED:
                raise AttributeError(name)
            return saved.kept_as(self, name, name)

    @property
    def addr(self) -> np.ndarray:
        return self.cols.obj_addr

    @property
    def size(self) -> np.ndarray:
        return self.cols.obj_size

    def _derive(self) -> None:
        cols = self.cols
        self.order = np.argsort(self.addr, kind="stable").astype(np.int32)
        self.sorted_addr = self.addr[self.order]
        self.sorted_end = self.size[self.order].view(np.uint64)  # sizes are >= 0
        self.sorted_end += self.sorted_addr
        table, shift = graph.page_table(self.sorted_addr, self.sorted_end, self.n_objects)
        self.page_table, self.page_shift = table, np.array([shift])
        self.field_target = self.resolve(cols.field_val)
        with ThreadPoolExecutor(1) as pool:  # the owners CSR builds beside roots (nogil)
            owners = pool.submit(
                graph.reverse_csr, cols.obj_first, self.field_target, self.n_objects
            )
            roots = collect_roots(cols, self.resolve, self.field_target)
            self.root_kind, self.root_rec = roots.kind, roots.rec
            self.root_slot, self.root_target = roots.slot, roots.target
            self.has_header = self._malloc_headers()
            self.roots_by_target = np.argsort(roots.target, kind="stable")
            self.root_targets_sorted = roots.target[self.roots_by_target]
            self.in_first, self.in_src = owners.result()
        self.phantom = self._phantoms()

    def derived(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.DERIVED}

    # --- objects -------------------------------------------------------------------------
    @property
    def n_objects(self) -> int:
        return self._n_objects

    def resolve(self, values: np.ndarray) -> np.ndarray:
        """Index of the object record containing each address; -1 for none."""
        values = np.ascontiguousarray(values, dtype=np.uint64)
        tables = (self.sorted_addr, self.sorted_end, self.order, self.page_table,
                  int(self.page_shift[0]))  # fmt: skip
        out = np.empty(len(values), dtype=np.int32)
        if len(values) < PARALLEL_MIN:
            return graph.resolve(values, *tables, out)
        # the kernel releases the GIL: one slice per core, each written in place
        bounds = np.linspace(0, len(values), (os.cpu_count() or 1) + 1).astype(np.int64)
        slices = [slice(a, b) for a, b in pairwise(bounds.tolist())]
        with ThreadPoolExecutor(len(slices)) as pool:
            list(pool.map(lambda s: graph.resolve(values[s], *tables, out[s]), slices))
        return out

    def find(self, address: int) -> int:
        """Index of the object record containing ``address``, or -1. (The object's own
        address and size say whether it holds ``address``: a look-up from a saved index
        then reads no ``sorted_end``.)"""
        j = int(np.searchsorted(self.sorted_addr, np.uint64(address), side="right")) - 1
        if j < 0:
            return -1
        obj = int(self.order[j])
        if not 0 <= obj < self.n_objects:  # (a forged index's)
            return -1
        start = int(self.addr[obj])
        return obj if start <= address < start + int(self.size[obj]) else -1

    def fields_of(self, obj: int) -> range:
        return range(int(self.cols.obj_first[obj]), int(self.cols.obj_first[obj + 1]))

    def pointers_of(self, obj: int) -> list[tuple[int, int]]:
        """(offset, value) of each of ``obj``'s pointers, in the record's order. An object
        with few has them read from its record (the field list after its bytes, and the
        words it names): a look-up of one object then reads none of the heap's pointer
        columns, which a saved index checks whole when it hands them out (240 MB on a
        5M-object heap)."""
        fields = self.fields_of(obj)
        if len(fields) > FEW_POINTERS:
            cols, span = self.cols, slice(fields.start, fields.stop)
            return list(zip(cols.field_off[span].tolist(), cols.field_val[span].tolist(),
                            strict=True))  # fmt: skip
        data, size, width = int(self.cols.obj_data[obj]), int(self.size[obj]), self.params.ptr_size
        order: Literal["big", "little"] = "big" if self.params.big_endian else "little"
        offsets = records.pointer_offsets(self.dump, data + size, size, width)
        return [(off, int.from_bytes(self.dump.bytes_at(data + off, width), order))
                for off in offsets]  # fmt: skip

    def owners_bfs(self, obj: int, allowed: np.ndarray | None = None, max_depth: int = -1):
        """Breadth-first over owners: (order, first_child, level_first), see
        :func:`graph.owners_bfs`; phantoms never own."""
        allowed = ~self.phantom if allowed is None else allowed
        return graph.owners_bfs(obj, self.in_first, self.in_src, allowed, max_depth)

    def n_pointers(self, obj: int) -> int:
        return int(self.cols.obj_first[obj + 1] - self.cols.obj_first[obj])

    def contents(self, obj: int) -> bytes:
        return self.dump.bytes_at(int(self.cols.obj_data[obj]), int(self.size[obj]))

    def value_offset(self, obj: int) -> int:
        """Where the program's value starts inside the record: 8 after a malloc header."""
        return MALLOC_HEADER_BYTES if self.has_header[obj] else 0

    def _malloc_headers(self) -> np.ndarray:
        """Objects dumped from their slot start with a type word first (Go >= 1.22)."""
        out = np.zeros(self.n_objects, dtype=np.bool_)
        if not self.params.has_malloc_headers or not len(self.cols.field_off):
            return out
        return spans.with_malloc_header(
            self.cols.obj_first, self.cols.field_off, self.size, self.params.small_object_max,
            MALLOC_HEADER_MAX, MALLOC_HEADER_BYTES, out,
        )  # fmt: skip

    def _phantoms(self) -> np.ndarray:
        """Span-tail slots the dumper walks although they hold span metadata (Go >= 1.22).

        They sit in the last bytes of a small-object span (heap bits; from 1.25 also inline
        mark bits), and no root and no real object points at them. (An unreferenced object
        elsewhere is real garbage, not a phantom.)
        """
        if not self.params.has_malloc_headers:
            return np.zeros(self.n_objects, dtype=np.bool_)
        in_tail = spans.in_span_tail(
            self.addr, self.size, self.params.small_object_max, self.params.span_tail,
            PAGE_SIZE, np.empty(self.n_objects, dtype=np.bool_),
        )  # fmt: skip
        candidates = np.flatnonzero(in_tail)  # few: the owners CSR answers for each
        referenced = np.zeros(self.n_objects, dtype=np.bool_)
        referenced[candidates] = graph.owned_by(candidates, self.in_first, self.in_src, ~in_tail)
        referenced[self.root_target] = True
        return in_tail & ~referenced

    def nearest_roots(self) -> np.ndarray:
        """Per object, the object it is reached from on a shortest chain from the roots
        (:func:`graph.roots_bfs`): one BFS out of all roots, computed once."""
        if self._nearest is None:
            self._nearest = graph.roots_bfs(
                self.root_target, self.cols.obj_first, self.field_target, ~self.phantom
            )
        return self._nearest

    def reachable(self) -> np.ndarray:
        """Objects reachable from the roots (bool per object); computed on demand."""
        return graph.reach_forward(
            self.root_target, self.cols.obj_first, self.field_target, np.int32(-1)
        )

    def roots_of(self, obj: int) -> np.ndarray:
        """Indexes of the roots that point into object ``obj``."""
        lo, hi = equal_range(self.root_targets_sorted, obj)
        return self.roots_by_target[lo:hi]

    # --- records ----------------------------------------------------------------------
    def rows(self, tag: int) -> np.ndarray:
        return np.flatnonzero(self.cols.recs[:, 0] == tag)

    def rec(self, row: int) -> list[int]:
        return [int(x) for x in self.cols.recs[row]]

    def text(self, row: int, col: int) -> str:
        r = self.cols.recs[row]
        return self.dump.text_at(int(r[col]), int(r[col + 1]))

    # --- goroutines -------------------------------------------------------------------
    def goroutine_of_frame(self, frame_row: int) -> int:
        """Row of the goroutine a stack frame belongs to (frames follow their goroutine)."""
        g = self.rows(L.TAG_GOROUTINE)
        i = int(np.searchsorted(g, frame_row)) - 1
        return int(g[i]) if i >= 0 else -1

    def goroutine_by_address(self, address: int) -> int:
        g = self.rows(L.TAG_GOROUTINE)
        hit = np.flatnonzero(self.cols.recs[g, 2] == np.uint64(address))
        return int(g[hit[0]]) if len(hit) else -1

    def goroutine_id(self, row: int) -> int:
        return int(self.cols.recs[row, 4]) if row >= 0 else -1

    def frames_of(self, goroutine_row: int) -> np.ndarray:
        """Frame rows of a goroutine, innermost first."""
        frames = self.rows(L.TAG_STACK_FRAME)
        later = frames[frames > goroutine_row]
        nxt = self.rows(L.TAG_GOROUTINE)
        nxt = nxt[nxt > goroutine_row]
        stop = int(nxt[0]) if len(nxt) else len(self.cols.recs)
        return later[later < stop]

    def finalizer_objects(self) -> np.ndarray:
        """Objects with a registered finalizer (bool per object)."""
        mask = np.zeros(self.n_objects, dtype=np.bool_)
        objs = self.resolve(self.cols.recs[self.rows(L.TAG_FINALIZER), 2])
        mask[objs[objs >= 0]] = True
        return mask
