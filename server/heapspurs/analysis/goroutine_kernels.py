"""Compiled searches for goroutine leaks and retained sizes (iterative, one stack array).
Object numbers and pointer lists come from a saved index: see graph.csr_span."""

import numba
import numpy as np

from ..heap.graph import below, csr_span

SHARED = -2  # reached from two goroutines' stacks
FREE = -1


@numba.njit(cache=True, nogil=True)
def mark_from(starts, obj_first, field_target, stop, seen, stack):
    """Mark in ``seen`` what ``starts`` reach; objects in ``stop`` are marked, not entered.
    Objects already seen are not entered again, so calls add to one search. (Objects out
    of range are skipped, see graph.csr_span.)"""
    n = min(obj_first.shape[0] - 1, seen.shape[0], stop.shape[0], stack.shape[0])
    field_target = below(field_target, n)
    total = field_target.shape[0]
    top = 0
    for s in starts:
        if 0 <= s < n and not seen[s]:
            seen[s] = True
            if not stop[s]:
                stack[top] = s
                top += 1
    while top > 0:
        top -= 1
        o = stack[top]
        lo, hi = csr_span(obj_first, o, total)
        for k in range(lo, hi):
            t = field_target[k]
            if t >= 0 and not seen[t]:
                seen[t] = True
                if not stop[t]:
                    stack[top] = t
                    top += 1


@numba.njit(cache=True, nogil=True)
def _claim(t, g, label, skip, stack, top):
    """Visit ``t`` from goroutine ``g``: claim it, or mark it shared; returns the new top."""
    if skip[t] or label[t] == SHARED or label[t] == g:
        return top
    if label[t] == FREE:
        label[t] = g
        stack[top] = t
        return top + 1
    label[t] = SHARED  # another goroutine's: what it reaches is shared too (second pass)
    return top


@numba.njit(cache=True, nogil=True)
def label_owners(first, targets, obj_first, field_target, skip, stack):
    """Per object, the one goroutine whose stack roots (``targets[first[g]:first[g+1]]``)
    reach it, SHARED when two do, FREE when none; ``skip``: objects other roots reach (or
    that are not entered). (Objects out of range are skipped, see graph.csr_span.)"""
    n = obj_first.shape[0] - 1
    label = np.full(n, FREE, dtype=np.int32)
    n = min(n, skip.shape[0], stack.shape[0])
    field_target = below(field_target, n)
    total = field_target.shape[0]
    for g in range(first.shape[0] - 1):
        top = 0
        lo, hi = csr_span(first, g, targets.shape[0])
        for j in range(lo, hi):
            if 0 <= targets[j] < n:
                top = _claim(targets[j], g, label, skip, stack, top)
        while top > 0:
            top -= 1
            o = stack[top]
            lo, hi = csr_span(obj_first, o, total)
            for k in range(lo, hi):
                t = field_target[k]
                if t >= 0:
                    top = _claim(t, g, label, skip, stack, top)
    top = 0
    for o in range(n):
        if label[o] == SHARED:
            stack[top] = o
            top += 1
    while top > 0:
        top -= 1
        o = stack[top]
        lo, hi = csr_span(obj_first, o, total)
        for k in range(lo, hi):
            t = field_target[k]
            if t >= 0 and not skip[t] and label[t] != SHARED:
                label[t] = SHARED
                stack[top] = t
                top += 1
    return label
