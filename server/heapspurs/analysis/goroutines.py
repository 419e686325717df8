"""Goroutines: what each one is doing, where it was started, what only its stack keeps
alive, and which ones leaked.

Leaks follow Go 1.26's goroutineleak semantics (DESIGN §8), offline: a goroutine parked on
a channel, select, Mutex, RWMutex, WaitGroup or Cond is leaked when nothing that can still
run reaches what it waits on. The search starts from every root except the stacks of such
parked goroutines; a parked goroutine whose primitive is reached could be woken, so its
stack becomes a root too, until nothing changes. The runtime's own wait structures never
keep a primitive alive: ``g`` objects (``allgs``), ``sudog`` records and the semaphore
table are passed without being entered.

What a goroutine waits on comes from its ``g`` object (``g.waiting`` -> ``sudog`` ->
``c`` for channels; from Go 1.26 also ``elem`` for sync primitives, the runtime's own
rule). Older runtimes leave ``g.waiting`` nil for a semaphore: the ``sudog`` is found in
the goroutine's frames (its word ``g`` is this goroutine) and its ``elem`` is the
semaphore; a Cond's wait keeps no address there, so the objects its ``sync.(*Cond).Wait``
frame points to are what it waits on. Layouts come from the binary's DWARF; without it
only the goroutines that can never wake (nil channels, empty select) get a verdict.

Retained: the objects reachable from this goroutine's stack (frames, defers, panics) and
what it waits on, and from no other root, through the same graph: what would be freed
with the goroutine.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np

from ..dumpfile import layout as L
from ..heap import roots as R
from ..heap.model import Heap
from ..names.naming import Names
from ..program import gotypes as G
from . import goroutine_kernels as K
from .typing import frame_slot_variable

STATUS_NAMES = {0: "idle", 1: "runnable", 2: "running", 3: "syscall", 4: "waiting",
                6: "dead", 8: "copystack", 9: "preempted", 10: "leaked"}  # fmt: skip
G_WAITING, G_LEAKED, G_SCAN = 4, 10, 0x1000
NEVER_WAKES = {"chan receive (nil chan)": "receives from a nil channel",
               "chan send (nil chan)": "sends on a nil channel",
               "select (no cases)": "selects with no cases"}  # fmt: skip
CHANNEL_WAITS = frozenset({"chan receive", "chan send", "select"})
SYNC_WAITS = {"sync.Mutex.Lock": "sync.Mutex", "sync.RWMutex.RLock": "sync.RWMutex",
              "sync.RWMutex.Lock": "sync.RWMutex", "sync.WaitGroup.Wait": "sync.WaitGroup",
              "sync.Cond.Wait": "sync.Cond"}  # fmt: skip
# before Go 1.25 a WaitGroup parks as "semacquire", as runtime-internal waits do
WAITGROUP_FRAME = "sync.(*WaitGroup).Wait"
COND_FRAME = "sync.(*Cond).Wait"
STACK_ROOTS = (R.FRAME, R.DEFER, R.PANIC, R.GOROUTINE_CONTEXT)
MAX_SELECT_CASES = 1 << 16  # a waitlink chain longer than any select: a damaged dump
UNKNOWN, NOT_LEAKED, LEAKED = -1, 0, 1
SCOPE_SHARE = 8  # the leak search stays near the goroutines while they lead to 1/8 of the heap


@dataclass
class RuntimeLayout:
    """Offsets (bytes) of the runtime fields leak detection reads, from DWARF."""

    g_waiting: int
    sudog_g: int
    sudog_elem: int
    sudog_waitlink: int
    sudog_c: int


@dataclass
class Goroutines:
    """Every goroutine of a dump as columns (dump order), with its verdict."""

    rows: np.ndarray  # int64: goroutine record rows
    ids: np.ndarray  # int64
    address: np.ndarray  # uint64: the g
    gopc: np.ndarray  # uint64
    status: np.ndarray  # int64 (scan bit cleared)
    waitsince: np.ndarray  # int64 (nanotime; 0 unknown)
    wait_reason: list[str]
    frame_first: np.ndarray  # int64 [n+1]: frames of goroutine i are frame_rows[a:b]
    frame_rows: np.ndarray  # int64, innermost first
    candidate: np.ndarray  # bool: parked on something that may never wake it
    verdict: np.ndarray  # int8: LEAKED, NOT_LEAKED, UNKNOWN
    prim_first: np.ndarray  # int64 [n+1]: what goroutine i waits on is prim_addr[a:b]
    prim_addr: np.ndarray  # uint64 (0: nothing known)
    prim_obj: np.ndarray  # int32: object holding it, -1 outside the heap
    retained_bytes: np.ndarray  # int64
    retained_objects: np.ndarray  # int64
    notes: dict[int, str] = field(default_factory=dict)  # goroutine -> why no verdict
    _latest_park: int | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def index_of(self, goid: int) -> int:
        hit = np.flatnonzero(self.ids == goid)
        return int(hit[0]) if len(hit) else -1

    def frames(self, i: int) -> np.ndarray:
        return self.frame_rows[self.frame_first[i] : self.frame_first[i + 1]]

    def primitives(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.prim_first[i], self.prim_first[i + 1]
        return self.prim_addr[a:b], self.prim_obj[a:b]

    def status_name(self, i: int) -> str:
        s = int(self.status[i])
        return STATUS_NAMES.get(s, f"status {s}")

    def wait_minutes(self, i: int) -> int | None:
        """Minutes parked, counted back from the latest park in the dump (a dump has no
        clock; ``waitsince`` is set by the first GC that sees a goroutine parked)."""
        since = int(self.waitsince[i])
        if since <= 0 or int(self.status[i]) not in (G_WAITING, 3, G_LEAKED):
            return None
        if self._latest_park is None:
            self._latest_park = int(self.waitsince.max())
        return int((self._latest_park - since) // 60_000_000_000)

    @property
    def leaked(self) -> np.ndarray:
        return self.verdict == LEAKED


def runtime_layout(names: Names) -> RuntimeLayout | None:
    """The runtime's g and sudog fields, from the program's DWARF; None without it."""
    types = names.typed.types
    if types is None:
        return None
    try:
        g, sudog = types.names.index("runtime.g"), types.names.index("runtime.sudog")
        return RuntimeLayout(
            _field(types, g, "waiting"), _field(types, sudog, "g"),
            _word(types, sudog, "elem"), _field(types, sudog, "waitlink"), _word(types, sudog, "c"),
        )  # fmt: skip
    except (ValueError, KeyError):
        return None


def _field_index(types: G.GoTypes, t: int, name: str) -> int:
    for k in types.fields_of(t):
        if types.field_names[k] == name:
            return k
    raise KeyError(name)


def _field(types: G.GoTypes, t: int, name: str) -> int:
    return int(types.field_off[_field_index(types, t, name)])


def _word(types: G.GoTypes, t: int, name: str) -> int:
    """Offset of the address a field holds: Go 1.26 wraps sudog.elem and sudog.c in
    ``maybeTraceablePtr{vp, vu}`` whose ``vu`` always keeps the address."""
    k = _field_index(types, t, name)
    off, ft = int(types.field_off[k]), int(types.field_type[k])
    for _ in range(4):
        if int(types.kind[ft]) != G.STRUCT:
            return off
        inner = [
            j for j in types.fields_of(ft) if types.field_names[j] in ("vu", "maybeTraceablePtr")
        ]
        if not inner:
            return off
        off += int(types.field_off[inner[0]])
        ft = int(types.field_type[inner[0]])
    return off


class _Reader:
    """Pointer-sized words at heap addresses, read from the dump (0 outside the heap)."""

    def __init__(self, heap: Heap):
        self.heap = heap
        self.mask = np.uint64((1 << (8 * heap.params.ptr_size)) - 1)

    def words(self, addresses: np.ndarray) -> np.ndarray:
        heap = self.heap
        addresses = np.asarray(addresses, dtype=np.uint64)
        objs = heap.resolve(addresses)
        pos = np.full(len(addresses), -1, dtype=np.int64)
        inside = objs >= 0
        o = objs[inside]
        rel = (addresses[inside] - heap.addr[o]).astype(np.int64)
        fits = rel + heap.params.ptr_size <= heap.size[o]
        pos[np.flatnonzero(inside)[fits]] = heap.cols.obj_data[o[fits]].astype(np.int64) + rel[fits]
        order = np.argsort(pos, kind="stable")
        out = np.zeros(len(addresses), dtype=np.uint64)
        out[order] = heap.dump.words_at(pos[order], heap.params.big_endian)
        if heap.params.ptr_size < 8:
            out &= self.mask
        return out


def goroutines(heap: Heap, names: Names) -> Goroutines:
    """Every goroutine with its frames, what it waits on, its verdict and retained size."""
    recs = heap.cols.recs
    rows = heap.rows(L.TAG_GOROUTINE)
    n = len(rows)
    frame_rows = heap.rows(L.TAG_STACK_FRAME)
    owner = np.searchsorted(rows, frame_rows, side="right") - 1
    frame_first = np.searchsorted(owner, np.arange(n + 1), side="left").astype(np.int64)
    reasons = _texts(heap, recs[rows, 10].astype(np.int64), recs[rows, 11].astype(np.int64))
    gor = Goroutines(
        rows=rows.astype(np.int64), ids=recs[rows, 4].astype(np.int64),
        address=recs[rows, 2].astype(np.uint64), gopc=recs[rows, 5].astype(np.uint64),
        status=(recs[rows, 6].astype(np.int64) & ~G_SCAN), waitsince=recs[rows, 9].astype(np.int64),
        wait_reason=reasons, frame_first=frame_first, frame_rows=frame_rows.astype(np.int64),
        candidate=np.zeros(n, np.bool_), verdict=np.full(n, NOT_LEAKED, np.int8),
        prim_first=np.zeros(n + 1, np.int64), prim_addr=np.zeros(0, np.uint64),
        prim_obj=np.zeros(0, np.int32), retained_bytes=np.zeros(n, np.int64),
        retained_objects=np.zeros(n, np.int64),
    )  # fmt: skip
    _find_candidates(heap, gor)
    root_goroutine = _root_goroutines(heap, rows)
    layout = runtime_layout(names)
    sudogs = _blocked_on(heap, names, gor, layout, root_goroutine)
    passable = _not_entered(heap, names, gor, sudogs)
    keep_root = _roots_kept(heap, names)
    search = _Search.of(heap, gor, root_goroutine, passable)
    by_others = search.mark(heap.roots.target[keep_root & (root_goroutine < 0)], heap.phantom)
    _decide(heap, gor, root_goroutine, keep_root, search, by_others, layout is not None)
    _retained(heap, gor, root_goroutine, passable, by_others)
    return gor


TEXT_WINDOW = 1 << 20  # bytes read at a time for the wait reasons


def _texts(heap: Heap, pos: np.ndarray, length: np.ndarray) -> list[str]:
    """The strings at file positions ``pos``, read a window at a time (one read each cost
    a system call per goroutine: half a second for 100k); equal ones decoded once."""
    out = [""] * len(pos)
    order = np.argsort(pos, kind="stable")
    pos, length = pos[order], np.maximum(length[order], 0)
    seen: dict[bytes, str] = {}
    order_list = order.tolist()
    i = 0
    while i < len(pos):
        j = max(int(np.searchsorted(pos, pos[i] + TEXT_WINDOW, side="left")), i + 1)
        base = int(pos[i])
        window = heap.dump.bytes_at(base, int((pos[i:j] + length[i:j]).max()) - base)
        for k, p, n in zip(order_list[i:j], (pos[i:j] - base).tolist(), length[i:j].tolist(),
                           strict=True):  # fmt: skip
            raw = window[p : p + n]
            text = seen.get(raw)
            if text is None:
                text = seen[raw] = raw.decode("utf-8", "replace")
            out[k] = text
        i = j
    return out


def _find_candidates(heap: Heap, gor: Goroutines) -> None:
    """Parked on a channel, select or sync primitive (Go 1.26's leak candidates)."""
    waiting = (gor.status == G_WAITING) | (gor.status == G_LEAKED)
    for i in np.flatnonzero(waiting).tolist():
        reason = gor.wait_reason[i]
        if reason in NEVER_WAKES or reason in CHANNEL_WAITS or reason in SYNC_WAITS:
            gor.candidate[i] = True
        elif reason == "semacquire":
            frames = gor.frames(i)
            gor.candidate[i] = any(heap.text(int(f), 10) == WAITGROUP_FRAME for f in frames)


def _root_goroutines(heap: Heap, rows: np.ndarray) -> np.ndarray:
    """Per root, the goroutine (index) whose stack it is part of; -1 for other roots.
    Frames, defers and panics follow their goroutine's record in the dump."""
    roots = heap.roots
    out = np.searchsorted(rows, roots.rec, side="right") - 1
    mine = np.isin(roots.kind, STACK_ROOTS) & (out >= 0)
    return np.where(mine, out, -1).astype(np.int64)


def _blocked_on(heap: Heap, names: Names, gor: Goroutines, layout: RuntimeLayout | None,
                root_goroutine: np.ndarray) -> np.ndarray:  # fmt: skip
    """Fill each candidate's primitives; returns the sudog objects met on the way."""
    reader = _Reader(heap)
    cand = np.flatnonzero(gor.candidate)
    found: dict[int, list[int]] = {}
    sudogs: list[int] = []
    if layout is None:
        for i in cand.tolist():
            if gor.wait_reason[i] not in NEVER_WAKES:
                gor.notes[i] = "what it waits on needs the binary's DWARF (--program)"
    else:
        waiting = reader.words(gor.address[cand] + np.uint64(layout.g_waiting))
        kinds = [gor.wait_reason[i] for i in cand.tolist()]
        chan = np.array([k in CHANNEL_WAITS for k in kinds], dtype=np.bool_)
        sync = np.array([k not in CHANNEL_WAITS and k not in NEVER_WAKES for k in kinds], np.bool_)
        found.update(_channel_chains(reader, layout, cand[chan], waiting[chan], sudogs))
        for i in cand[chan].tolist():
            if not found[i] and gor.wait_reason[i] != "select":  # only a select can have none
                gor.notes[i] = "its wait list names no channel (damaged?)"
        with_sudog = sync & (waiting != 0)
        elems = reader.words(waiting[with_sudog] + np.uint64(layout.sudog_elem))
        sudogs.extend(waiting[with_sudog].tolist())
        for i, elem in zip(cand[with_sudog].tolist(), elems.tolist(), strict=True):
            found[i] = [elem]
        for i in cand[sync & (waiting == 0)].tolist():
            found[i] = _sync_from_frames(heap, gor, i, layout, reader, root_goroutine, sudogs)
    counts = np.zeros(len(gor), np.int64)
    for i, prims in found.items():
        counts[i] = len(prims)
    gor.prim_first = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    flat = [a for i in sorted(found) for a in found[i]]
    gor.prim_addr = np.array(flat, dtype=np.uint64)
    gor.prim_obj = heap.resolve(gor.prim_addr) if flat else np.zeros(0, np.int32)
    return heap.resolve(np.array(sudogs, dtype=np.uint64)) if sudogs else np.zeros(0, np.int32)


def _channel_chains(reader: _Reader, layout: RuntimeLayout, goroutines: np.ndarray,
                    waiting: np.ndarray, sudogs: list[int]) -> dict[int, list[int]]:  # fmt: skip
    """The channel of each sudog on each goroutine's g.waiting list (a select's cases),
    one step of every list at a time."""
    out: dict[int, list[int]] = {int(i): [] for i in goroutines.tolist()}
    at, who = waiting, goroutines
    seen = np.zeros(0, dtype=np.uint64)
    for _ in range(MAX_SELECT_CASES):
        # a sudog is on one list once: one met again is a damaged dump's cycle
        live = (at != 0) & ~np.isin(at, seen)
        seen = np.concatenate([seen, at[live]])
        at, who = at[live], who[live]
        if not len(at):
            break
        sudogs.extend(at.tolist())
        chans = reader.words(at + np.uint64(layout.sudog_c))
        at = reader.words(at + np.uint64(layout.sudog_waitlink))
        for i, c in zip(who.tolist(), chans.tolist(), strict=True):
            if c:
                out[i].append(c)
    return out


def _sync_from_frames(
    heap: Heap, gor: Goroutines, i: int, layout: RuntimeLayout, reader: _Reader,
    root_goroutine: np.ndarray, sudogs: list[int],
) -> list[int]:  # fmt: skip
    """Before Go 1.26: the sudog among what the goroutine's frames point to (its ``g`` is
    this goroutine) names the semaphore; a Cond's wait frame points at the Cond."""
    mine = np.flatnonzero(root_goroutine == i)
    targets = np.unique(heap.roots.target[mine])
    starts = heap.addr[targets]
    owners_g = reader.words(starts + np.uint64(layout.sudog_g)) if len(targets) else starts
    is_sudog = owners_g == gor.address[i]
    for s in starts[is_sudog].tolist():
        sudogs.append(int(s))
        elem = int(reader.words(np.array([s + layout.sudog_elem]))[0])
        if elem:
            return [elem]
    frames = set(gor.frames(i).tolist())
    cond = [r for r in mine.tolist() if int(heap.roots.rec[r]) in frames
            and heap.text(int(heap.roots.rec[r]), 10) == COND_FRAME]  # fmt: skip
    held = [int(heap.addr[heap.roots.target[r]]) for r in cond]
    held = [a for a in held if a not in set(starts[is_sudog].tolist())]
    if not held:
        gor.notes[i] = "what it waits on is not in its frames"
    return sorted(set(held))


def _not_entered(heap: Heap, names: Names, gor: Goroutines, sudogs: np.ndarray) -> np.ndarray:
    """Objects the search reaches but does not go through: g objects and sudogs."""
    stop = np.zeros(heap.n_objects, dtype=np.bool_)
    g_objs = heap.resolve(gor.address)
    stop[g_objs[g_objs >= 0]] = True
    stop[sudogs[sudogs >= 0]] = True
    typed = names.typed
    if typed.types is not None and "runtime.sudog" in typed.types.names:
        stop |= typed.type == typed.types.names.index("runtime.sudog")
    return stop


def _roots_kept(heap: Heap, names: Names) -> np.ndarray:
    """Roots that count: all but the semaphore table's slots (``runtime.semtable``)."""
    keep = np.ones(len(heap.roots), dtype=np.bool_)
    symbols = names.symbols
    if symbols is not None and "runtime.semtable" in symbols.names:
        k = symbols.names.index("runtime.semtable")
        lo, hi = symbols.addr[k], symbols.addr[k] + symbols.size[k]
        keep &= ~((heap.roots.slot >= lo) & (heap.roots.slot < hi) & (heap.roots.kind <= R.BSS))
    return keep


@dataclass
class _Search:
    """Marks of what roots reach, entering no ``stop`` object, and within a scope when one
    is known: the objects that lead to a goroutine's own objects or to what one waits on,
    the only ones whose marks the verdicts and retained sizes read.

    The scope is found backwards from those objects along the owners (a heap is mostly
    tree-like: few objects lead to a goroutine's), giving up when it grows past a share of
    the heap (SCOPE_SHARE); then every search covers the whole heap."""

    heap: Heap
    stop: np.ndarray  # bool per object: marked, never entered (and outside the scope)
    queue: np.ndarray  # int32 per object: the searches' scratch
    scoped: bool

    @classmethod
    def of(cls, heap: Heap, gor: Goroutines, root_goroutine: np.ndarray,
           stop: np.ndarray) -> _Search:  # fmt: skip
        n = heap.n_objects
        queue = np.empty(n, dtype=np.int32)
        limit = n // SCOPE_SHARE
        theirs = np.concatenate([heap.roots.target[root_goroutine >= 0], gor.prim_obj])
        near = np.zeros(n, dtype=np.bool_)
        found = K.mark_within(theirs.astype(np.int32), heap.cols.obj_first, heap.field_target,
                              stop | heap.phantom, near, queue, limit)  # fmt: skip
        if found < 0:
            return cls(heap, stop, queue, False)
        near_objects = np.flatnonzero(near).astype(np.int32)
        back_stop = stop.copy()
        back_stop[near_objects] = False  # a stop object of theirs: what leads to it counts
        scope = np.zeros(n, dtype=np.bool_)
        found = K.mark_within(near_objects, heap.in_first, heap.in_src, back_stop, scope, queue,
                              limit)  # fmt: skip
        if found < 0:
            return cls(heap, stop, queue, False)
        outside = np.logical_not(scope, out=scope)
        return cls(heap, np.logical_or(outside, stop, out=outside), queue, True)

    def mark(self, starts: np.ndarray, stop: np.ndarray | None = None,
             seen: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
        """``seen`` (a new mark when None) with what ``starts`` reach, entering neither
        this search's stops nor ``stop``."""
        heap = self.heap
        seen = np.zeros(heap.n_objects, dtype=np.bool_) if seen is None else seen
        blocked = self.stop if stop is None else self.stop | stop
        K.mark_within(starts.astype(np.int32), heap.cols.obj_first, heap.field_target, blocked,
                      seen, self.queue, heap.n_objects if self.scoped else -1)  # fmt: skip
        return seen


def _decide(heap: Heap, gor: Goroutines, root_goroutine: np.ndarray, keep_root: np.ndarray,
            search: _Search, by_others: np.ndarray, have_layout: bool) -> None:  # fmt: skip
    """The fixpoint: parked goroutines whose primitive is reached become roots. It goes on
    from the other roots' mark (``by_others``, made without entering phantoms, which this
    search enters: the phantoms met there are entered now)."""
    parked = gor.candidate.copy()
    if parked.any():
        root_parked = (root_goroutine >= 0) & parked[np.maximum(root_goroutine, 0)]
        seen = by_others.copy()
        met = np.flatnonzero(heap.phantom & seen)
        seen[met] = False
        mine = heap.roots.target[keep_root & (root_goroutine >= 0) & ~root_parked]
        starts = np.concatenate([met, mine])
        while True:
            search.mark(starts, seen=seen)
            woken = _maybe_runnable(gor, parked, seen, have_layout)
            if not len(woken):
                break
            parked[woken] = False
            starts = heap.roots.target[keep_root & np.isin(root_goroutine, woken)]
    gor.verdict[:] = NOT_LEAKED
    gor.verdict[parked] = LEAKED
    for i in gor.notes:
        if parked[i]:
            gor.verdict[i] = UNKNOWN


def _maybe_runnable(
    gor: Goroutines, parked: np.ndarray, seen: np.ndarray, have_layout: bool
) -> np.ndarray:
    """Parked goroutines one of whose primitives is reached or outside the heap."""
    reached = (gor.prim_obj < 0) | seen[np.maximum(gor.prim_obj, 0)]
    hits = np.zeros(len(gor.prim_obj) + 1, dtype=np.int64)
    hits[1:] = np.cumsum(reached)
    any_hit = (hits[gor.prim_first[1:]] - hits[gor.prim_first[:-1]]) > 0
    return np.flatnonzero(parked & any_hit)


def _retained(heap: Heap, gor: Goroutines, root_goroutine: np.ndarray, stop: np.ndarray,
              by_others: np.ndarray) -> None:  # fmt: skip
    """Objects reachable from one goroutine's stack and from no other root (``by_others``:
    what the other roots reach)."""
    seen = by_others | stop
    seen |= heap.phantom
    # a goroutine's own: its stack roots, and what it waits on (kept by its sudog)
    mine = np.flatnonzero(root_goroutine >= 0)
    owner = np.concatenate(
        [root_goroutine[mine], np.repeat(np.arange(len(gor)), np.diff(gor.prim_first))]
    )
    target = np.concatenate([heap.roots.target[mine], gor.prim_obj]).astype(np.int32)
    order = np.argsort(owner, kind="stable")
    first = np.searchsorted(owner[order], np.arange(len(gor) + 1)).astype(np.int64)
    stack = np.empty(heap.n_objects, dtype=np.int32)
    label = K.label_owners(
        first, target[order], heap.cols.obj_first, heap.field_target, seen, stack
    )
    gor.retained_bytes, gor.retained_objects = K.owned_totals(label, heap.size, len(gor))


# --- anchors through goroutines -------------------------------------------------------------
_verdicts: weakref.WeakKeyDictionary[Heap, tuple[object, Goroutines]] = weakref.WeakKeyDictionary()


def stack_variable(heap: Heap, names: Names, root: int) -> str | None:
    """The DWARF name of the stack variable a frame root is a slot of (None: not known)."""
    types = names.typed.types
    if types is None or int(heap.roots.kind[root]) != R.FRAME:
        return None
    v, _ = frame_slot_variable(heap, types, int(heap.roots.rec[root]), int(heap.roots.slot[root]))
    return types.var_names[v] if v >= 0 else None


def goroutine_leaked(heap: Heap, names: Names, goid: int) -> bool:
    """Whether goroutine ``goid`` leaked. Only a goroutine parked on a channel or a sync
    primitive can be, so the leak search runs (once per dump and types) only for one."""
    if not 0 <= goid < 1 << 64:  # -1: a frame of no goroutine (a damaged dump's)
        return False
    g = np.flatnonzero(heap.cols.recs[heap.rows(L.TAG_GOROUTINE), 4] == np.uint64(goid))
    if not len(g):
        return False
    row = int(heap.rows(L.TAG_GOROUTINE)[g[0]])
    status = int(heap.cols.recs[row, 6]) & ~G_SCAN
    reason = heap.text(row, 10)
    if status not in (G_WAITING, G_LEAKED) or not (
        reason in NEVER_WAKES or reason in CHANNEL_WAITS or reason in SYNC_WAITS
        or reason == "semacquire"
    ):  # fmt: skip
        return False
    cached = _verdicts.get(heap)
    if cached is None or cached[0] is not names.typed:
        cached = _verdicts[heap] = (names.typed, goroutines(heap, names))
    gor = cached[1]
    i = gor.index_of(goid)
    return i >= 0 and int(gor.verdict[i]) == LEAKED


LEAKED_WORDS = " [leaked goroutine: parked forever, so what its stack holds is never freed]"


def anchor_facts(
    heap: Heap, names: Names, root: int, goid: int | None
) -> tuple[str | None, bool | None]:
    """For an anchor's root: the stack variable it is (frames) and whether its goroutine
    leaked (None: the root is no goroutine's)."""
    leaked = goroutine_leaked(heap, names, goid) if goid is not None else None
    return stack_variable(heap, names, root), leaked


def anchor_words(heap: Heap, names: Names, root: int, goid: int | None) -> str:
    """What an anchor's label adds: `` var req`` and the leaked goroutine's warning."""
    variable, leaked = anchor_facts(heap, names, root, goid)
    return (f" var {variable}" if variable else "") + (LEAKED_WORDS if leaked else "")
