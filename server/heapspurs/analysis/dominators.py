"""The dominator tree of the heap and every object's retained size.

A virtual root points at every root target (the roots of anchors, finalizer rules included:
everything a finalized object points to is a root, the object itself is not); phantom
records are never entered. Object ``d`` dominates ``o`` when every chain from the roots to
``o`` passes through ``d``; what ``d`` retains is itself and everything it dominates: the
memory that would be freed with it. The tree is computed once per dump (SEMI-NCA, see
:mod:`.dominator_kernels`) and kept in the saved index, so a reopen reads it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from ..heap import index, scratch
from ..heap.cores import side_by_side
from ..heap.graph import _seen_bits
from ..heap.model import PARALLEL_MIN, Heap
from . import dominator_kernels as K
from .typing import ObjectTypes

VIRTUAL_ROOT = -1  # idom of the objects only the virtual root dominates (first level)
UNREACHED = -2  # idom of objects no root reaches, and of phantom records
SPLIT_MIN = PARALLEL_MIN  # pointers from which passes go in blocks or halves on two threads
SAVED = ("dom_idom", "dom_retained", "dom_retained_objects", "dom_live")
# retained bytes per type name, and a hash of the names they are for (another program's
# binary names the types otherwise)
BY_TYPE = ("dom_retained_by_type", "dom_retained_by_type_names")


@dataclass
class Dominators:
    """Per object: the object that immediately dominates it (VIRTUAL_ROOT, UNREACHED), the
    bytes and objects it retains (0 when unreached); the live heap's bytes and objects (what
    the virtual root retains)."""

    idom: np.ndarray  # int32
    retained: np.ndarray  # int64
    retained_objects: np.ndarray  # int32
    live_bytes: int
    live_objects: int
    _children: tuple[np.ndarray, np.ndarray] | None = None

    def reached(self, obj: int) -> bool:
        return int(self.idom[obj]) != UNREACHED

    def percent(self, nbytes: int) -> float:
        """``nbytes`` as a percentage of the live heap."""
        return 100.0 * nbytes / self.live_bytes if self.live_bytes else 0.0

    def children_csr(self) -> tuple[np.ndarray, np.ndarray]:
        """(first, kids): what ``p`` immediately dominates is ``kids[first[p+1]:first[p+2]]``,
        the first level ``kids[first[0]:first[1]]``; built once (O(objects))."""
        if self._children is None:
            self._children = K.children_csr(self.idom, VIRTUAL_ROOT)
        return self._children

    def children(self, obj: int | None) -> np.ndarray:
        """What ``obj`` immediately dominates (None: the first level). One scan of the tree
        unless the children lists are built (a question or two need not build them)."""
        parent = VIRTUAL_ROOT if obj is None else obj
        if self._children is None:
            return np.flatnonzero(self.idom == parent).astype(np.int32)
        first, kids = self._children
        return kids[first[parent + 1] : first[parent + 2]]

    def largest(self, objs: np.ndarray, n: int) -> np.ndarray:
        """The ``n`` of ``objs`` that retain most, largest first (ties: object order, also
        at the cut, so a shorter list is always the start of a longer one)."""
        if 0 < n < len(objs):
            retained = self.retained[objs]
            cut = np.partition(retained, len(objs) - n)[len(objs) - n]  # the n-th largest
            above = objs[retained > cut]
            ties = np.sort(objs[retained == cut])[: n - len(above)]
            objs = np.concatenate([above, ties])
        elif n <= 0:
            objs = objs[:0]
        return objs[np.lexsort((objs, -self.retained[objs]))]

    def subtree(self, obj: int) -> np.ndarray:
        """``obj`` and every object it dominates."""
        first, kids = self.children_csr()
        return K.subtree(np.int32(obj), first, kids)


def compute(
    root_targets: np.ndarray,
    obj_first: np.ndarray,
    field_target: np.ndarray,
    in_first: np.ndarray,
    in_src: np.ndarray,
    allowed: np.ndarray,
    size: np.ndarray,
) -> Dominators:
    """The tree of a pointer graph given as CSR columns (the heap's, or any graph's: the
    tests give random ones): objects ``allowed`` reachable from ``root_targets``."""
    n = len(size)
    vertex, parent = (np.empty(n + 1, dtype=np.int32) for _ in range(2))
    seen = _seen_bits(allowed)
    # 32-bit while every pointer's index fits: half the bytes the walk waits on
    wide = np.int32 if len(field_target) < 2**31 else np.int64
    # the walk's, the semidominators' and the weights' temporaries, one pass after another
    walk_specs = _walk_specs(n, len(field_target), wide)
    semi_specs = _semidominator_specs(n + 1, len(in_src))
    weight_specs: list[scratch.Spec] = [((n + 1, 2), np.int64)]
    room = scratch.Scratch(max(map(scratch.bytes_for, (walk_specs, semi_specs, weight_specs))))
    stack, cursor, root_lists, pointers = pointer_lists(room, n, obj_first, field_target,
                                                        root_targets, wide)  # fmt: skip
    count = K.depth_first(root_targets, root_lists, pointers, seen, vertex, parent, stack,
                          cursor)  # fmt: skip
    del seen, stack, cursor, root_lists, pointers
    number = np.full(n, K.UNREACHED, dtype=np.int32)  # (made now: not beside the walk's)
    number_vertices(vertex, count, number)
    targets = root_targets[root_targets >= 0]
    parent[number[targets[allowed[targets]]]] = 0  # the virtual root points at them
    with ThreadPoolExecutor(1) as helper:  # the passes that need not wait, on the other core
        later, span, link = room.carve(_semidominator_specs(count, len(in_src)))
        semidominators = semidominators_ahead(helper, count, vertex, parent, number, in_first,
                                              in_src, later, span, link)  # fmt: skip
        idom_by_number = semidominators()
        del semidominators, later, span, link
        (acc,) = room.carve([((count, 2), np.int64)])
        weighed = helper.submit(K.weights, count, vertex, size, acc)
        K.nearest_common_ancestors(count, parent, idom_by_number)
        weighed.result()
        live_bytes, live_objects = K.fold(count, vertex, idom_by_number, acc)
        del vertex, parent, idom_by_number
    retained = np.empty(n, dtype=np.int64)
    retained_objects = np.empty(n, dtype=np.int32)
    idom = np.empty(n, dtype=np.int32)
    in_halves(0, n, len(in_src) >= SPLIT_MIN,
              lambda lo, hi: K.by_object(lo, hi, number, acc, UNREACHED, retained,
                                         retained_objects, idom))  # fmt: skip
    return Dominators(idom, retained, retained_objects, int(live_bytes), int(live_objects))


def _walk_specs(n: int, pointers: int, wide: type) -> list[scratch.Spec]:
    """The depth-first walk's temporaries, in the room's order: each object's list start
    (later the path's numbers), the path's next pointers, and the pointer lists (at most
    one row per pointer; see K.depth_first)."""
    return [(n + 1, wide), (n + 1, wide), ((pointers, 2), wide)]


def pointer_lists(room: scratch.Scratch, n: int, obj_first: np.ndarray,
                  field_target: np.ndarray, root_targets: np.ndarray,
                  wide: type) -> tuple[np.ndarray, ...]:  # fmt: skip
    """The walk's arrays, carved from ``room`` (whose untouched end costs no memory) as
    _walk_specs orders them: (the path's numbers, which first hold the objects' list
    starts; the path's next pointers; the root targets' list starts; the lists,
    K.fill_lists'). Counted and filled in halves on two threads for a large heap."""
    specs = _walk_specs(n, len(field_target), wide)
    lists = room.carve(specs[:1])[0][:n]
    big = len(field_target) >= SPLIT_MIN
    in_halves(0, n, big, lambda lo, hi: K.count_pointers(obj_first, field_target, lo, hi, lists))
    total = K.list_starts(lists)
    stack, cursor, pointers = room.carve([*specs[:2], ((total, 2), wide)])  # (stack: lists')
    in_halves(0, n, big, lambda lo, hi: K.fill_lists(obj_first, field_target, lo, hi, lists,
                                                     pointers))  # fmt: skip
    inside = (root_targets >= 0) & (root_targets < n)
    root_lists: np.ndarray = np.full(len(root_targets), -1, dtype=wide)
    root_lists[inside] = lists[root_targets[inside]]
    return stack, cursor, root_lists, pointers


def _semidominator_specs(count: int, owners: int) -> list[scratch.Spec]:
    """SEMI-NCA's first pass's temporaries: ``later``, ``span`` and ``link`` (see
    semidominators_ahead)."""
    wide = np.int32 if owners < 2**31 else np.int64
    return [(owners, np.int32), ((count, 2), wide), ((count, 2), np.int32)]


def semidominators_ahead(helper: ThreadPoolExecutor, count: int, vertex: np.ndarray,
                         parent: np.ndarray, number: np.ndarray, in_first: np.ndarray,
                         in_src: np.ndarray, later: np.ndarray, span: np.ndarray,
                         link: np.ndarray) -> Callable[[], np.ndarray]:  # fmt: skip
    """Starts making the input of SEMI-NCA's first pass on ``helper`` (each vertex's owners
    numbered after it, K.later_owners, into ``later`` and ``span``) in blocks of vertices,
    highest numbers first; returns the function that works out every vertex's
    semidominator (by number) as the blocks come (K.semidominators, with ``link``): the two
    passes wait on memory, each on its core. (The three arrays: _semidominator_specs.)"""
    semi = np.zeros(count, dtype=np.int32)
    blocks = 8 if len(in_src) >= SPLIT_MIN else 1
    bounds = np.linspace(count, 1, blocks + 1).astype(np.int64).tolist()
    if blocks > 1:  # a small first block: the semidominators wait for it alone
        bounds.insert(1, count - (count - 1) // 64)
    end = [len(in_src)]

    def make(hi: int, lo: int) -> None:  # one thread: each block goes on where the last ended
        end[0] = K.later_owners(lo, hi, end[0], count, vertex, parent, number, in_first, in_src,
                                later, span, semi)  # fmt: skip

    made = [helper.submit(make, hi, lo) for hi, lo in pairwise(bounds)]

    def semidominators() -> np.ndarray:
        link[:, 0] = parent[:count]
        link[:, 1] = np.arange(count, dtype=np.int32)
        for block, (hi, lo) in zip(made, pairwise(bounds), strict=True):
            block.result()
            K.semidominators(lo, hi, span, later, semi, link)
        return semi

    return semidominators


def number_vertices(vertex: np.ndarray, count: int, number: np.ndarray) -> None:
    """``number[vertex[w]] = w`` for the vertices but the root (random writes that
    K.scatter_numbers makes without the GIL: in halves on two threads)."""
    in_halves(1, count, count >= SPLIT_MIN,
              lambda lo, hi: K.scatter_numbers(vertex, lo, hi, number))  # fmt: skip


def in_halves(lo: int, hi: int, big: bool, work: Callable[[int, int], object]) -> None:
    """``work`` over ``lo`` to ``hi - 1``: in two halves side by side when ``big``."""
    if not big:
        work(lo, hi)
        return
    mid = (lo + hi) // 2
    side_by_side(lambda: work(lo, mid), lambda: work(mid, hi))


def of_heap(heap: Heap) -> Dominators:
    """The heap's tree: roots as for anchors, phantoms never entered."""
    return compute(heap.root_target, heap.cols.obj_first, heap.field_target, heap.in_first,
                   heap.in_src, ~heap.phantom, heap.size)  # fmt: skip


_trees: weakref.WeakKeyDictionary[Heap, Dominators] = weakref.WeakKeyDictionary()
_locks: weakref.WeakKeyDictionary[Heap, threading.Lock] = weakref.WeakKeyDictionary()
_locks_lock = threading.Lock()


def _lock_of(heap: Heap) -> threading.Lock:
    """One lock per heap: a dump's tree being computed never holds up another's."""
    with _locks_lock:
        return _locks.setdefault(heap, threading.Lock())


def dominators(heap: Heap) -> Dominators:
    """The heap's tree: computed once per heap, from the saved index when it has it, and
    saved into it otherwise (when there is one)."""
    with _lock_of(heap):
        tree = _trees.get(heap)
        if tree is None:
            tree = _load(heap)
            if tree is None:
                tree = of_heap(heap)
                _save(heap, tree)
            _trees[heap] = tree
        return tree


def _load(heap: Heap) -> Dominators | None:
    """The tree from the saved index; a tree that does not fit the heap is computed again."""
    arrays = _read_saved(heap, SAVED)
    if arrays is None:
        return None
    live = arrays["dom_live"]
    if live.shape != (2,):
        return None
    tree = Dominators(arrays["dom_idom"], arrays["dom_retained"],
                      arrays["dom_retained_objects"], int(live[0]), int(live[1]))  # fmt: skip
    return tree if _fits(heap, tree) else None


def _read_saved(heap: Heap, names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """Arrays saved beside the index's own (listed in meta.json's ``extra`` with dtype,
    shape and checksum, read and checked as the index's own are); None when not all are
    there or the index is of another dump."""
    place = heap.index_place
    if place is None:
        return None
    try:
        meta = index._read_meta(place)
        extra = meta.get("extra", {})
        if meta.get("key") != index.dump_key(heap.dump) or not set(names) <= set(extra):
            return None
        return {name: index._read_npy(place, name, extra[name]) for name in names}
    except (OSError, ValueError, index.BadIndex):
        return None


def _fits(heap: Heap, tree: Dominators) -> bool:
    """Shapes and types as computed, every dominator an object of the heap (compiled code
    indexes with them) and no size or count negative or past the live heap's."""
    n = heap.n_objects
    kinds = ((tree.idom, np.int32), (tree.retained, np.int64), (tree.retained_objects, np.int32))
    if any(a.shape != (n,) or a.dtype != k for a, k in kinds):
        return False
    if tree.live_bytes < 0 or tree.live_objects < 0:
        return False
    return not n or (
        int(tree.idom.min()) >= UNREACHED
        and int(tree.idom.max()) < n
        and 0 <= int(tree.retained.min()) <= int(tree.retained.max()) <= tree.live_bytes
        and 0 <= int(tree.retained_objects.min()) <= int(tree.retained_objects.max())
        and int(tree.retained_objects.max()) <= tree.live_objects
    )


def _save(heap: Heap, tree: Dominators) -> None:
    """Into the saved index, beside its arrays (best effort, like the index itself)."""
    live = np.array([tree.live_bytes, tree.live_objects], dtype=np.int64)
    arrays = (tree.idom, tree.retained, tree.retained_objects, live)
    _save_arrays(heap, dict(zip(SAVED, arrays, strict=True)))


def _save_arrays(heap: Heap, arrays: dict[str, np.ndarray]) -> None:
    """``arrays`` into the saved index's folder, listed in meta.json's ``extra``."""
    place = heap.index_place
    if place is None:
        return
    try:
        meta = index._read_meta(place)
        if meta.get("key") != index.dump_key(heap.dump):
            return
        extra = meta.setdefault("extra", {})
        for name, array in arrays.items():
            array = np.ascontiguousarray(array)
            np.save(place / f".{name}.npy", array)
            os.replace(place / f".{name}.npy", place / f"{name}.npy")
            extra[name] = {"dtype": array.dtype.str, "shape": list(array.shape),
                           "checksum": index.checksum(array)}  # fmt: skip
        (place / ".meta.json").write_text(json.dumps(meta))
        os.replace(place / ".meta.json", place / "meta.json")
    except (OSError, ValueError, index.BadIndex):
        return


def tree_at_hand(heap: Heap) -> Dominators | None:
    """The tree if this process has it or the saved index holds it (never computed here)."""
    with _lock_of(heap):
        tree = _trees.get(heap)
        if tree is None:
            tree = _load(heap)
            if tree is not None:
                _trees[heap] = tree
        return tree


def tree_soon(heap: Heap) -> Dominators | None:
    """The tree when this process has it; else None, having started to compute it (or to
    read it from the saved index) on a thread: for answers that must not wait (a hover)."""
    tree = _trees.get(heap)
    if tree is None and not _lock_of(heap).locked():
        threading.Thread(target=_dominators_quietly, args=(heap,), daemon=True).start()
    return tree


def _dominators_quietly(heap: Heap) -> None:
    """dominators(heap) on a thread of its own: what it raises is left to the call that
    needs the tree (it works it out again, in the open), not printed as a traceback."""
    with contextlib.suppress(Exception):
        dominators(heap)


def retained_of(heap: Heap, obj: int) -> tuple[int, int, int] | None:
    """(bytes, objects) that ``obj`` retains and the live heap's bytes; None when no root
    reaches it (or it is a phantom). From the tree when at hand, else by one search of the
    heap without ``obj`` (an anchors question need not pay for the whole tree)."""
    tree = tree_at_hand(heap)
    if tree is not None:
        if not tree.reached(obj):
            return None
        return int(tree.retained[obj]), int(tree.retained_objects[obj]), tree.live_bytes
    if heap.phantom[obj]:
        return None
    nbytes, count, live = K.retained_by_removal(
        np.int32(obj), heap.root_target, heap.cols.obj_first, heap.field_target,
        _seen_bits(~heap.phantom), heap.size, np.empty(heap.n_objects, dtype=np.int32),
    )  # fmt: skip
    return None if count < 0 else (int(nbytes), int(count), int(live))


def retained_by_type(tree: Dominators, label_of: np.ndarray, n_labels: int) -> np.ndarray:
    """Per label (type): the bytes retained by its objects that no object of the same label
    dominates, so nested objects of one type are counted once (as MAT does)."""
    first, kids = tree.children_csr()
    outermost = K.outermost_of_type(label_of, first, kids, n_labels)
    objs = np.flatnonzero(outermost)
    weights = tree.retained[objs].astype(np.float64)
    return np.bincount(label_of[objs], weights=weights, minlength=n_labels).astype(np.int64)


def retained_per_type(heap: Heap, typed: ObjectTypes) -> np.ndarray:
    """:func:`retained_by_type` over the heap's tree, per entry of ``typed.name_index``;
    saved in the index for these type names (a reopen's histogram then walks no tree)."""
    label_of, labels = typed.name_index(heap)
    names_key = hashlib.sha256("\0".join(labels).encode()).digest()
    key_words = np.frombuffer(names_key, dtype=np.uint64)
    saved = _read_saved(heap, BY_TYPE)
    if saved is not None:
        by_type, words = saved[BY_TYPE[0]], saved[BY_TYPE[1]]
        fits = by_type.shape == (len(labels),) and by_type.dtype == np.int64
        if fits and np.array_equal(words, key_words) and (not len(by_type) or by_type.min() >= 0):
            return by_type
    by_type = retained_by_type(dominators(heap), label_of, len(labels))
    with _lock_of(heap):  # meta.json is rewritten whole: one writer at a time
        _save_arrays(heap, dict(zip(BY_TYPE, (by_type, key_words), strict=True)))
    return by_type


def nearest_root_target(heap: Heap, obj: int) -> int:
    """The root target nearest ``obj`` up its owners (``obj`` itself when a root points
    at it); -1 when no root reaches it."""
    mask = np.zeros(heap.n_objects, dtype=np.bool_)
    mask[heap.root_target] = True
    return int(K.nearest_root_above(np.int32(obj), heap.in_first, heap.in_src, ~heap.phantom,
                                    mask))  # fmt: skip
