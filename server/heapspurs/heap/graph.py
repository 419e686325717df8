"""Compiled graph kernels over the pointer CSR. Every traversal is iterative (frontier
arrays), so a million-deep linked list is as easy as a wide tree."""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def resolve(values, sorted_addr, sorted_end, order):
    """Object index containing each value (-1 when it points into no object)."""
    out = np.empty(values.shape[0], dtype=np.int32)
    n = sorted_addr.shape[0]
    for i in range(values.shape[0]):
        v = values[i]
        lo, hi = 0, n  # first index with sorted_addr > v
        while lo < hi:
            mid = (lo + hi) >> 1
            if sorted_addr[mid] <= v:
                lo = mid + 1
            else:
                hi = mid
        j = lo - 1
        out[i] = order[j] if j >= 0 and v < sorted_end[j] else -1
    return out


@numba.njit(cache=True, nogil=True)
def field_sources(obj_first, n_fields):
    """Owner object of every pointer field."""
    src = np.empty(n_fields, dtype=np.int32)
    for i in range(obj_first.shape[0] - 1):
        for k in range(obj_first[i], obj_first[i + 1]):
            src[k] = i
    return src


@numba.njit(cache=True, nogil=True)
def reverse_csr(targets, n_objects):
    """In-edges: fields pointing at object ``t`` are ``in_field[in_first[t]:in_first[t+1]]``."""
    counts = np.zeros(n_objects + 1, dtype=np.int64)
    for t in targets:
        if t >= 0:
            counts[t + 1] += 1
    for i in range(n_objects):
        counts[i + 1] += counts[i]
    in_first = counts.copy()
    cursor = counts[:-1].copy()
    in_field = np.empty(in_first[n_objects], dtype=np.int64)
    for k in range(targets.shape[0]):
        t = targets[k]
        if t >= 0:
            in_field[cursor[t]] = k
            cursor[t] += 1
    return in_first, in_field


@numba.njit(cache=True, nogil=True)
def reach_forward(starts, obj_first, field_target, blocked):
    """Objects reachable from ``starts`` along pointers, never entering ``blocked`` (-1: none)."""
    n = obj_first.shape[0] - 1
    seen = np.zeros(n, dtype=np.bool_)
    stack = np.empty(n, dtype=np.int32)
    top = 0
    for s in starts:
        if s >= 0 and s != blocked and not seen[s]:
            seen[s] = True
            stack[top] = s
            top += 1
    while top > 0:
        top -= 1
        o = stack[top]
        for k in range(obj_first[o], obj_first[o + 1]):
            t = field_target[k]
            if t >= 0 and t != blocked and not seen[t]:
                seen[t] = True
                stack[top] = t
                top += 1
    return seen


@numba.njit(cache=True, nogil=True)
def owners_bfs(target, in_first, in_field, field_src, allowed, max_depth):
    """Breadth-first over owners from ``target``, only through ``allowed`` objects.

    Returns (visit order, depth, via): ``via[o]`` is the field by which ``o`` points toward
    the target (-1 for the target), so following ``field_target[via[o]]`` walks a shortest
    chain down to the target. ``depth`` is -1 for objects not reached. ``max_depth`` < 0:
    unlimited.
    """
    n = in_first.shape[0] - 1
    depth = np.full(n, -1, dtype=np.int32)
    via = np.full(n, -1, dtype=np.int64)
    order = np.empty(n, dtype=np.int32)
    depth[target] = 0
    order[0] = target
    head, tail = 0, 1
    while head < tail:
        o = order[head]
        head += 1
        if max_depth >= 0 and depth[o] >= max_depth:
            continue
        for j in range(in_first[o], in_first[o + 1]):
            k = in_field[j]
            s = field_src[k]
            if depth[s] < 0 and allowed[s]:
                depth[s] = depth[o] + 1
                via[s] = k
                order[tail] = s
                tail += 1
    return order[:tail].copy(), depth, via
