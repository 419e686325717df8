"""What keeps objects alive: every root slot of the dump, as flat columns.

A root is a pointer the garbage collector starts from: a slot of a goroutine's stack frame,
a word of the data or bss segment, the closure of a registered finalizer and everything the
finalizer's object points to (not the object itself), a queued finalizer's object and
closure, a heap-allocated defer record and its closure, a panic's argument, a goroutine's
context register, or an "other root" record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dumpfile import layout as L

DATA, BSS, FRAME, FINALIZER, FINALIZER_CLOSURE, QUEUED_FINALIZER = 0, 1, 2, 3, 4, 5
DEFER, PANIC, GOROUTINE_CONTEXT, OTHER = 6, 7, 8, 9

# The JSON kind of each root kind (the CLI's --json schema).
KIND_NAMES = {
    DATA: "global",
    BSS: "global",
    FRAME: "goroutine",
    FINALIZER: "finalizer",
    FINALIZER_CLOSURE: "finalizer",
    QUEUED_FINALIZER: "queued-finalizer",
    DEFER: "defer",
    PANIC: "panic",
    GOROUTINE_CONTEXT: "goroutine",
    OTHER: "other",
}

# Columns of a record row (see dumpfile.walk): values start at column 2.
COL_ADDR = 2  # frames: sp; segments: address; finalizers: object
COL_CONTENTS = 3  # segments: file offset of their bytes
COL_FRAME_CONTENTS, COL_FRAME_LENGTH, COL_FRAME_PC = 5, 6, 8  # frames: bytes' offset, length; pc
SEGMENT_KIND = {L.TAG_DATA: DATA, L.TAG_BSS: BSS, L.TAG_STACK_FRAME: FRAME}


@dataclass
class Roots:
    kind: np.ndarray  # int8, one of the constants above
    rec: np.ndarray  # int64, row of the record that holds the root (frame, finalizer, ...)
    slot: np.ndarray  # uint64, address of the pointer slot (0 when it has none)
    target: np.ndarray  # int32, object the root points into

    def __len__(self) -> int:
        return len(self.kind)


def collect_roots(cols, resolve, field_target) -> Roots:
    """Gather every root from the dump's columns; ``resolve(values)`` maps addresses to
    object indexes (-1 outside the heap)."""
    recs = cols.recs
    tags = recs[:, 0]
    parts: list[tuple[int | np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    # pointer slots of frames and segments
    rows = cols.root_rec
    slot_kind = np.select(
        [tags[rows] == t for t in SEGMENT_KIND], list(SEGMENT_KIND.values()), default=OTHER
    ).astype(np.int8)
    parts.append((slot_kind, rows, recs[rows, COL_ADDR] + cols.root_off, resolve(cols.root_val)))

    def add(kind: int, tag: int, col: int, slot_col: int | None = None) -> None:
        r = np.flatnonzero(tags == tag)
        slots = recs[r, slot_col] if slot_col is not None else np.zeros(len(r), np.uint64)
        parts.append((kind, r, slots, resolve(recs[r, col])))

    add(FINALIZER_CLOSURE, L.TAG_FINALIZER, 3)
    add(QUEUED_FINALIZER, L.TAG_QUEUED_FINALIZER, 2, 2)
    add(QUEUED_FINALIZER, L.TAG_QUEUED_FINALIZER, 3)
    add(DEFER, L.TAG_DEFER, 2, 2)
    add(DEFER, L.TAG_DEFER, 6)
    add(PANIC, L.TAG_PANIC, 5)
    add(GOROUTINE_CONTEXT, L.TAG_GOROUTINE, 12)
    add(OTHER, L.TAG_OTHER_ROOT, 4)
    parts.append(_finalized_children(cols, resolve, field_target))

    kind = np.concatenate([np.broadcast_to(np.int8(k), len(r)) for k, r, _, _ in parts])
    rec = np.concatenate([r for _, r, _, _ in parts]).astype(np.int64)
    slot = np.concatenate([s for _, _, s, _ in parts]).astype(np.uint64)
    target = np.concatenate([t for _, _, _, t in parts]).astype(np.int32)
    keep = target >= 0
    return Roots(kind[keep].astype(np.int8), rec[keep], slot[keep], target[keep])


def _finalized_children(cols, resolve, field_target):
    """Everything a finalizer's object points to is a root (the object itself is not)."""
    rows = np.flatnonzero(cols.recs[:, 0] == L.TAG_FINALIZER)
    objs = resolve(cols.recs[rows, COL_ADDR])
    rec, slot, target = [], [], []
    for row, obj in zip(rows, objs, strict=True):
        if obj < 0:
            continue
        ks = np.arange(cols.obj_first[obj], cols.obj_first[obj + 1])
        rec.append(np.full(len(ks), row))
        slot.append(cols.obj_addr[obj] + cols.field_off[ks].astype(np.uint64))
        target.append(field_target[ks])
    if not rec:
        return FINALIZER, np.zeros(0, np.int64), np.zeros(0, np.uint64), np.zeros(0, np.int32)
    return FINALIZER, np.concatenate(rec), np.concatenate(slot), np.concatenate(target)


def segments_of(recs: np.ndarray) -> dict[str, tuple[int, int]]:
    """The data and bss segments of a dump's record rows (:class:`DumpColumns` ``recs``):
    name -> (start, end)."""
    out = {}
    for tag, name in ((L.TAG_DATA, "data"), (L.TAG_BSS, "bss")):
        for row in np.flatnonzero(recs[:, 0] == tag):
            start, length = int(recs[row, COL_ADDR]), int(recs[row, 4])
            out[name] = (start, start + length)
    return out
