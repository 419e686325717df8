"""The Go type of every object: from malloc headers, typed roots (globals, finalizers) and
what typed objects point at (see :mod:`.typing_kernels`). Objects left unknown are named by
their size and pointer count, with the reason."""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass, field

import numpy as np

from ..dumpfile import layout as L
from ..dumpfile.columns import DumpFile
from ..heap import roots as R
from ..heap.model import TINY_BLOCK, Heap
from ..program import gotypes as G
from ..program.gotypes import GoTypes
from . import typing_kernels as K

WHY_TEXT = {
    K.WHY_UNREACHED: "no typed pointer reaches it",
    K.WHY_MISFIT: "a typed pointer names a type that does not fit it",
    K.WHY_FIELD: "only pointed at inside a field of an untyped object",
}
NO_PROGRAM = "untyped: --program BINARY (the one that wrote the dump, with DWARF) gives types"


@dataclass
class ObjectTypes:
    """Per object: type index into ``types`` (-1 unknown), array length (-1: not an array)
    and why (``typing_kernels.WHY_*``)."""

    types: GoTypes | None
    type: np.ndarray  # int32
    count: np.ndarray  # int32
    why: np.ndarray  # int8

    ARRAYS = ("type", "count", "why")
    # name_index's answer once worked out (or read back with saved types)
    names_at_hand: tuple[np.ndarray, list[str]] | None = field(default=None, repr=False)

    def name(self, heap: Heap, obj: int) -> str:
        t = -1 if self.types is None else int(self.type[obj])
        if t < 0:
            return unknown_name(int(heap.size[obj]), heap.n_pointers(obj))
        return self.name_of(t, int(self.count[obj]))

    def name_index(self, heap: Heap) -> tuple[np.ndarray, list[str]]:
        """Per object, an index into a list of the distinct type names (unknown objects
        named by size and pointer count, as :meth:`name` does); computed once."""
        if self.names_at_hand is None:
            label = np.empty(len(self.type), dtype=np.int32)
            keys = K.name_keys(self.type, self.count, heap.size, heap.cols.obj_first, label)
            order = np.argsort(keys)  # the names in the order of their keys, as before
            rank = np.empty(len(keys), dtype=np.int32)
            rank[order] = np.arange(len(keys), dtype=np.int32)
            labels = []
            for key in keys[order].tolist():
                ka, kb = key >> 32, (key & 0xFFFFFFFF) - 1
                labels.append(self.name_of(ka, kb) if ka >= 0 else unknown_name(-1 - ka, kb))
            self.names_at_hand = (rank[label], labels)
        return self.names_at_hand

    def name_of(self, t: int, count: int) -> str:
        assert self.types is not None
        return array_name(self.types.names[t], count)

    def reason(self, obj: int) -> str | None:
        """Why an object has no type (None when it has one)."""
        if self.types is None:
            return NO_PROGRAM
        if self.type[obj] >= 0:
            return None
        return WHY_TEXT.get(int(self.why[obj]), WHY_TEXT[K.WHY_UNREACHED])


def array_name(name: str, count: int) -> str:
    return f"[{count}]{name}" if count >= 0 else name


def unknown_name(size: int, pointers: int) -> str:
    return f"unknown ({size} bytes, {pointers} pointers)"


def untyped(heap: Heap, types: GoTypes | None = None) -> ObjectTypes:
    """Every object unknown."""
    return UnknownTypes(types, heap.n_objects)


class UnknownTypes(ObjectTypes):
    """Every object unknown, its arrays made when first used: a look-up of one object in
    an untyped dump needs none (two arrays of -1 per object cost 80 ms of fresh pages on
    a 5M-object heap)."""

    def __init__(self, types: GoTypes | None, n: int):  # (no arrays: see __getattr__)
        self.types, self.names_at_hand, self._n = types, None, n

    def __getattr__(self, name: str) -> np.ndarray:
        if name not in ObjectTypes.ARRAYS:
            raise AttributeError(name)
        made = np.zeros(self._n, np.int8) if name == "why" else np.full(self._n, -1, np.int32)
        setattr(self, name, made)
        return made


def type_objects(heap: Heap, types: GoTypes) -> ObjectTypes:
    """Type every object of ``heap`` with the program's ``types``."""
    n = heap.n_objects
    if not n or not _columns_fit(heap):
        return untyped(heap, types)
    cols = heap.cols
    ptr = heap.params.ptr_size
    tables = types.tables()
    lookups = (types.rtype_off, types.rtype_type, np.uint64(types.types_base), *_itabs(heap),
               cols.obj_data, heap.addr, types.closure_pc, types.closure_type)  # fmt: skip
    specials = np.array([_type_named(types, name) for name in ("uint8", "runtime.hchan")],
                        dtype=np.int32)  # fmt: skip
    seed_type, seed_rel, seed_pos, seed_val, seed_target = _seeds(heap, types)
    state = K.new_state(n)
    memory, objs = K.object_table(heap.addr, heap.size, heap.has_header, cols.obj_first,
                                  TINY_BLOCK)  # fmt: skip
    with DumpPages(heap.dump) as pages:
        mem = pages.kernel_view()
        K.type_from_headers(heap.has_header, cols.obj_data, mem, ptr, objs, lookups, tables,
                            state)  # fmt: skip
        K.spread(seed_type, seed_rel, seed_pos, seed_val, seed_target, mem, ptr, objs,
                 cols.obj_data, cols.obj_first, cols.field_off, cols.field_val,
                 heap.field_target, tables, lookups, specials, state)  # fmt: skip
    why = state[K.S_WHY]
    out = ObjectTypes(types, np.empty(n, np.int32), np.empty(n, np.int32), why)
    settle_releasing(memory, objs, why, out.type, out.count)
    return out


SETTLE_ROWS = 1 << 20  # rows read out between two releases (32 MB, whole huge pages)


def settle_releasing(memory: mmap.mmap, objs: np.ndarray, why: np.ndarray,
                     obj_type: np.ndarray, obj_count: np.ndarray) -> None:  # fmt: skip
    """K.settle a piece of the table at a time, each piece's pages handed back to the
    system once read: the answer's columns grow as the table shrinks, so typing's peak
    memory is the table's alone (it coincides with the dominator tree's when the two are
    worked out side by side)."""
    row_bytes = objs.shape[1] * objs.itemsize
    for lo in range(0, len(objs), SETTLE_ROWS):
        hi = min(lo + SETTLE_ROWS, len(objs))
        K.settle(objs[lo:hi], why[lo:hi], obj_type[lo:hi], obj_count[lo:hi])
        if hasattr(mmap, "MADV_DONTNEED") and hi < len(objs):
            memory.madvise(mmap.MADV_DONTNEED, lo * row_bytes, (hi - lo) * row_bytes)


def _columns_fit(heap: Heap) -> bool:
    """The columns the kernels index by object and by field have their lengths (a saved
    index is checked when read; this keeps the kernels in bounds should a check miss)."""
    cols, n = heap.cols, heap.n_objects
    per_object = (heap.size, heap.has_header, cols.obj_data)
    per_field = (cols.field_val, heap.field_target)
    return (all(len(a) == n for a in per_object) and len(cols.obj_first) == n + 1
            and all(len(a) == len(cols.field_off) for a in per_field))  # fmt: skip


class DumpPages:
    """The dump's bytes for the kernels (``kernel_view``, see ``typing_kernels.read_word``),
    read a chunk at a time when a kernel first asks for one: into anonymous memory asked
    to be backed by huge pages (a fresh process faults a 4 KiB page at a time otherwise),
    never a map of the file itself (see DumpFile). Untouched chunks cost no memory."""

    def __init__(self, dump: DumpFile):
        size = dump.size
        n_chunks = (size + (1 << K.CHUNK_SHIFT) - 1) >> K.CHUNK_SHIFT
        self._buf = mmap.mmap(-1, max(size, 1))
        if hasattr(mmap, "MADV_HUGEPAGE"):
            self._buf.madvise(mmap.MADV_HUGEPAGE)
        self._fd = os.open(dump.path, os.O_RDONLY)
        self._view = (np.frombuffer(self._buf, dtype=np.uint8)[:size],
                      np.zeros(n_chunks, dtype=np.uint8), self._fd)  # fmt: skip

    def kernel_view(self) -> tuple[np.ndarray, np.ndarray, int]:
        return self._view

    def __enter__(self) -> DumpPages:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)
        del self._view  # (the map closes once no array uses it)


def _type_named(types: GoTypes, name: str) -> int:
    try:
        return types.names.index(name)
    except ValueError:
        return -1


def _itabs(heap: Heap) -> tuple[np.ndarray, np.ndarray]:
    """The dump's itab records: itab address -> its dynamic type's address, sorted."""
    rows = heap.rows(L.TAG_ITAB)
    itab, typ = heap.cols.recs[rows, 2], heap.cols.recs[rows, 3]
    order = np.argsort(itab, kind="stable")
    return np.ascontiguousarray(itab[order]), np.ascontiguousarray(typ[order])


def _seeds(heap: Heap, types: GoTypes) -> tuple[np.ndarray, ...]:
    """Typed root slots: (container type, offset inside it, file offset of the slot, value,
    target object). Globals get their DWARF type, stack slots their variable's (at the
    frame's pc), a finalizer's object its pointer type."""
    cols = heap.cols
    recs = cols.recs
    rows = cols.root_rec
    segment = np.isin(recs[rows, 0], (L.TAG_DATA, L.TAG_BSS))
    rows, off, val = rows[segment], cols.root_off[segment], cols.root_val[segment]
    slot = recs[rows, R.COL_ADDR] + off
    g = np.searchsorted(types.global_addr, slot, side="right").astype(np.int64) - 1
    ok = g >= 0
    gtype = np.where(ok, types.global_type[np.maximum(g, 0)], -1)
    rel = (slot - types.global_addr[np.maximum(g, 0)]).astype(np.int64)
    ok &= rel < np.where(gtype >= 0, types.size[np.maximum(gtype, 0)], 0)
    gtype, rel = _static_values(heap, types, slot, val, ok, gtype, rel)
    ok = gtype >= 0
    seed_type = [gtype[ok].astype(np.int32)]
    seed_rel = [rel[ok]]
    seed_pos = [(recs[rows, R.COL_CONTENTS] + off)[ok].astype(np.int64)]
    seed_val = [val[ok]]
    for part, values in zip((seed_type, seed_rel, seed_pos, seed_val), _frame_seeds(heap, types),
                            strict=True):  # fmt: skip
        part.append(values)
    # a registered or queued finalizer names its object's pointer type
    for tag in (L.TAG_FINALIZER, L.TAG_QUEUED_FINALIZER):
        frows = heap.rows(tag)
        ptypes = np.array([types.by_runtime_type(int(a)) for a in recs[frows, 6]], dtype=np.int32)
        keep = ptypes >= 0
        seed_type.append(ptypes[keep])
        seed_rel.append(np.zeros(int(keep.sum()), np.int64))
        seed_pos.append(np.full(int(keep.sum()), -1, np.int64))
        seed_val.append(recs[frows, 2][keep])
    vals = np.concatenate(seed_val).astype(np.uint64)
    return (np.concatenate(seed_type), np.concatenate(seed_rel), np.concatenate(seed_pos), vals,
            heap.resolve(vals))  # fmt: skip


def _static_values(
    heap: Heap,
    types: GoTypes,
    slot: np.ndarray,
    val: np.ndarray,
    named: np.ndarray,
    gtype: np.ndarray,
    rel: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``var x = &T{...}``: the linker puts that T in the data segment under no name of
    its own. Segment slots no global covers get T's type where a pointer global points at
    them. Returns the slots' (type, offset inside it), -1 where still unknown."""
    gtype = np.where(named, gtype, -1)
    starts = [(int(v), int(types.elem[t])) for v, t, r in zip(val[named].tolist(),
              gtype[named].tolist(), rel[named].tolist(), strict=True)
              if r == 0 and types.kind[t] == G.PTR and types.elem[t] >= 0]  # fmt: skip
    spans = R.segments_of(heap.cols.recs).values()
    for base, elem in starts:
        if not any(lo <= base < hi for lo, hi in spans) or heap.find(base) >= 0:
            continue
        inside = ~named & (slot >= base) & (slot < base + int(types.size[elem]))
        gtype = np.where(inside, elem, gtype)
        rel = np.where(inside, (slot - np.uint64(base)).astype(np.int64), rel)
    return gtype, rel


def frame_slot_variable(heap: Heap, types: GoTypes, row: int, slot: int) -> tuple[int, int]:
    """(variable, offset in it) holding stack address ``slot`` of the frame record ``row``:
    the frame's CFA is its sp plus its length; a caller's pc is a return address, so the
    call itself (pc - 1) is looked up too."""
    sp, length, pc = (int(heap.cols.recs[row, c]) for c in (R.COL_ADDR, R.COL_FRAME_LENGTH,
                                                             R.COL_FRAME_PC))  # fmt: skip
    for at in (pc, pc - 1):
        found = types.frame_variable(at, sp + length, slot)
        if found[0] >= 0:
            return found
    return -1, 0


def frame_slot_position(heap: Heap, row: int, slot: int) -> int:
    """File offset of stack address ``slot`` in the bytes of frame record ``row``."""
    recs = heap.cols.recs
    return int(recs[row, R.COL_FRAME_CONTENTS]) + slot - int(recs[row, R.COL_ADDR])


def _frame_seeds(heap: Heap, types: GoTypes) -> tuple[np.ndarray, ...]:
    cols, recs = heap.cols, heap.cols.recs
    at = np.flatnonzero(recs[cols.root_rec, 0] == L.TAG_STACK_FRAME)
    out: tuple[list, list, list, list] = ([], [], [], [])
    for i in at.tolist():
        row, off = int(cols.root_rec[i]), int(cols.root_off[i])
        slot = int(recs[row, R.COL_ADDR]) + off
        v, rel = frame_slot_variable(heap, types, row, slot)
        if v >= 0:
            position = frame_slot_position(heap, row, slot)
            for part, value in zip(out, (types.var_type[v], rel, position, cols.root_val[i]),
                                   strict=True):  # fmt: skip
                part.append(value)
    kinds = (np.int32, np.int64, np.int64, np.uint64)
    return tuple(np.array(p, dtype=k) for p, k in zip(out, kinds, strict=True))


def type_histogram(
    heap: Heap, typed: ObjectTypes, retained: np.ndarray | None = None
) -> dict[str, object]:
    """The ``--histogram`` answer over the heap's objects (phantom records never count):
    ``{"types": [...], "typed_bytes", "total_bytes", "typed_objects", "total_objects",
    "note"}``. ``retained``: bytes retained per entry of ``typed.name_index`` (rows get
    ``retained``)."""
    live = ~heap.phantom
    index, labels = typed.name_index(heap)
    counts, nbytes, typed_objects, typed_bytes = K.label_totals(
        index, heap.size, live, typed.type, len(labels)
    )
    return {
        "types": _rows(labels, counts, nbytes, retained),
        "typed_bytes": int(typed_bytes),
        "total_bytes": int(nbytes.sum()),
        "typed_objects": int(typed_objects),
        "total_objects": int(counts.sum()),
        "note": NO_PROGRAM if typed.types is None else None,
    }


def histogram(
    heap: Heap, typed: ObjectTypes, live: np.ndarray, retained: np.ndarray | None = None
) -> list[dict[str, object]]:
    """Rows ``{type, count, bytes}`` (and ``retained`` when given, per name index entry)
    over the objects in ``live``, largest bytes first; unknown objects are grouped by size
    and pointer count."""
    index, labels = typed.name_index(heap)
    counts, nbytes, _, _ = K.label_totals(index, heap.size, live, typed.type, len(labels))
    return _rows(labels, counts, nbytes, retained)


def _rows(
    labels: list[str], counts: np.ndarray, nbytes: np.ndarray, retained: np.ndarray | None
) -> list[dict[str, object]]:
    used = np.flatnonzero(counts)
    rows: list[dict[str, object]] = [
        {"type": labels[i], "count": int(counts[i]), "bytes": int(nbytes[i])} for i in used
    ]
    if retained is not None:
        for row, i in zip(rows, used.tolist(), strict=True):
            row["retained"] = int(retained[i])
    rows.sort(key=lambda r: (-int(str(r["bytes"])), str(r["type"])))
    return rows
