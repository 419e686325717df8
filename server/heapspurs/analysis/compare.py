"""What grew between dumps (``--baseline``): per type, what the dump holds against one or
more older dumps; within one process also the new objects, the freed ones, and who holds
the new ones. Answers are JSON-ready dicts; :mod:`..render.compare` prints them.

Go never moves a heap object (DESIGN §9), so between two dumps of one process an object
that survived sits at the same address with the same size and type; the match is done on
sorted address arrays, never object by object. A freed slot the process gave to a new
object of the same size and type looks like a survivor: no dump can tell them apart.

Whether two dumps come from one process is decided from what the dumps hold (see
src/runtime/heapdump.go): there is no pid record, but ``dumpms`` writes every M with its
``procid``, the thread id on Linux, and M 0 (the main thread) has the process's pid;
``dumpmemstats`` writes the cumulative counters (TotalAlloc, Mallocs, Frees, LastGC,
NumGC), which only grow within a process, and the last 256 GC pause times, which another
process does not repeat to the nanosecond; ``dumpparams`` writes the heap arenas' bounds,
and arenas are never given back, so a later dump's bounds hold an earlier one's."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from ..dumpfile import layout as L
from ..dumpfile.errors import DumpFormatError
from ..dumpfile.records import decode_at
from ..heap.graph import UNREACHED
from ..heap.model import Heap
from ..loaded import LoadedDump
from ..render.jsonout import hexaddr
from .describe import describe_root
from .suspects import anchor_chain

GROUP_EXAMPLES = 5  # addresses listed per growth group
PAUSES = 256  # MemStats.PauseNs: a ring of the last 256 GC pauses
# MemStats counters that never decrease within a process (indexes into the record)
MONOTONIC = tuple(L.MEMSTATS_NAMES.index(n) for n in ("TotalAlloc", "Mallocs", "Frees", "LastGC"))


class NotComparable(ValueError):
    """Dumps that cannot be compared as given (the baseline is the later one)."""


@dataclass(frozen=True)
class ProcessFacts:
    """What a dump says of the process that wrote it."""

    path: str
    go: str
    arena: tuple[int, int]
    pid: int | None  # M 0's procid: the main thread's id, the pid on Linux
    threads: dict[int, int]  # M id -> procid
    gcs: int | None  # NumGC
    pauses: tuple[int, ...]  # PauseNs, indexed by (GC number - 1) % 256
    counters: tuple[int, ...]  # MONOTONIC's values


def process_facts(heap: Heap) -> ProcessFacts:
    recs = heap.cols.recs
    threads = {int(m): int(p) for m, p in recs[heap.rows(L.TAG_OS_THREAD), 3:5].tolist()}
    gcs: int | None = None
    pauses: tuple[int, ...] = ()
    counters: tuple[int, ...] = ()
    rows = heap.rows(L.TAG_MEMSTATS)
    if len(rows):
        try:
            numbers = decode_at(heap.dump, int(recs[rows[0], 1]), heap.params.ptr_size)[0].numbers
        except DumpFormatError:  # a damaged record: the facts it held are unknown
            numbers = []
        if len(numbers) == L.MEMSTATS_COUNT:
            k = len(L.MEMSTATS_NAMES)
            gcs, pauses = numbers[-1], tuple(numbers[k : k + PAUSES])
            counters = tuple(numbers[i] for i in MONOTONIC)
    p = heap.params
    return ProcessFacts(heap.dump.path, f"{p.go_version}/{p.arch}", (p.heap_start, p.heap_end),
                        threads.get(0) or None, threads, gcs, pauses, counters)  # fmt: skip


@dataclass(frozen=True)
class Verdict:
    same: bool
    why: str  # one line for people


def same_process(old: ProcessFacts, new: ProcessFacts) -> Verdict:
    """Whether ``old`` and ``new`` were written by one process, ``old`` first. Raises
    :class:`NotComparable` for one process's dumps given newest first."""
    differ = _contradiction(old, new)
    if differ:
        return Verdict(False, differ)
    proof = _shared_evidence(old, new)
    if _later(old, new):
        if proof:
            raise NotComparable(
                f"{old.path} was written after {new.path} by the same process ({proof}): "
                "give the older dump as --baseline (oldest first)"
            )
        return Verdict(False, "the baseline's GC counters are ahead of the dump's")
    if not (new.arena[0] <= old.arena[0] and old.arena[1] <= new.arena[1]):
        return Verdict(False, f"heap arenas {_span(old.arena)} and {_span(new.arena)}")
    if proof:
        return Verdict(True, proof)
    if old.arena[0] == new.arena[0]:
        return Verdict(True, f"same heap base {old.arena[0]:#x}, no pid or GC history to check")
    return Verdict(False, "no pid, GC history or heap base in common")


def _contradiction(old: ProcessFacts, new: ProcessFacts) -> str | None:
    if old.go != new.go:
        return f"written by {old.go} and {new.go}"
    if old.pid is not None and new.pid is not None and old.pid != new.pid:
        return f"pid {old.pid} and {new.pid}"
    if any(new.threads.get(m, p) != p for m, p in old.threads.items()):
        return "their threads differ"
    if any(a != b for a, b in _shared_pauses(old, new)):
        return "their GC pause histories differ"
    return None


def _shared_evidence(old: ProcessFacts, new: ProcessFacts) -> str | None:
    said = []
    if old.pid is not None and old.pid == new.pid:
        said.append(f"pid {old.pid}")
    pauses = _shared_pauses(old, new)
    if any(a for a, _ in pauses):
        said.append(f"the pause times of {len(pauses)} GC(s) agree")
    return ", ".join(said) or None


def _shared_pauses(old: ProcessFacts, new: ProcessFacts) -> list[tuple[int, int]]:
    """The pause times of the GCs both dumps remember (numbers in both rings)."""
    if old.gcs is None or new.gcs is None:
        return []
    first = max(1, max(old.gcs, new.gcs) - PAUSES + 1)
    ks = range(first, min(old.gcs, new.gcs) + 1)
    return [(old.pauses[(k - 1) % PAUSES], new.pauses[(k - 1) % PAUSES]) for k in ks]


def _later(old: ProcessFacts, new: ProcessFacts) -> bool:
    """``old`` is ahead of ``new`` on a counter that only grows."""
    ahead = old.gcs is not None and new.gcs is not None and old.gcs > new.gcs
    both = zip(old.counters, new.counters, strict=False)
    return ahead or any(a > b for a, b in both)


def _span(bounds: tuple[int, int]) -> str:
    return f"{bounds[0]:#x}-{bounds[1]:#x}"


# --- types over several dumps ------------------------------------------------------------
@dataclass
class Labelled:
    """A dump's live objects (no phantoms) with their type as an index into a list of
    names shared by all the dumps compared."""

    loaded: LoadedDump
    objs: np.ndarray  # live object indexes
    label: np.ndarray  # per live object, into the shared names


def label_dumps(dumps: list[LoadedDump]) -> tuple[list[Labelled], list[str]]:
    """Each dump's live objects labelled in one list of type names (the typing's names,
    :meth:`ObjectTypes.name_index`, joined by text)."""
    shared: dict[str, int] = {}
    out = []
    for d in dumps:
        index, labels = d.names.typed.name_index(d.heap)
        to_shared = np.array([shared.setdefault(t, len(shared)) for t in labels], np.int32)
        objs = np.flatnonzero(~d.heap.phantom)
        out.append(Labelled(d, objs, to_shared[index[objs]] if len(labels) else index[objs]))
    return out, list(shared)


def per_type(d: Labelled, n: int, which: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """(count, bytes) per shared type over ``d``'s live objects (or those in ``which``)."""
    label = d.label if which is None else d.label[which]
    objs = d.objs if which is None else d.objs[which]
    counts = np.bincount(label, minlength=n).astype(np.int64)
    nbytes = np.bincount(label, weights=d.loaded.heap.size[objs], minlength=n).astype(np.int64)
    return counts, nbytes


def match_by_address(old: Labelled, new: Labelled) -> tuple[np.ndarray, np.ndarray]:
    """(per live object of ``new``: survived; per live object of ``old``: still there):
    an object survived where the old dump had one at its address with its size and type.
    The old dump's objects in address order are its index's (``sorted_addr``, ``order``)."""
    heap_old, heap_new = old.loaded.heap, new.loaded.heap
    survived = np.zeros(len(new.objs), np.bool_)
    kept = np.zeros(len(old.objs), np.bool_)
    if not len(old.objs) or not len(new.objs):
        return survived, kept
    live_at = np.full(heap_old.n_objects, -1, np.int64)  # object -> its place in old.objs
    live_at[old.objs] = np.arange(len(old.objs))
    addr = heap_new.addr[new.objs]
    at = np.minimum(np.searchsorted(heap_old.sorted_addr, addr), heap_old.n_objects - 1)
    j = heap_old.order[at]
    k = live_at[j]
    survived = (heap_old.sorted_addr[at] == addr) & (k >= 0)
    survived &= heap_old.size[j] == heap_new.size[new.objs]
    survived &= old.label[np.maximum(k, 0)] == new.label
    kept[k[survived]] = True
    return survived, kept


# --- the answers ---------------------------------------------------------------------------
@dataclass
class Comparison:
    """The dumps compared and what comparing the newest baseline with the dump found."""

    dumps: list[Labelled]  # oldest first; the dump itself last
    names: list[str]
    verdict: Verdict
    new: np.ndarray | None  # per live object of the dump: new since the newest baseline
    freed: np.ndarray | None  # per live object of the newest baseline: gone


def compare(current: LoadedDump, baselines: list[LoadedDump]) -> Comparison:
    """Compare ``current`` with ``baselines`` (oldest first)."""
    facts = [process_facts(d.heap) for d in [*baselines, current]]
    for earlier, later in pairwise(facts[:-1]):
        same_process(earlier, later)  # refuses one process's baselines given newest first
    dumps, names = label_dumps([*baselines, current])
    old, new = dumps[-2], dumps[-1]
    verdict = same_process(facts[-2], facts[-1])
    if not verdict.same:
        return Comparison(dumps, names, verdict, None, None)
    survived, kept = match_by_address(old, new)
    return Comparison(dumps, names, verdict, ~survived, ~kept)


def comparison_line(c: Comparison) -> str:
    base = c.dumps[-2].loaded.path
    if c.verdict.same:
        return f"same process as {base} ({c.verdict.why}): new and freed objects by address"
    return f"not the process of {base} ({c.verdict.why}): compared by type only"


def histogram_answer(c: Comparison) -> dict[str, object]:
    """``--histogram --baseline``: per type the dump's and the newest baseline's counts and
    bytes, and within one process the new and freed objects; the most growth first."""
    n = len(c.names)
    old, new = c.dumps[-2], c.dumps[-1]
    count, nbytes = per_type(new, n)
    base_count, base_bytes = per_type(old, n)
    columns = {"count": count, "bytes": nbytes, "baseline_count": base_count,
               "baseline_bytes": base_bytes}  # fmt: skip
    if c.new is not None and c.freed is not None:
        columns["new"], columns["new_bytes"] = per_type(new, n, c.new)
        columns["freed"], columns["freed_bytes"] = per_type(old, n, c.freed)
    used = np.flatnonzero(count + base_count)
    growth = nbytes[used] - base_bytes[used]
    used = used[np.lexsort((used, -growth))]
    rows: list[dict[str, object]]
    rows = [{"type": c.names[i]} | {k: int(v[i]) for k, v in columns.items()}
            for i in used.tolist()]  # fmt: skip
    for row in rows:
        for key in ("new", "new_bytes", "freed", "freed_bytes"):
            row.setdefault(key, None)
    return {**_heading(c), "types": rows, **_totals(c), "series": series(c)}


def _heading(c: Comparison) -> dict[str, object]:
    return {"dump": c.dumps[-1].loaded.path,
            "baselines": [d.loaded.path for d in c.dumps[:-1]],
            "same_process": c.verdict.same, "comparison": comparison_line(c),
            "note": _untyped_note(c)}  # fmt: skip


def _untyped_note(c: Comparison) -> str | None:
    from .typing import NO_PROGRAM

    untyped = any(d.loaded.names.typed.types is None for d in c.dumps)
    return NO_PROGRAM if untyped else None


def _totals(c: Comparison) -> dict[str, object]:
    old, new = c.dumps[-2], c.dumps[-1]
    size_old, size_new = old.loaded.heap.size[old.objs], new.loaded.heap.size[new.objs]
    out: dict[str, object] = {
        "total_objects": len(new.objs), "total_bytes": int(size_new.sum()),
        "baseline_objects": len(old.objs), "baseline_bytes": int(size_old.sum()),
        "new_objects": None, "new_bytes": None, "freed_objects": None, "freed_bytes": None,
    }  # fmt: skip
    if c.new is not None and c.freed is not None:
        out.update(new_objects=int(c.new.sum()), new_bytes=int(size_new[c.new].sum()),
                   freed_objects=int(c.freed.sum()),
                   freed_bytes=int(size_old[c.freed].sum()))  # fmt: skip
    return out


def series(c: Comparison) -> dict[str, object] | None:
    """With more than one baseline: per type its counts and bytes in each dump (oldest
    first), and the types whose bytes grew in every interval."""
    if len(c.dumps) < 3:
        return None
    n = len(c.names)
    counts, nbytes = (np.stack(a) for a in zip(*(per_type(d, n) for d in c.dumps), strict=True))
    grew = np.all(np.diff(nbytes, axis=0) > 0, axis=0)
    used = np.flatnonzero(counts.sum(axis=0))
    growth = nbytes[-1, used] - nbytes[0, used]
    used = used[np.lexsort((used, -growth))]
    rows = [{"type": c.names[i], "counts": counts[:, i].tolist(), "bytes": nbytes[:, i].tolist(),
             "grew_every_interval": bool(grew[i])} for i in used.tolist()]  # fmt: skip
    grew_types = [r["type"] for r in rows if r["grew_every_interval"]]
    return {"dumps": [d.loaded.path for d in c.dumps], "types": rows,
            "grew_every_interval": grew_types}  # fmt: skip


def growth_groups(c: Comparison, n: int) -> list[dict[str, object]]:
    """The new objects grouped by (nearest anchor, type), the ``n`` largest by bytes:
    ``{anchor, type, new_objects, new_bytes, examples}``; ``anchor`` as in ``--suspects``
    (kind, name, label, path, fields, expression), null for objects no root reaches."""
    if c.new is None:
        return []
    d = c.dumps[-1]
    heap, names = d.loaded.heap, d.loaded.names
    objs, label = d.objs[c.new], d.label[c.new]
    top = nearest_root_objects(heap)[objs]
    groups: dict[tuple, list] = {}
    keys = {}
    width = max(len(c.names), 1)
    codes, first = np.unique((top.astype(np.int64) + 1) * width + label, return_inverse=True)
    first = first.reshape(-1)
    nbytes = np.bincount(first, weights=heap.size[objs], minlength=len(codes)).astype(np.int64)
    count = np.bincount(first, minlength=len(codes))
    pairs = [(code // width - 1, code % width) for code in codes.tolist()]
    for p, (t, lab) in enumerate(pairs):
        if t not in keys:
            keys[t] = describe_root(heap, names, int(heap.roots_of(t)[0])).key if t >= 0 else None
        entry = groups.setdefault((keys[t], lab), [0, 0, []])
        entry[0] += int(count[p])
        entry[1] += int(nbytes[p])
        entry[2].append(p)
    ranked = sorted(groups.items(), key=lambda kv: (-kv[1][1], -kv[1][0], c.names[kv[0][1]]))
    return [_group(heap, names, c.names[lab], objs, first, members)
            for (_, lab), members in ranked[:n]]  # fmt: skip


def _group(heap: Heap, names, type_name: str, objs: np.ndarray, pair_of: np.ndarray,
           members: list) -> dict[str, object]:  # fmt: skip
    count, nbytes, pairs = members
    inside = objs[np.isin(pair_of, pairs)]
    examples = np.sort(heap.addr[inside])[:GROUP_EXAMPLES]
    first = int(inside[np.argmin(heap.addr[inside])])
    return {"anchor": anchor_chain(heap, names, first), "type": type_name, "new_objects": count,
            "new_bytes": nbytes, "examples": [hexaddr(a) for a in examples.tolist()]}  # fmt: skip


def nearest_root_objects(heap: Heap) -> np.ndarray:
    """Per object, the object a root points at at the top of its shortest chain from the
    roots (:meth:`Heap.nearest_roots`), -1 where no root reaches it: the BFS links followed
    up by pointer doubling, a few passes over the array whatever the chains' lengths."""
    parent = heap.nearest_roots()
    top = np.where(parent >= 0, parent, np.arange(len(parent), dtype=np.int32))
    while True:
        up = top[top]
        if np.array_equal(up, top):
            break
        top = up
    return np.where(parent == UNREACHED, -1, top)


def growth_answer(c: Comparison, top: dict[str, object], n: int) -> dict[str, object]:
    """``--top N --baseline``: the ``--top`` answer with the comparison and ``growth``."""
    totals = _totals(c)
    return {**top, **_heading(c), "new_objects": totals["new_objects"],
            "new_bytes": totals["new_bytes"], "growth": growth_groups(c, n)}  # fmt: skip
