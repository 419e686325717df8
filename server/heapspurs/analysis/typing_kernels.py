"""The compiled core of the typing pass (:mod:`.typing`): spread Go types from typed
objects and typed roots along the pointers the dump lists.

An object's type is ``(t, n)``: type ``t``, or ``[n]t`` when ``n >= 0``. Every object is
typed once: the first sure answer wins, in the order the pass asks (malloc headers, then
roots, then the objects they reach, depth first). The bytes beside a pointer say how long
what it points at is (a slice's cap, a string's len, a map's B or lengthMask, a channel's
dataqsiz), or what it is (an interface's type word or itab).
"""

from __future__ import annotations

import numba
import numpy as np

from ..program import gotypes as G

# why an object has its type, or why it has none
WHY_UNREACHED = 0  # no typed pointer reaches it
WHY_HEADER = 1  # its malloc header's type word
WHY_POINTER = 2  # a typed pointer, slice, interface ... points at its start
WHY_INTERIOR = 3  # a typed pointer points at an element inside it: the whole array
WHY_MISFIT = 4  # a typed pointer says a type that does not fit the object (left unknown)
WHY_FIELD = 5  # only pointed at inside a field of an unknown whole (left unknown)


@numba.njit(cache=True, nogil=True)
def read_word(mem, pos, width):
    """The little-endian unsigned integer of ``width`` bytes at file offset ``pos``."""
    if pos < 0 or pos + width > mem.shape[0]:
        return np.uint64(0)
    v = np.uint64(0)
    for i in range(width - 1, -1, -1):
        v = (v << np.uint64(8)) | np.uint64(mem[pos + i])
    return v


@numba.njit(cache=True, nogil=True)
def descend(t, rel, kind, size, elem, length, field_first, field_off, field_type):
    """The innermost type at byte ``rel`` of a value of type ``t`` (through struct fields
    and array elements) and the offset inside it; (-1, 0) where no pointer can be."""
    while True:
        k = kind[t]
        if k == G.STRUCT:
            lo, hi = field_first[t], field_first[t + 1]
            while lo < hi:  # last field starting at or before rel
                mid = (lo + hi) // 2
                if field_off[mid] <= rel:
                    lo = mid + 1
                else:
                    hi = mid
            f = lo - 1
            if f < field_first[t] or rel >= field_off[f] + size[field_type[f]]:
                return -1, 0
            rel -= field_off[f]
            t = field_type[f]
        elif k == G.ARRAY:
            e = elem[t]
            es = size[e] if e >= 0 else 0
            if es <= 0 or rel >= es * length[t]:
                return -1, 0
            rel -= (rel // es) * es
            t = e
        else:
            return t, rel


@numba.njit(cache=True, nogil=True)
def _find_sorted(keys, key):
    i = np.searchsorted(keys, key)
    if i < keys.shape[0] and keys[i] == key:
        return i
    return -1


# Tuples the kernels share:
# objs = (addr, voff, size, tiny, holds_ptr): per object its address, where its value starts
#   (8 after a malloc header), its size, whether it is a tiny block, whether the dump lists
#   pointer slots in it;
# state = (obj_type, obj_count, obj_why, stack): the answer so far, and the objects typed
#   but not yet scanned (stack[0] is the height).


@numba.njit(cache=True, nogil=True)
def _assign(o, t, n, why, has_ptr, state):
    obj_type, obj_count, obj_why, stack = state
    obj_type[o] = t
    obj_count[o] = n
    obj_why[o] = why
    if has_ptr[t]:
        stack[0] += 1
        stack[stack[0]] = o


@numba.njit(cache=True, nogil=True)
def _hit(o, off, t, n, objs, size, has_ptr, state):
    """A value of type ``t`` (``[n]t`` when n >= 0: n elements from where it points) is
    at byte ``off`` of object ``o``'s value."""
    obj_type, obj_count, obj_why = state[0], state[1], state[2]
    es = size[t]
    if es <= 0:
        return
    if has_ptr[t] != objs[4][o]:  # the type's pointers and the dump's pointer slots disagree
        if obj_type[o] < 0:
            obj_why[o] = WHY_MISFIT
        return
    value_size = objs[2][o] - objs[1][o]
    if n >= 0:
        if off % es != 0:
            return
        total = off // es + n
        if total <= 0:
            return
        if total * es > value_size:
            if obj_type[o] < 0:
                obj_why[o] = WHY_MISFIT
            return
        if obj_type[o] >= 0:
            # a header gave the element type and a guessed length; the slice knows it
            if obj_why[o] == WHY_HEADER and obj_type[o] == t:
                obj_count[o] = total
            return
        _assign(o, t, total, WHY_POINTER, has_ptr, state)
        return
    if obj_type[o] >= 0:
        return
    if off == 0:
        if es > value_size:
            obj_why[o] = WHY_MISFIT
            return
        _assign(o, t, -1, WHY_POINTER, has_ptr, state)
    elif off % es == 0 and not objs[3][o] and value_size // es >= 2:
        _assign(o, t, value_size // es, WHY_INTERIOR, has_ptr, state)
    else:
        obj_why[o] = WHY_FIELD


@numba.njit(cache=True, nogil=True)
def _pointer_to(tt, tgt, off, objs, tables, closure, state):
    """A word of a pointer-shaped kind (pointer, map, channel, func) points into ``tgt``."""
    kind, size, elem, has_ptr = tables[0], tables[1], tables[2], tables[4]
    k = kind[tt]
    if k == G.PTR or k == G.MAP or k == G.CHAN:
        if elem[tt] >= 0:
            _hit(tgt, off, elem[tt], -1, objs, size, has_ptr, state)
    elif k == G.FUNC and closure >= 0 and off == 0:
        _hit(tgt, 0, closure, -1, objs, size, has_ptr, state)


@numba.njit(cache=True, nogil=True)
def typed_slot(tt, w, pos, val, tgt, mem, ptr, objs, tables, lookups, specials, state):
    """Word ``w`` of a value of terminal type ``tt`` sits at file offset ``pos`` and holds
    ``val``, which points into object ``tgt`` (-1: none)."""
    if tgt < 0:
        return
    kind, size, elem, length, has_ptr, direct = (tables[0], tables[1], tables[2], tables[3],
                                                 tables[4], tables[5])  # fmt: skip
    count_delta, count_width, count_how, aux = tables[6], tables[7], tables[8], tables[9]
    rtype_off, rtype_type, types_base, itab_addr, itab_type = lookups
    byte_t, closure = specials[0], specials[1]
    k = kind[tt]
    off = np.int64(val - objs[0][tgt]) - objs[1][tgt]
    if off < 0:
        return
    if k == G.EFACE or k == G.IFACE:
        if w != ptr:
            return
        word = read_word(mem, pos - ptr, ptr)
        if k == G.IFACE:
            i = _find_sorted(itab_addr, word)
            if i < 0:
                return
            word = itab_type[i]
        j = _find_sorted(rtype_off, word - types_base)
        if j < 0:
            return
        dyn = rtype_type[j]
        if direct[dyn]:
            inner, _ = descend(dyn, 0, kind, size, elem, length, tables[10], tables[11], tables[12])
            if inner >= 0:
                _pointer_to(inner, tgt, off, objs, tables, closure, state)
        else:
            _hit(tgt, off, dyn, -1, objs, size, has_ptr, state)
        return
    if w != 0:
        return
    if k == G.SLICE:
        cap = np.int64(read_word(mem, pos + 2 * ptr, ptr))
        _hit(tgt, off, elem[tt], cap, objs, size, has_ptr, state)
    elif k == G.STRING:
        n = np.int64(read_word(mem, pos + ptr, ptr))
        if byte_t >= 0 and n > 0:
            _hit(tgt, off, byte_t, n, objs, size, has_ptr, state)
    elif k == G.COUNTED or k == G.DIRECTORY:
        c = np.int64(read_word(mem, pos + count_delta[tt], count_width[tt]))
        if count_how[tt] == G.COUNT_PLUS_ONE:
            c += 1
        elif count_how[tt] == G.COUNT_POWER_OF_TWO:
            # 1 << B buckets, then the overflow buckets allocated with them: the whole object
            e = elem[tt]
            vsize = objs[2][tgt] - objs[1][tgt]
            c = vsize // size[e] - off // size[e] if e >= 0 and size[e] > 0 else np.int64(0)
        if k == G.DIRECTORY and c == 0:
            if aux[tt] >= 0:
                _hit(tgt, off, aux[tt], -1, objs, size, has_ptr, state)
        elif elem[tt] >= 0:
            _hit(tgt, off, elem[tt], c, objs, size, has_ptr, state)
    else:
        _pointer_to(tt, tgt, off, objs, tables, closure, state)


@numba.njit(cache=True, nogil=True)
def type_from_headers(has_header, obj_data, mem, ptr, objs, lookups, size, has_ptr, state):
    """Malloc-header objects name their type in their first word: ``[n]T`` when the value
    holds two or more T (a slice's backing store)."""
    rtype_off, rtype_type, types_base = lookups[0], lookups[1], lookups[2]
    obj_type, obj_why = state[0], state[2]
    for o in range(has_header.shape[0]):
        if not has_header[o] or obj_type[o] >= 0:
            continue
        word = read_word(mem, obj_data[o], ptr)
        j = _find_sorted(rtype_off, word - types_base)
        if j < 0:
            continue
        t = rtype_type[j]
        es = size[t]
        if es <= 0:
            continue
        n = (objs[2][o] - objs[1][o]) // es
        if n < 1 or not has_ptr[t]:
            obj_why[o] = WHY_MISFIT
            continue
        _assign(o, t, n if n >= 2 else -1, WHY_HEADER, has_ptr, state)


@numba.njit(cache=True, nogil=True)
def spread(seed_type, seed_rel, seed_pos, seed_val, seed_tgt, mem, ptr, objs, obj_data,
           obj_first, field_off, field_val, field_target, tables, lookups, specials,
           state):  # fmt: skip
    """Type what the roots' typed slots point at, then everything reachable from typed
    objects, depth first (the stack holds objects typed but not yet scanned)."""
    kind, size, elem, length = tables[0], tables[1], tables[2], tables[3]
    ff, fo, ft = tables[10], tables[11], tables[12]
    obj_type, obj_count, stack = state[0], state[1], state[3]
    voff = objs[1]
    for i in range(seed_type.shape[0] + 1):
        if i < seed_type.shape[0]:  # the last round scans what the headers typed
            tt, w = descend(seed_type[i], seed_rel[i], kind, size, elem, length, ff, fo, ft)
            if tt >= 0:
                typed_slot(tt, w, seed_pos[i], seed_val[i], seed_tgt[i], mem, ptr, objs, tables,
                           lookups, specials, state)  # fmt: skip
        while stack[0] > 0:
            o = stack[stack[0]]
            stack[0] -= 1
            t, n = obj_type[o], obj_count[o]
            es = size[t]
            span = es * n if n >= 0 else es
            base = voff[o]
            for f in range(obj_first[o], obj_first[o + 1]):
                rel = np.int64(field_off[f]) - base
                if rel < 0 or rel >= span:
                    continue  # the header word, or size-class slack
                tt, w = descend(t, rel - (rel // es) * es, kind, size, elem, length, ff, fo, ft)
                if tt >= 0:
                    typed_slot(tt, w, obj_data[o] + field_off[f], field_val[f], field_target[f],
                               mem, ptr, objs, tables, lookups, specials, state)  # fmt: skip
