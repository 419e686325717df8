"""Say what a root is: ``global main.gMap (bss)``, ``goroutine 20 main.holder frame 0``,
``finalizer of 0x…``; the same words for anchors, owner trees and graphs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dumpfile import layout as L
from ..heap import roots as R
from ..heap.model import Heap
from ..loaded import segments
from ..names.naming import Names


@dataclass(frozen=True)
class RootInfo:
    kind: str  # the JSON kind: global, goroutine, finalizer, queued-finalizer, defer, panic, other
    name: str  # symbol, function, or description
    label: str  # one line for people
    key: tuple  # roots with the same key are one anchor
    segment: str | None = None
    goroutine: int | None = None
    function: str | None = None
    frame: int | None = None
    finalizer_of: int | None = None  # address of the finalized object

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind, "name": self.name, "label": self.label}
        for k in ("segment", "goroutine", "function", "frame"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        if self.finalizer_of is not None:
            out["finalizer_of"] = f"{self.finalizer_of:#x}"
        return out


def describe_root(heap: Heap, names: Names, r: int) -> RootInfo:
    kind = int(heap.roots.kind[r])
    row = int(heap.roots.rec[r])
    slot = int(heap.roots.slot[r])
    jkind = R.KIND_NAMES[kind]
    if kind in (R.DATA, R.BSS):
        seg = "data" if kind == R.DATA else "bss"
        sym = names.symbol(slot)
        name = sym.split("+")[0] if sym else f"{seg}@{slot:#x}"
        return RootInfo(jkind, name, f"global {sym or name} ({seg})", (kind, name), segment=seg)
    if kind == R.FRAME:
        g = heap.goroutine_of_frame(row)
        gid = heap.goroutine_id(g)
        func = heap.text(row, 10)
        depth = int(heap.cols.recs[row, 3])
        label = f"goroutine {gid} {func} frame {depth}"
        return RootInfo(
            jkind, func, label, (kind, gid, depth), goroutine=gid, function=func, frame=depth
        )
    if kind in (R.FINALIZER, R.FINALIZER_CLOSURE, R.QUEUED_FINALIZER):
        obj = int(heap.cols.recs[row, 2])
        what = {
            R.FINALIZER: "finalizer of",
            R.FINALIZER_CLOSURE: "finalizer closure of",
            R.QUEUED_FINALIZER: "queued finalizer of",
        }[kind]
        label = f"{what} {obj:#x}"
        oname = names.label(heap.find(obj))
        if oname:
            label += f" ({oname})"
        return RootInfo(jkind, label, label, (kind, obj), finalizer_of=obj)
    if kind in (R.DEFER, R.PANIC, R.GOROUTINE_CONTEXT):
        g = (
            heap.goroutine_by_address(int(heap.cols.recs[row, 3]))
            if kind != R.GOROUTINE_CONTEXT
            else row
        )
        gid = heap.goroutine_id(g)
        top = _top_function(heap, g)
        what = {
            R.DEFER: "defer of goroutine",
            R.PANIC: "panic of goroutine",
            R.GOROUTINE_CONTEXT: "context of goroutine",
        }[kind]
        label = f"{what} {gid}" + (f" ({top})" if top else "")
        return RootInfo(jkind, top or label, label, (kind, gid), goroutine=gid, function=top)
    desc = heap.text(row, 2) if heap.cols.recs[row, 0] == L.TAG_OTHER_ROOT else "root"
    return RootInfo(jkind, desc, f"other root {desc}", (kind, row))


def _top_function(heap: Heap, goroutine_row: int) -> str | None:
    """The innermost user-visible function of a goroutine (skipping runtime internals)."""
    if goroutine_row < 0:
        return None
    functions = [heap.text(int(f), 10) for f in heap.frames_of(goroutine_row)]
    for f in functions:
        if not f.startswith("runtime."):
            return f
    return functions[0] if functions else None


# Columns of a StackFrame record row: sp, depth, ..., contents length
FRAME_SP, FRAME_DEPTH, FRAME_LEN, FRAME_NAME = 2, 3, 6, 10


@dataclass(frozen=True)
class Place:
    """Where an address that is in no heap object lies."""

    kind: str  # "data" | "bss" | "stack" | "free" (heap arena, no record) | "outside"
    symbol: str | None = None  # global, for data/bss
    goroutine: int | None = None  # for stack
    function: str | None = None
    frame: int | None = None
    offset: int = 0  # into the stack frame


def place_of(heap: Heap, names: Names, address: int) -> Place:
    """A global in data/bss, a goroutine's stack slot, free heap memory, or outside."""
    for seg, (start, end) in segments(heap).items():
        if start <= address < end:
            return Place(seg, symbol=names.symbol(address))
    frames = heap.rows(L.TAG_STACK_FRAME)
    if len(frames):
        recs = heap.cols.recs
        sp = recs[frames, FRAME_SP]
        at = np.uint64(address)
        hit = np.flatnonzero((sp <= at) & (at < sp + recs[frames, FRAME_LEN]))
        if len(hit):
            row = int(frames[hit[0]])
            return Place(
                "stack",
                goroutine=heap.goroutine_id(heap.goroutine_of_frame(row)),
                function=heap.text(row, FRAME_NAME),
                frame=int(recs[row, FRAME_DEPTH]),
                offset=address - int(recs[row, FRAME_SP]),
            )
    p = heap.params
    return Place("free" if p.heap_start <= address < p.heap_end else "outside")
