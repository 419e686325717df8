"""Compiled per-object rules of Go's allocator, one pass over the objects each (written
with numpy, each term made a temporary array: seconds of page faults on a cold start)."""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def with_malloc_header(obj_first, field_off, size, small_max, header_max, header_bytes, out):
    """``out[i]``: object ``i`` has pointers, a size in (small_max, header_max] and its first
    pointer at or past ``header_bytes`` (the type word before the value). (Given the
    walker's columns, sound by construction: a saved index holds the result.)"""
    for i in range(size.shape[0]):
        first = obj_first[i]
        out[i] = (
            obj_first[i + 1] > first
            and small_max < size[i] <= header_max
            and field_off[first] >= header_bytes
        )
    return out


@numba.njit(cache=True, nogil=True)
def in_span_tail(addr, size, small_max, tail, page_size, out):
    """``out[i]``: object ``i`` is small and overlaps the last ``tail`` bytes of its page."""
    for i in range(addr.shape[0]):
        in_page = np.int64(addr[i] % np.uint64(page_size))
        out[i] = size[i] <= small_max and in_page + size[i] > page_size - tail
    return out
