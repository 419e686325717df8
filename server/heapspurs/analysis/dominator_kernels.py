"""Compiled kernels of the dominator tree (see :mod:`.dominators`): SEMI-NCA (Georgiadis'
semidominators, then nearest common ancestors) on flat arrays, every loop iterative.

Vertices are numbered in depth-first preorder from a virtual root (number 0) that points at
every root target: the arrays the algorithm walks (parent, semidominator, label, ancestor)
are read in that order, which is where the heap's memory locality is.
"""

from __future__ import annotations

import numba
import numpy as np

from ..heap.graph import RANDOM_AHEAD, _first_visit, below, clamped, csr_span, prefetch

UNREACHED = -1  # number of an object no root reaches (and of phantom records)


@numba.njit(cache=True, nogil=True)
def count_pointers(obj_first, field_target, lo, hi, lists):
    """``lists[o]`` = how many of object ``o``'s pointers are to objects (``0 <= target <
    len(lists)``), for ``o`` from ``lo`` to ``hi - 1``."""
    n, total = np.uint64(lists.shape[0]), field_target.shape[0]
    for o in range(lo, hi):
        a, b = csr_span(obj_first, o, total)
        c = np.int64(0)
        for k in range(a, b):
            c += np.uint64(field_target[k]) < n  # -1 and the like wrap past n
        lists[o] = c


@numba.njit(cache=True, nogil=True)
def list_starts(lists):
    """Counts (count_pointers') into where each object's list starts in the walk's
    pointer lists, -1 for an object that points at none; returns their total length."""
    at = 0
    for o in range(lists.shape[0]):
        c = lists[o]
        lists[o] = at if c > 0 else -1
        at += c
    return at


@numba.njit(cache=True, nogil=True)
def fill_lists(obj_first, field_target, lo, hi, lists, pointers):
    """The pointer lists of objects ``lo`` to ``hi - 1`` (see depth_first): ``pointers[j]``
    = (the target, where the target's own list starts, from ``lists``), the target
    complemented (``~target < 0``) at the end of each list."""
    n, total = np.uint64(lists.shape[0]), field_target.shape[0]
    for o in range(lo, hi):
        j = lists[o]
        if j < 0:
            continue
        a, b = csr_span(obj_first, o, total)
        last = j
        for k in range(a, b):
            ahead = np.uint64(field_target[min(k + RANDOM_AHEAD, total - 1)])
            if ahead < n:
                prefetch(lists, ahead)
            t = field_target[k]
            if np.uint64(t) < n:
                pointers[j, 0], pointers[j, 1] = t, lists[t]
                last = j
                j += 1
        pointers[last, 0] = ~pointers[last, 0]


@numba.njit(cache=True, nogil=True)
def depth_first(root_targets, root_lists, pointers, seen, vertex, parent, stack, cursor):
    """Number the objects reachable from the roots in depth-first preorder (1, 2, …; the
    virtual root is 0), never entering objects whose bit in ``seen`` is set (see
    graph._seen_bits; one bit per object stays in the cache where a byte or a number per
    object would not). Fills ``vertex`` (number → object; -1 for the root) and ``parent``
    (number → the number of its parent in the depth-first tree); the caller scatters the
    objects' numbers from ``vertex`` afterwards, off the walk's chain of cache misses.

    ``pointers`` (fill_lists') holds each object's pointers to objects in one run, each
    with where its target's run starts (``root_lists``: the root targets'; -1: none), so
    going down to an object waits on one cache miss, its run, and an object that points at
    nothing costs none. The path is kept in ``stack`` (numbers) and ``cursor`` (next
    pointers; as long as ``vertex``); an object whose last pointer is followed gives its
    place on the path to that target. Going back up, the pointers left to look at of the
    path's last four objects are asked for (5% faster). Returns how many numbers were
    given, the root's included. (Targets and starts out of range are skipped.)"""
    n = min(seen.shape[0] * 64, vertex.shape[0] - 1)
    total = pointers.shape[0]
    flat = pointers.reshape(pointers.size)
    vertex[0], parent[0] = -1, 0
    count = 1
    for r in range(root_targets.shape[0]):
        t = root_targets[r]
        if not 0 <= t < n or not _first_visit(seen, t):
            continue
        vertex[count], parent[count] = t, 0
        count += 1
        if not 0 <= root_lists[r] < total:
            continue
        stack[0], cursor[0] = count - 1, root_lists[r]
        top = 1
        while top > 0:
            k = cursor[top - 1]
            while True:
                c = pointers[k, 0]
                first = pointers[k, 1]
                k += 1
                last = c < 0 or k >= total
                if c < 0:
                    c = ~c
                if c < n and _first_visit(seen, c):
                    vertex[count], parent[count] = c, stack[top - 1]
                    count += 1
                    if 0 <= first < total:
                        if not last:
                            cursor[top - 1] = k
                            top += 1
                        stack[top - 1], cursor[top - 1] = count - 1, first
                        break
                if last:
                    top -= 1
                    for i in range(max(top - 4, 0), top):
                        prefetch(flat, 2 * cursor[i])
                    break
    return count


@numba.njit(cache=True, nogil=True)
def scatter_numbers(vertex, lo, hi, number):
    """``number[vertex[w]] = w`` for ``w`` from ``lo`` to ``hi - 1`` (objects out of range
    skipped)."""
    n = np.uint64(number.shape[0])
    for w in range(lo, hi):
        o = np.uint64(vertex[w])
        if o < n:
            number[o] = w


@numba.njit(cache=True, nogil=True)
def later_owners(lo, hi, pos, count, vertex, parent, number, in_first, in_src, later, span, semi):
    """For the vertices numbered ``lo`` to ``hi - 1``, the owners SEMI-NCA must evaluate:
    those numbered after the vertex, written downward from ``later[pos - 1]``, highest
    vertex first (``later[span[w, 0]:span[w, 1]]`` are ``w``'s). The owners numbered before
    ``w`` need no evaluation: ``semi[w]`` gets the smallest of them and ``parent[w]`` (where
    SEMI-NCA starts). Returns where the next vertices' owners end.

    Owners by object (``in_first``/``in_src``, the heap's) are read once here, in the order
    SEMI-NCA asks for them: it then reads its input in sequence, and this pass, whose reads
    do not depend on one another, runs beside it on another core (see
    dominators.semidominators_ahead).
    Values out of range are skipped, never used as indexes."""
    total = in_src.shape[0]
    n, m = np.uint64(in_first.shape[0] - 1), np.uint64(number.shape[0])
    for w in range(hi - 1, lo - 1, -1):
        ahead = np.uint64(vertex[max(w - 16, lo)])
        if ahead < n:
            prefetch(in_first, ahead)
        ahead = np.uint64(vertex[max(w - 8, lo)])
        if ahead < n:
            prefetch(in_src, in_first[ahead])
        ahead = np.uint64(vertex[max(w - 4, lo)])
        if ahead < n:
            a, b = csr_span(in_first, ahead, total)
            for j in range(a, b):
                if np.uint64(in_src[j]) < m:
                    prefetch(number, in_src[j])
        o, s, end = np.uint64(vertex[w]), parent[w], pos
        if o < n:
            a, b = csr_span(in_first, o, total)
            for j in range(a, b):
                x = np.uint64(in_src[j])  # -1 and the like wrap past m (see gather)
                v = number[x] if x < m else -1
                if w < v < count and pos > 0:
                    pos -= 1
                    later[pos] = v
                elif 0 <= v < s:
                    s = v
        span[w, 0], span[w, 1], semi[w] = pos, end, s
    return pos


LOOKAHEAD = 4  # levels of ancestors asked for ahead by semidominators, 3 vertices apart


@numba.njit(cache=True, nogil=True)
def semidominators(lo, hi, span, later, semi, link):
    """SEMI-NCA's first pass for the vertices numbered ``hi - 1`` down to ``lo`` (every
    higher number done before): each one's semidominator into ``semi``, from what
    later_owners left there and the evaluation of its later owners.

    ``link[v]`` is (v's ancestor in the forest of the vertices done, the smallest
    semidominator from v up to it, that ancestor excluded): both in one cache line, set to
    (parent, v) beforehand. An evaluation walks up to the forest's root halving the path
    (each vertex passed points to its grandparent): one pass, no stack, and 20% faster
    than compressing the whole path. The walks wait on memory, one row after another, so
    the rows they will read are asked for ahead, a level up every 3 vertices: the owners'
    rows of the vertex 12 below, their ancestors' for the vertex 9 below, and so on (the
    ancestors may change before the walk, a row asked for in vain costs little): 35%
    faster than asking for the owners' rows alone."""
    total, count = later.shape[0], link.shape[0]
    flat = link.reshape(link.size)
    for w in range(hi - 1, lo - 1, -1):
        for level in range(LOOKAHEAD):
            ahead = max(w - 3 * (LOOKAHEAD - level), lo)
            a, b = clamped(span[ahead, 0], span[ahead, 1], total)
            for j in range(a, b):
                v = later[j]
                if 0 <= v < count:
                    for _ in range(level):
                        v = link[v, 0]
                    prefetch(flat, 2 * v)
        s = semi[w]
        if s > 0:
            a, b = clamped(span[w, 0], span[w, 1], total)
            for j in range(a, b):
                v = later[j]
                if not w < v < count:
                    continue
                u = _evaluate(v, w + 1, link)
                if u < s:
                    s = u
                    if s == 0:  # none is smaller: the other owners need no evaluation
                        break
        link[w, 1] = s
        semi[w] = s


@numba.njit(cache=True, nogil=True, inline="always")
def _evaluate(v, done, link):
    """The smallest semidominator on the forest path from ``v`` up to its root (vertices
    numbered ``done`` and up are in the forest), halving the path on the way."""
    u = link[v, 1]
    a = link[v, 0]
    while a >= done:
        la = link[a, 1]
        u = min(u, la)
        aa = link[a, 0]
        if aa < done:
            break
        if la < link[v, 1]:
            link[v, 1] = la
        link[v, 0] = aa
        v = aa
        u = min(u, link[v, 1])
        a = link[v, 0]
    return u


@numba.njit(cache=True, nogil=True)
def nearest_common_ancestors(count, parent, idom):
    """SEMI-NCA's second pass: ``idom`` holds semidominators and becomes the immediate
    dominators, each the nearest ancestor of the vertex's parent not above its
    semidominator (in preorder, so the ancestors' are final). ``idom[0] = 0``."""
    idom[0] = 0
    for w in range(1, count):
        d, s = parent[w], idom[w]
        while d > s:
            d = idom[d]
        idom[w] = d


OBJECTS = np.int64(0xFFFFFFFF)  # the low half of acc[w, 1]; the high half: the dominator


@numba.njit(cache=True, nogil=True)
def weights(count, vertex, size, acc):
    """``acc[w]`` = (the size of vertex ``w``'s object, 1); the virtual root's (0, 0)."""
    n = np.uint64(size.shape[0])
    acc[0, 0] = acc[0, 1] = 0
    for w in range(1, count):
        ahead = np.uint64(vertex[min(w + RANDOM_AHEAD, count - 1)])
        if ahead < n:
            prefetch(size, ahead)
        o = np.uint64(vertex[w])
        acc[w, 0] = size[o] if o < n else 0
        acc[w, 1] = 1


@numba.njit(cache=True, nogil=True)
def fold(count, vertex, idom, acc):
    """Retained sizes: each vertex's bytes and objects (``acc[w]``, from weights) folded
    into its immediate dominator's, deepest numbers first (a dominator's number is below
    its vertices'); then the dominator's object (-1: the virtual root) goes into the high
    half of ``acc[w, 1]``, so that by_object reads one 16-byte row per object (never two
    cache lines). Returns the virtual root's (the live heap). The dominators' rows are few
    and stay in the cache."""
    for w in range(count - 1, 0, -1):
        d = idom[w]
        acc[d, 0] += acc[w, 0]
        acc[d, 1] += acc[w, 1]  # (w's high half is still 0: it is set just below)
        acc[w, 1] |= np.int64(vertex[d]) << 32  # vertex[0] is -1
    return acc[0, 0], acc[0, 1]


@numba.njit(cache=True, nogil=True)
def by_object(lo, hi, number, acc, unreached, retained, retained_objects, idom):
    """fold's results for the objects ``lo`` to ``hi - 1``, which it writes in order (the
    reads of one row each overlap; writing in number order instead was 2x slower). An
    object without a number retains 0 and has ``unreached`` as its dominator."""
    count = acc.shape[0]
    flat = acc.reshape(acc.size)
    for o in range(lo, hi):
        ahead = number[min(o + RANDOM_AHEAD, hi - 1)]
        if 0 < ahead < count:
            prefetch(flat, 2 * ahead)
        w = number[o]
        if 0 < w < count:
            row = acc[w, 1]
            retained[o], retained_objects[o], idom[o] = acc[w, 0], row & OBJECTS, row >> 32
        else:
            retained[o], retained_objects[o], idom[o] = 0, 0, unreached


@numba.njit(cache=True, nogil=True)
def children_csr(idom, parent_of_root):
    """The tree's children lists: the objects ``idom`` maps to ``p`` are
    ``kids[first[p + 1]:first[p + 2]]`` (slot 0 is the virtual root, ``parent_of_root``
    the value standing for it), in object order."""
    n = idom.shape[0]
    first = np.zeros(n + 2, dtype=np.int64)
    for o in range(n):
        d = idom[o]
        if d == parent_of_root:
            first[1] += 1
        elif 0 <= d < n:
            first[d + 2] += 1
    for p in range(1, n + 2):
        first[p] += first[p - 1]
    kids = np.empty(first[n + 1], dtype=np.int32)
    fill = first[:-1].copy()
    for o in range(n):
        d = idom[o]
        slot = 0 if d == parent_of_root else d + 1
        if d == parent_of_root or 0 <= d < n:
            kids[fill[slot]] = o
            fill[slot] += 1
    return first, kids


@numba.njit(cache=True, nogil=True)
def subtree(top, first, kids):
    """``top`` and every object it dominates (preorder). At most every object once: a
    damaged tree with a cycle through ``top`` ends there instead of looping. (``first``
    and ``kids`` are children_csr's, sound whatever ``idom`` held.)"""
    n = first.shape[0] - 2
    if not 0 <= top < n:
        return np.empty(0, dtype=np.int32)
    out = [top]
    i = 0
    while i < len(out) and len(out) <= n:
        o = out[i]
        i += 1
        for j in range(first[o + 1], first[o + 2]):
            out.append(kids[j])
    return np.array(out[:n] if len(out) > n else out, dtype=np.int32)


@numba.njit(cache=True, nogil=True)
def outermost_of_type(label_of, first, kids, n_labels):
    """Per object, whether no object above it in the tree has its label (type): the
    objects whose retained sizes add up without counting nested ones twice. (``first``
    and ``kids`` are children_csr's: each object once, reached once, whatever ``idom``
    held; labels are checked in one pass first: a test in the walk doubled its time.)"""
    n = label_of.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    if n < first.shape[0] - 2:
        return out
    past = False
    for i in range(n):  # no early exit: vectorized
        past |= (label_of[i] < 0) | (label_of[i] >= n_labels)
    if past:
        return out  # a label out of range: no object is counted
    open_ = np.zeros(n_labels, dtype=np.int32)  # objects of each label on the current path
    stack = np.empty(first.shape[0], dtype=np.int64)  # object, or ~object when leaving it
    top = 0
    for j in range(first[0], first[1]):
        stack[top] = kids[j]
        top += 1
    while top > 0:
        top -= 1
        o = stack[top]
        if o < 0:
            open_[label_of[~o]] -= 1
            continue
        t = label_of[o]
        out[o] = open_[t] == 0
        open_[t] += 1
        stack[top] = ~o
        top += 1
        for j in range(first[o + 1], first[o + 2]):
            stack[top] = kids[j]
            top += 1
    return out


@numba.njit(cache=True, nogil=True)
def nearest_root_above(obj, in_first, in_src, allowed, is_root_target):
    """Breadth-first up the owners from ``obj`` to the nearest root target (-1: none)."""
    n = min(in_first.shape[0] - 1, allowed.shape[0], is_root_target.shape[0])
    if not 0 <= obj < n:
        return -1
    if is_root_target[obj]:
        return obj
    seen = np.zeros(n, dtype=np.bool_)
    queue = [obj]
    seen[obj] = True
    head = 0
    while head < len(queue):
        o = queue[head]
        head += 1
        lo, hi = csr_span(in_first, o, in_src.shape[0])
        for j in range(lo, hi):
            s = in_src[j]
            if not 0 <= s < n or seen[s] or not allowed[s]:
                continue
            if is_root_target[s]:
                return s
            seen[s] = True
            queue.append(s)
    return -1


@numba.njit(cache=True, nogil=True)
def retained_by_removal(obj, root_targets, obj_first, field_target, seen, size, queue):
    """What ``obj`` alone retains, without the tree: (bytes, objects) of what the roots
    reach only through it (itself included), and the bytes they reach in all; (-1, -1, 0)
    when no root reaches it. One search
    from the roots with ``obj`` blocked (``seen``: graph._seen_bits of the allowed
    objects), then one from ``obj`` over what that search did not find. ``queue``: as long
    as the heap has objects."""
    n = min(obj_first.shape[0] - 1, size.shape[0], queue.shape[0], seen.shape[0] * 64)
    field_target = below(field_target, n)
    total = field_target.shape[0]
    if not 0 <= obj < n:
        return -1, -1, 0
    _first_visit(seen, obj)
    reached = False
    tail = 0
    for r in range(root_targets.shape[0]):
        t = root_targets[r]
        reached |= t == obj
        if 0 <= t < n and _first_visit(seen, t):
            queue[tail] = t
            tail += 1
    head = 0
    while head < tail:
        o = queue[head]
        prefetch(obj_first, queue[min(head + 16, tail - 1)])
        prefetch(field_target, obj_first[queue[min(head + 4, tail - 1)]])
        head += 1
        lo, hi = csr_span(obj_first, o, total)
        for k in range(lo, hi):
            t = field_target[k]
            reached |= t == obj
            if t >= 0 and _first_visit(seen, t):
                queue[tail] = t
                tail += 1
    if not reached:
        return -1, -1, 0
    others = 0  # what the roots reach without obj
    for i in range(tail):
        others += size[queue[i]]
    queue[0] = obj
    head, tail, nbytes = 0, 1, 0
    while head < tail:
        o = queue[head]
        head += 1
        nbytes += size[o]
        lo, hi = csr_span(obj_first, o, total)
        for k in range(lo, hi):
            t = field_target[k]
            if t >= 0 and _first_visit(seen, t):
                queue[tail] = t
                tail += 1
    return nbytes, tail, others + nbytes
