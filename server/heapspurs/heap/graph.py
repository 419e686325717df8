"""Compiled graph kernels over the pointer CSR. Every traversal is iterative (frontier
arrays), so a million-deep linked list is as easy as a wide tree."""

import os
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from llvmlite.binding import llvm_version_info
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

PAGE_SHIFT = 13  # 8 KB, Go's page size; grown when the heap is sparse
# LLVM names its prefetch by pointer type: "p0" for the opaque pointers of LLVM >= 15
PREFETCH_INTRINSIC = "llvm.prefetch.p0" if llvm_version_info[0] >= 15 else "llvm.prefetch.p0i8"


def _prefetch(typingctx, array, index):
    """``prefetch(array, index)``: start loading ``array[index]`` into the cache (LLVM's
    prefetch; no other effect).

    A BFS over millions of objects waits on memory: asking a few steps ahead lets the
    misses of the coming objects overlap the work on this one."""

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        ary = context.make_array(array_type)(context, builder, args[0])
        index = context.cast(builder, args[1], signature.args[1], types.intp)
        ptr = cgutils.get_item_pointer(context, builder, array_type, ary, [index], wraparound=False)
        byte_ptr, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32]),
            PREFETCH_INTRINSIC,
        )
        # read, high temporal locality, data cache
        builder.call(fn, [builder.bitcast(ptr, byte_ptr), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


prefetch: Any = intrinsic(_prefetch)  # Any: mypy cannot see numba's call signature
# how far ahead a pass of independent random accesses asks for its lines: the processor
# keeps about ten misses in flight by itself, asking ahead keeps more
RANDOM_AHEAD = 32


# Guards for values read from a file. A saved index is validated before use, but the
# kernels do not rely on that alone: an object number, a CSR bound or a table entry out of
# range is skipped (a wrong answer at worst), never used as an index. Object numbers are
# checked with ``0 <= v < n`` written out: knowing ``v >= 0``, LLVM drops the wraparound of
# the accesses it guards. (One unsigned compare was 7% slower on a 5M-object walk; the same
# test in an inlined helper function 25% slower.)
@numba.njit(cache=True, nogil=True)
def below(values, n):
    """``values`` with every value ``>= n`` made -1: the array itself when none is, else a
    copy. One pass, for the hot walks that test only ``t >= 0`` per pointer (testing
    ``t < n`` too cost them 10-20%; this pass ~1%)."""
    past = False
    for i in range(values.shape[0]):  # no early exit: vectorized, 6x faster
        past |= values[i] >= n
    if not past:
        return values
    out = values.copy()
    for i in range(out.shape[0]):
        if out[i] >= n:
            out[i] = -1
    return out


@numba.njit(cache=True, nogil=True, inline="always")
def clamped(start, end, total):
    """(start, end), ``0 <= start <= end``, and ``end <= total`` unless the range is
    empty: a damaged range gives fewer entries, never an index outside (nor a ``range``
    whose length overflows)."""
    start = max(start, 0)
    return start, max(min(end, total), start)


@numba.njit(cache=True, nogil=True, inline="always")
def csr_span(first, o, total):
    """``first[o]:first[o + 1]`` clamped (``o + 1 < len(first)`` is the caller's)."""
    return clamped(first[o], first[o + 1], total)


@numba.njit(cache=True, nogil=True)
def page_table(sorted_addr, sorted_end, n_objects):
    """An index of the address span by page: for page ``p``, ``table[p]`` holds the first
    object (address order) ending after the page's start, the first object's address and,
    when the page's objects all have one size and sit back to back (a Go span's slots,
    none free), that size and the last of them; else 0. Returns (table [n_pages + 1, 4]
    uint64, shift)."""
    if n_objects == 0:
        return np.zeros((2, 4), dtype=np.uint64), PAGE_SHIFT
    lo = sorted_addr[0]
    span = sorted_end[n_objects - 1] - lo
    shift = PAGE_SHIFT
    while shift < 63 and (span >> np.uint64(shift)) > np.uint64(4 * n_objects + 1024):
        shift += 1
    n_pages = np.int64(span >> np.uint64(shift)) + 2
    table = np.zeros((n_pages + 1, 4), dtype=np.uint64)
    j = 0
    for p in range(n_pages):
        page_start = lo + (np.uint64(p) << np.uint64(shift))
        while j < n_objects and sorted_end[j] <= page_start:
            j += 1
        table[p, 0] = j
    table[n_pages, 0] = n_objects
    for p in range(n_pages):
        j0, j1 = np.int64(table[p, 0]), np.int64(table[p + 1, 0])
        if j0 >= n_objects:
            continue
        page_end = lo + (np.uint64(p + 1) << np.uint64(shift))
        if j1 >= n_objects or sorted_addr[j1] >= page_end:
            j1 -= 1  # the last object starting in this page
        table[p, 1] = sorted_addr[j0]
        size = sorted_end[j0] - sorted_addr[j0]
        uniform = size > 0
        for j in range(j0 + 1, j1 + 1):
            if sorted_addr[j] != sorted_end[j - 1] or sorted_end[j] - sorted_addr[j] != size:
                uniform = False
                break
        if uniform:
            table[p, 2] = size
            table[p, 3] = j1
    return table, shift


@numba.njit(cache=True, nogil=True)
def resolve(values, sorted_addr, sorted_end, order, table, shift, out):
    """Object index containing each value (-1 when it points into no object), into ``out``.

    A page of equal, back-to-back slots answers by arithmetic; other pages by a binary
    search among their few objects. Either way a lookup touches few cache lines. The
    positions in address order are found first and mapped to object indexes in a second
    pass that prefetches ahead (2.5x faster than one pass on millions of pointers).
    """
    n = min(sorted_addr.shape[0], sorted_end.shape[0])
    if n == 0 or not 0 <= shift < 64 or table.shape[0] < 2:
        out[:] = -1
        return out
    lo_addr = sorted_addr[0]
    hi_addr = sorted_end[n - 1]
    for i in range(values.shape[0]):
        v = values[i]
        if v < lo_addr or v >= hi_addr:
            out[i] = -1
            continue
        page = (v - lo_addr) >> np.uint64(shift)
        if page >= np.uint64(table.shape[0] - 1):  # only a damaged table
            out[i] = -1
            continue
        p = np.int64(page)
        # the last object starting <= v is in [lo, hi); min on unsigned: a huge entry is n
        lo = np.int64(min(table[p, 0], np.uint64(n)))
        hi = np.int64(min(table[p + 1, 0], np.uint64(n - 1))) + 1
        size = table[p, 2]
        if size != 0 and v >= table[p, 1]:
            j = lo + np.int64((v - table[p, 1]) // size)
            if lo <= j <= np.int64(table[p, 3]) and j < n:  # in the run of equal slots
                out[i] = j
                continue
        while lo < hi:
            mid = (lo + hi) >> 1
            if sorted_addr[mid] <= v:
                lo = mid + 1
            else:
                hi = mid
        j = lo - 1
        out[i] = j if j >= 0 and v < sorted_end[j] else -1
    m = out.shape[0]
    for i in range(m):  # address-order positions -> object indexes
        ahead = out[min(i + 16, m - 1)]
        if ahead >= 0:
            prefetch(order, ahead)
        if out[i] >= 0:
            o = order[out[i]] if out[i] < order.shape[0] else -1
            out[i] = o if 0 <= o < n else -1
    return out


@numba.njit(cache=True, nogil=True)
def owned_by(objs, in_first, in_src, owners):
    """For each of ``objs``, whether some object in ``owners`` (bool mask) points at it."""
    out = np.zeros(objs.shape[0], dtype=np.bool_)
    for i in range(objs.shape[0]):
        o = objs[i]
        if not 0 <= o < in_first.shape[0] - 1:
            continue
        lo, hi = csr_span(in_first, o, in_src.shape[0])
        for j in range(lo, hi):
            s = in_src[j]
            if 0 <= s < owners.shape[0] and owners[s]:
                out[i] = True
                break
    return out


def reverse_csr(obj_first, targets, n_objects, parts=None):
    """Owners: objects pointing at ``t`` are ``in_src[in_first[t]:in_first[t+1]]`` (once per
    pointer field, so an object pointing twice is listed twice; owners in object order).
    Returns (in_first int64, in_src int32).

    One thread per core, each over its share of the pointing objects: it counts their
    pointers per target, then places them after the slots of the shares before it. Large
    arrays are made by numpy, not in the kernels: numpy asks for huge pages, which fault
    in 512 times less often (page faults are slow on virtual machines).
    """
    parts = parts or min(os.cpu_count() or 1, 4)
    objects = np.linspace(0, n_objects, parts + 1).astype(np.int64)
    shares = list(pairwise(objects.tolist()))
    # 32-bit counters while they can hold every pointer: half the memory the random
    # increments and writes wait on (25% faster on 20M pointers)
    wide = np.int32 if len(targets) < 2**31 else np.int64
    cursors = np.zeros((parts, n_objects), dtype=wide)
    in_first = np.empty(n_objects + 1, dtype=np.int64)
    with ThreadPoolExecutor(parts) as pool:  # the kernels release the GIL
        list(pool.map(lambda p: _count_owners(obj_first, targets, *shares[p], cursors[p]),
                      range(parts)))  # fmt: skip
        in_src = np.empty(_first_slots(cursors, in_first), dtype=np.int32)
        list(pool.map(lambda p: _place_owners(obj_first, targets, *shares[p], cursors[p], in_src),
                      range(parts)))  # fmt: skip
    return in_first, in_src


@numba.njit(cache=True, nogil=True)
def _count_owners(obj_first, targets, first_obj, end_obj, counts):
    """(No guards here and in _place_owners: only ever given the walker's ``obj_first`` and
    ``resolve``'s targets, in range by construction; a saved index holds their result.)"""
    for k in range(obj_first[first_obj], obj_first[end_obj]):
        t = targets[k]
        if t >= 0:
            counts[t] += 1


@numba.njit(cache=True, nogil=True)
def _first_slots(counts, in_first):
    """Each target's first slot into ``in_first``; each share's counts become its first slot
    for the target. Returns the total."""
    total = 0
    for t in range(counts.shape[1]):
        in_first[t] = total
        for p in range(counts.shape[0]):
            c = counts[p, t]
            counts[p, t] = total
            total += c
    in_first[counts.shape[1]] = total
    return total


@numba.njit(cache=True, nogil=True)
def _place_owners(obj_first, targets, first_obj, end_obj, cursor, in_src):
    for i in range(first_obj, end_obj):
        for k in range(obj_first[i], obj_first[i + 1]):
            t = targets[k]
            if t >= 0:
                c = cursor[t]
                in_src[c] = i
                cursor[t] = c + 1


@numba.njit(cache=True, nogil=True)
def reach_forward(starts, obj_first, field_target, blocked):
    """Objects reachable from ``starts`` along pointers, never entering ``blocked`` (-1: none)."""
    n = obj_first.shape[0] - 1
    seen = np.zeros(n, dtype=np.bool_)
    stack = np.empty(n, dtype=np.int32)
    top = 0
    for s in starts:
        if 0 <= s < n and s != blocked and not seen[s]:
            seen[s] = True
            stack[top] = s
            top += 1
    while top > 0:
        top -= 1
        o = stack[top]
        lo, hi = csr_span(obj_first, o, field_target.shape[0])
        for k in range(lo, hi):
            t = field_target[k]
            if 0 <= t < n and t != blocked and not seen[t]:
                seen[t] = True
                stack[top] = t
                top += 1
    return seen


@numba.njit(cache=True, nogil=True)
def _seen_bits(allowed):
    """A bit per object, set for the objects a search must not enter: they count as seen,
    so a search tests one bit per pointer. Bits, not a byte array: the set stays in the
    cache, so only the objects visited wait on memory, not every pointer looked at (2x
    faster on 5M objects)."""
    n = allowed.shape[0]
    seen = np.zeros((n + 63) >> 6, dtype=np.uint64)
    for i in range(n):
        if not allowed[i]:
            seen[i >> 6] |= np.uint64(1) << np.uint64(i & 63)
    return seen


@numba.njit(cache=True, nogil=True, inline="always")
def _first_visit(seen, o):
    """Mark ``o`` seen; whether it was not already."""
    bit = np.uint64(1) << np.uint64(o & 63)
    if seen[o >> 6] & bit:
        return False
    seen[o >> 6] |= bit
    return True


def owners_bfs(target, in_first, in_src, allowed, max_depth):
    """Breadth-first over owners from ``target``, only through ``allowed`` objects.

    Returns (order, first_child, level_first): the objects found from ``order[i]`` (owners
    of it met there first) are ``order[first_child[i]:first_child[i + 1]]``; the objects
    ``d`` steps from the target start at ``order[level_first[d]]``, and the last entry is
    ``len(order)``. ``max_depth`` < 0: unlimited. The arrays are views of ones sized for
    the whole heap; the pages past what a search fills are never touched.
    """
    n = in_first.shape[0] - 1
    order, first_child, level_first = (np.empty(n + 1, dtype=np.int32) for _ in range(3))
    found, levels = _owners_bfs(target, in_first, in_src, allowed, max_depth, order,
                                first_child, level_first)  # fmt: skip
    return order[:found], first_child[: found + 1], level_first[: levels + 1]


@numba.njit(cache=True, nogil=True)
def _owners_bfs(target, in_first, in_src, allowed, max_depth, order, first_child, level_first):
    """Returns (objects found, levels); see _seen_bits."""
    n = min(allowed.shape[0], in_first.shape[0] - 1)
    if not 0 <= target < n:
        first_child[0], level_first[0] = 0, 0
        return 0, 0
    seen = _seen_bits(allowed)
    _first_visit(seen, target)
    order[0] = target
    level_first[0] = 0
    head, tail, level, level_end = 0, 1, 0, 1
    while head < tail:
        if head == level_end:
            level += 1
            level_first[level] = head
            level_end = tail
        o = order[head]
        first_child[head] = tail
        prefetch(in_first, order[min(head + 16, tail - 1)])  # ~30% faster on 5M objects
        prefetch(in_src, in_first[order[min(head + 4, tail - 1)]])
        head += 1
        if max_depth >= 0 and level >= max_depth:
            continue
        lo, hi = csr_span(in_first, o, in_src.shape[0])
        for j in range(lo, hi):
            s = in_src[j]
            if 0 <= s < n and _first_visit(seen, s):
                order[tail] = s
                tail += 1
    first_child[tail] = tail
    level_first[level + 1] = tail
    return tail, level + 1


def positions_in(order, objs, n_objects):
    """Where each of ``objs`` sits in ``order`` (-1: absent): one pass over ``order``."""
    return _positions_in(order, objs, np.full(n_objects, -1, dtype=np.int32))


@numba.njit(cache=True, nogil=True)
def _positions_in(order, objs, slot):
    """(Objects out of range, a root's -1 among them, are absent; ``order`` is owners_bfs's,
    in range by construction.)"""
    n = slot.shape[0]
    for j in range(objs.shape[0]):
        if 0 <= objs[j] < n:
            slot[objs[j]] = j  # the last of equal objects answers for all of them
    found = np.full(objs.shape[0], -1, dtype=np.int32)
    for i in range(order.shape[0]):
        j = slot[order[i]]
        if j >= 0:
            found[j] = i
    out = np.full(objs.shape[0], -1, dtype=np.int32)
    for j in range(objs.shape[0]):
        if 0 <= objs[j] < n:
            out[j] = found[slot[objs[j]]]
    return out


@numba.njit(cache=True, nogil=True)
def chain_down(position, order, first_child):
    """The objects from ``order[position]`` down to owners_bfs's target, each pointing at
    the next: a shortest chain."""
    # non-decreasing, so the object ``order[j]`` was found from is the last i with
    # found_at[i] <= j
    found_at = first_child[:-1]
    n = 1
    p = position
    while p > 0 and n <= order.shape[0]:  # bounded: a chain visits each object once
        p = np.searchsorted(found_at, p, side="right") - 1
        n += 1
    out = np.empty(n, dtype=np.int32)
    p = position
    for i in range(n):
        out[i] = order[p]
        p = np.searchsorted(found_at, p, side="right") - 1
    return out


@numba.njit(cache=True, nogil=True)
def preorder_next(order, first_child, stack, top, nodes, levels, points_to):
    """Go on with a depth-first preorder of a BFS owner tree (``order``/``first_child``
    from owners_bfs), children in BFS order: up to ``len(nodes)`` more nodes, each with its
    level and the object it points to one level down (-1 for the target). ``stack`` rows
    (BFS position, level, object pointed to) and ``top`` carry the walk from call to call;
    it starts as one row ``(0, 0, -1)``. Returns (nodes written, new top)."""
    out = 0
    while top > 0 and out < nodes.shape[0]:
        top -= 1
        i, level, down = stack[top, 0], stack[top, 1], stack[top, 2]
        nodes[out], levels[out], points_to[out] = order[i], level, down
        out += 1
        for c in range(first_child[i + 1] - 1, first_child[i] - 1, -1):  # first child on top
            stack[top, 0], stack[top, 1], stack[top, 2] = c, level + 1, order[i]
            top += 1
    return out, top


@numba.njit(cache=True, nogil=True)
def pointing_fields(objs, targets, obj_first, field_target):
    """For each object, its first pointer field pointing into ``targets[i]`` (-1: none,
    or no target)."""
    fields = np.full(objs.shape[0], -1, dtype=np.int64)
    for i in range(objs.shape[0]):
        o = objs[i]
        if targets[i] < 0 or not 0 <= o < obj_first.shape[0] - 1:
            continue
        lo, hi = csr_span(obj_first, o, field_target.shape[0])
        for k in range(lo, hi):
            if field_target[k] == targets[i]:
                fields[i] = k
                break
    return fields


UNREACHED = -2  # roots_bfs's parent of an object no root reaches (-1: a root's own object)


def roots_bfs(root_target, obj_first, field_target, allowed):
    """Breadth-first from every root at once: for each object, the object it is reached
    from on a shortest chain from the roots (-1 for a root's own object, UNREACHED). One
    pass over the heap; then any object's nearest anchor is a walk up these links. Only
    the links are kept (the chain's length and root follow from the walk): one random write
    per object found, into an array made by numpy (huge pages, see reverse_csr)."""
    n = obj_first.shape[0] - 1
    parent = np.full(n, UNREACHED, dtype=np.int32)
    from_roots(root_target, obj_first, field_target, allowed, parent, np.empty(0, np.int32),
               np.empty(n, np.int32))  # fmt: skip
    return parent


@numba.njit(cache=True, nogil=True)
def from_roots(root_target, obj_first, field_target, allowed, parent, level, queue):
    """Breadth-first from every root at once over the ``allowed`` objects: ``parent[o]``
    gets the object ``o`` is first reached from (-1 for a root's own object) and
    ``level[o]`` the fewest pointers from a root to it (0 for a root's own); an empty
    ``parent`` or ``level`` is not written. The queue holds one level after another (a
    level ends where the queue stood when the one before it was done); seen objects are
    bits (_seen_bits); the coming objects are asked for ahead."""
    seen = _seen_bits(allowed)
    n = min(allowed.shape[0], obj_first.shape[0] - 1, queue.shape[0])
    field_target = below(field_target, n)
    total = field_target.shape[0]
    links, levels = parent.shape[0] >= n, level.shape[0] >= n
    tail = 0
    for r in range(root_target.shape[0]):
        t = root_target[r]
        if 0 <= t < n and _first_visit(seen, t):
            if links:
                parent[t] = -1
            if levels:
                level[t] = 0
            queue[tail] = t
            tail += 1
    head, level_end, depth = 0, tail, 0
    while head < tail:
        if head == level_end:
            level_end, depth = tail, depth + 1
        o = queue[head]
        prefetch(obj_first, queue[min(head + 16, tail - 1)])
        prefetch(field_target, obj_first[queue[min(head + 4, tail - 1)]])
        head += 1
        lo, hi = csr_span(obj_first, o, total)
        for k in range(lo, hi):
            t = field_target[k]
            if t >= 0 and _first_visit(seen, t):
                if links:
                    parent[t] = o
                if levels:
                    level[t] = depth + 1
                queue[tail] = t
                tail += 1


@numba.njit(cache=True, nogil=True)
def path_down(obj, parent):
    """The chain from the nearest root's object down to ``obj`` along roots_bfs's links
    (empty when no root reaches it)."""
    m = parent.shape[0]
    if not 0 <= obj < m or parent[obj] == UNREACHED:
        return np.empty(0, dtype=np.int32)
    n = 1
    o = obj
    while 0 <= parent[o] < m and n <= m:  # at most every object: no loop on a cycle
        o = parent[o]
        n += 1
    out = np.empty(n, dtype=np.int32)
    o = obj
    for i in range(n - 1, -1, -1):
        out[i] = o
        o = parent[o]
    return out
