"""The compiled core of the typing pass (:mod:`.typing`): spread Go types from typed
objects and typed roots along the pointers the dump lists.

An object's type is ``(t, n)``: type ``t``, or ``[n]t`` when ``n >= 0``. Every object is
typed once: the first sure answer wins, in the order the pass asks (malloc headers, then
roots, then the objects they reach, depth first). The bytes beside a pointer say how long
what it points at is (a slice's cap, a string's len, a map's B or lengthMask, a channel's
dataqsiz), or what it is (an interface's type word or itab).
"""

from __future__ import annotations

import mmap
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from ..heap.graph import clamped, prefetch
from ..program import gotypes as G

PREFETCH_AHEAD = 8  # objects
MAX_NESTING = 256  # struct-in-array-in-struct levels; real Go types stay far below

# why an object has its type, or why it has none
WHY_UNREACHED = 0  # no typed pointer reaches it
WHY_HEADER = 1  # its malloc header's type word
WHY_POINTER = 2  # a typed pointer, slice, interface ... points at its start
WHY_INTERIOR = 3  # a typed pointer points at an element inside it: the whole array
WHY_MISFIT = 4  # a typed pointer says a type that does not fit the object (left unknown)
WHY_FIELD = 5  # only pointed at inside a field of an unknown whole (left unknown)


CHUNK_SHIFT = 21  # the dump is read 2 MiB (a huge page) at a time, when first asked for


def _pread(typingctx, fd, address, count, offset):
    """``pread(fd, (void *) address, count, offset)`` of the C library, called from
    compiled code (the symbol is bound by name when the code is loaded, so the kernels
    stay cached, where a ctypes function would not let them)."""

    def codegen(context, builder, signature, args):
        i64, i32 = ir.IntType(64), ir.IntType(32)
        byte_ptr = ir.IntType(8).as_pointer()
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(i64, [i32, byte_ptr, i64, i64]), "pread"
        )
        fd32 = builder.trunc(args[0], i32)
        return builder.call(fn, [fd32, builder.inttoptr(args[1], byte_ptr), args[2], args[3]])

    return types.int64(types.int64, types.int64, types.int64, types.int64), codegen


pread: Any = intrinsic(_pread)  # Any: mypy cannot see numba's call signature


@numba.njit(cache=True, nogil=True)
def _load_chunk(buf, loaded, fd, c):
    """Chunk ``c`` of the dump into ``buf`` (a file cut shorter since it was opened leaves
    zeros where its bytes were)."""
    lo = c << CHUNK_SHIFT
    hi = min(lo + (1 << CHUNK_SHIFT), buf.shape[0])
    while lo < hi:
        got = pread(np.int64(fd), np.int64(buf.ctypes.data) + lo, np.int64(hi - lo), np.int64(lo))
        if got <= 0:
            break
        lo += got
    loaded[c] = 1


@numba.njit(cache=True, nogil=True, inline="always")
def read_word(mem, pos, width):
    """The little-endian unsigned integer of ``width`` bytes at file offset ``pos`` of the
    dump ``mem`` = (bytes, a flag per chunk: read yet, the file's descriptor): its chunks
    are read when first asked for (a dump's bytes beside the pointers it holds are most of
    it, but the pass asks for few of them: reading it whole cost a third of its time and
    the size of the dump in memory)."""
    buf, loaded = mem[0], mem[1]
    if pos < 0 or pos + width > buf.shape[0]:
        return np.uint64(0)
    for c in range(pos >> CHUNK_SHIFT, ((pos + width - 1) >> CHUNK_SHIFT) + 1):
        if not loaded[c]:
            _load_chunk(buf, loaded, mem[2], c)
    v = np.uint64(0)
    for i in range(width - 1, -1, -1):
        v = (v << np.uint64(8)) | np.uint64(buf[pos + i])
    return v


@numba.njit(cache=True, nogil=True, inline="always")
def descend(t, rel, kind, size, elem, length, field_first, field_off, field_type):
    """The innermost type at byte ``rel`` of a value of type ``t`` (through struct fields
    and array elements) and the offset inside it; (-1, 0) where no pointer can be (or where
    the DWARF nests deeper than any real type: a malformed binary must not hang the pass)."""
    for _ in range(MAX_NESTING):
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
    return -1, 0


@numba.njit(cache=True, nogil=True, inline="always")
def _find_sorted(keys, key):
    i = np.searchsorted(keys, key)
    if i < keys.shape[0] and keys[i] == key:
        return i
    return -1


# What the kernels share (the inner kernels index the tuples where they use them: an array
# taken out of a tuple into a local costs a reference count change per call, which was
# 90 % of the pass):
# objs, an [n, 4] table (see object_table): per object the address where its value
#   starts (8 after a malloc header), its meta (value_size << META_SHIFT | the META_*
#   flags), and the answer so far: its type and array length; a row is a cache line's
#   half: a target costs one miss, not five, and typing it writes the line just read;
# tables = GoTypes.tables(): kind, size, elem, length, has_ptr, direct, count_delta,
#   count_width, count_how, aux, field_first, field_off, field_type;
# lookups = (rtype_off, rtype_type, types_base, itab_addr, itab_type, obj_data, addr,
#   closure_pc, closure_type);
# specials = [uint8 (a string's bytes), runtime.hchan (a sudog's channel)]: type indexes;
# mem = DumpPages(...).kernel_view(): the dump's bytes, read a chunk at a time when a
#   kernel first asks for one (see read_word);
# state = (obj_why, stack, settled_bits): why each object has its type (or none), the
#   objects typed (stack[0] is how many), and a bit per object set once its type is
#   final (see new_state; a malloc header's array length may still be corrected by a
#   slice): the pass asks it for every pointer, and an object's bit shares its 64-bit word
#   with 63 others, so it stays in the cache where the objs row would miss.
OBJ_START, OBJ_META, OBJ_TYPE, OBJ_COUNT, OBJ_WIDTH = 0, 1, 2, 3, 4
META_PTRS, META_TINY, META_HEADER, META_SHIFT = 1, 2, 4, 3
T_KIND, T_SIZE, T_ELEM, T_LENGTH, T_HAS_PTR, T_DIRECT = 0, 1, 2, 3, 4, 5
T_COUNT_DELTA, T_COUNT_WIDTH, T_COUNT_HOW, T_AUX = 6, 7, 8, 9
S_WHY, S_STACK, S_BITS = 0, 1, 2


def new_state(n):
    """The pass's ``state`` for ``n`` objects, every one unknown."""
    return (np.zeros(n, np.int8), np.zeros(n + 1, np.int32),
            np.zeros((n + 63) // 64, np.uint64))  # fmt: skip


@numba.njit(cache=True, nogil=True, inline="always")
def _is_typed(bits, o):
    return (bits[o >> 6] & (np.uint64(1) << np.uint64(o & 63))) != 0


@numba.njit(cache=True, nogil=True, inline="always")
def _mark_typed(bits, o):
    bits[o >> 6] |= np.uint64(1) << np.uint64(o & 63)


def object_table(addr, size, has_header, obj_first, tiny_block):
    """The kernels' ``objs`` table, every object unknown, and the memory it lives in (an
    anonymous map, see typing.settle_releasing): its rows aligned to their size (never
    across two cache lines), backed by huge pages where the system has them (the pass
    reads a row per target at random: in 4 KiB pages nearly every one missed the TLB
    too)."""
    n = addr.shape[0]
    memory = mmap.mmap(-1, max(n * OBJ_WIDTH * 8, 1))  # page-aligned
    if hasattr(mmap, "MADV_HUGEPAGE"):
        memory.madvise(mmap.MADV_HUGEPAGE)
    objs = np.frombuffer(memory, dtype=np.int64, count=n * OBJ_WIDTH).reshape((n, OBJ_WIDTH))
    _fill_object_table(addr, size, has_header, obj_first, tiny_block, objs)
    return memory, objs


@numba.njit(cache=True, nogil=True)
def _fill_object_table(addr, size, has_header, obj_first, tiny_block, objs):
    """(built without whole-heap temporaries)"""
    for o in range(objs.shape[0]):
        voff = 8 if has_header[o] else 0
        holds_ptr = obj_first[o + 1] != obj_first[o]
        tiny = size[o] == tiny_block and not holds_ptr
        objs[o, OBJ_START] = np.int64(addr[o]) + voff
        flags = (META_HEADER if voff else 0) | (META_TINY if tiny else 0)
        objs[o, OBJ_META] = ((size[o] - voff) << META_SHIFT) | flags | np.int64(holds_ptr)
        objs[o, OBJ_TYPE] = -1
        objs[o, OBJ_COUNT] = -1


@numba.njit(cache=True, nogil=True, inline="always")
def _assign(o, t, n, why, has_ptr, objs, obj_why, stack, bits):
    objs[o, OBJ_TYPE] = t
    objs[o, OBJ_COUNT] = n
    if why != WHY_HEADER:  # (a slice may still say how long a header's array is)
        _mark_typed(bits, o)
    obj_why[o] = why
    if has_ptr[t]:
        stack[0] += 1
        stack[stack[0]] = o


@numba.njit(cache=True, nogil=True, inline="always")
def _assign_in(o, t, n, why, objs, tables, state):
    _assign(o, t, n, why, tables[T_HAS_PTR], objs, state[S_WHY], state[S_STACK], state[S_BITS])


@numba.njit(cache=True, nogil=True, inline="always")
def _hit(o, off, t, n, objs, tables, state):
    """A value of type ``t`` (``[n]t`` when n >= 0: n elements from where it points) is
    at byte ``off`` of object ``o``'s value."""
    es = tables[T_SIZE][t]
    if es <= 0:
        return
    typed = objs[o, OBJ_TYPE] >= 0
    meta = objs[o, OBJ_META]
    if tables[T_HAS_PTR][t] != ((meta & META_PTRS) != 0):
        if not typed:  # the type's pointers and the dump's pointer slots disagree
            state[S_WHY][o] = WHY_MISFIT
        return
    value_size = meta >> META_SHIFT
    if n >= 0:
        if off % es != 0:
            return
        total = off // es + n
        if total <= 0:
            return
        if n > value_size // es or total > value_size // es:  # (a product could overflow)
            if not typed:
                state[S_WHY][o] = WHY_MISFIT
            return
        if typed:
            # a header gave the element type and a guessed length; the slice knows it
            if state[S_WHY][o] == WHY_HEADER and objs[o, OBJ_TYPE] == t:
                objs[o, OBJ_COUNT] = total
            return
        _assign_in(o, t, total, WHY_POINTER, objs, tables, state)
        return
    if typed:
        return
    if off == 0:
        if es > value_size:
            state[S_WHY][o] = WHY_MISFIT
            return
        # a *T at the start of a pointer-free block of many T: the backing array of a slice
        # whose variable the compiler split into ptr, len and cap (buf.ptr *uint8)
        many = not tables[T_HAS_PTR][t] and (meta & META_TINY) == 0 and value_size >= 2 * es
        _assign_in(o, t, value_size // es if many else -1, WHY_POINTER, objs, tables, state)
    elif off % es == 0 and (meta & META_TINY) == 0 and value_size // es >= 2:
        _assign_in(o, t, value_size // es, WHY_INTERIOR, objs, tables, state)
    elif (meta & META_TINY) != 0 and off + es <= value_size:
        # a tiny block holds several small pointer-free values: named by the one found
        _assign_in(o, t, -1, WHY_POINTER, objs, tables, state)
    else:
        state[S_WHY][o] = WHY_FIELD


@numba.njit(cache=True, nogil=True, inline="always")
def _pointer_to(tt, tgt, off, mem, ptr, objs, tables, lookups, specials, state):
    """A word of a pointer-shaped kind (pointer, map, channel, func) points into ``tgt``."""
    k = tables[T_KIND][tt]
    e = tables[T_ELEM][tt]
    to_hchan = k == G.CHAN or (k == G.PTR and e >= 0 and e == specials[1])
    if to_hchan and off == 0 and e >= 0 and (objs[tgt, OBJ_META] & META_PTRS) == 0:
        _noscan_channel(tgt, e, objs, tables, state)
    elif k == G.PTR or k == G.MAP or k == G.CHAN:
        if tables[T_ELEM][tt] >= 0:
            _hit(tgt, off, tables[T_ELEM][tt], -1, objs, tables, state)
    elif k == G.FUNC and off == 0:
        # a closure's context: its code pointer says which closure
        j = _find_sorted(lookups[7], read_word(mem, _value_pos(tgt, objs, lookups), ptr))
        if j >= 0:
            _hit(tgt, 0, lookups[8][j], -1, objs, tables, state)


@numba.njit(cache=True, nogil=True, inline="always")
def _noscan_channel(o, hchan, objs, tables, state):
    """A channel whose elements hold no pointers is one pointer-free allocation (its
    hchan, then the buffer), though hchan's type has pointers: it is the hchan still."""
    if objs[o, OBJ_TYPE] < 0 and tables[T_SIZE][hchan] <= objs[o, OBJ_META] >> META_SHIFT:
        objs[o, OBJ_TYPE] = hchan
        _mark_typed(state[S_BITS], o)
        objs[o, OBJ_COUNT] = -1
        state[S_WHY][o] = WHY_POINTER


@numba.njit(cache=True, nogil=True, inline="always")
def _value_pos(o, objs, lookups):
    """File offset of object ``o``'s value (after a malloc header)."""
    return np.int64(lookups[5][o]) + objs[o, OBJ_START] - np.int64(lookups[6][o])


@numba.njit(cache=True, nogil=True)  # called, not inlined: the hot loop stays small
def typed_slot(tt, w, pos, val, tgt, mem, ptr, objs, tables, lookups, specials, state):
    """Word ``w`` of a value of terminal type ``tt`` sits at file offset ``pos`` and holds
    ``val``, which points into object ``tgt`` (-1: none)."""
    if tgt < 0:
        return
    k = tables[T_KIND][tt]
    off = np.int64(val) - objs[tgt, OBJ_START]
    if off < 0:
        return
    if k == G.EFACE or k == G.IFACE:
        if w != ptr:
            return
        word = read_word(mem, pos - ptr, ptr)
        if k == G.IFACE:
            i = _find_sorted(lookups[3], word)
            if i < 0:
                return
            word = lookups[4][i]
        j = _find_sorted(lookups[0], word - lookups[2])
        if j < 0:
            return
        dyn = lookups[1][j]
        if tables[T_DIRECT][dyn]:
            inner, _ = descend(dyn, 0, tables[0], tables[1], tables[2], tables[3], tables[10],
                               tables[11], tables[12])  # fmt: skip
            if inner >= 0:
                _pointer_to(inner, tgt, off, mem, ptr, objs, tables, lookups, specials, state)
        else:
            _hit(tgt, off, dyn, -1, objs, tables, state)
        return
    if w != 0:
        return
    if k == G.SLICE:
        cap = np.int64(read_word(mem, pos + 2 * ptr, ptr))
        _hit(tgt, off, tables[T_ELEM][tt], cap, objs, tables, state)
    elif k == G.STRING:
        n = np.int64(read_word(mem, pos + ptr, ptr))
        if specials[0] >= 0 and n > 0:
            _hit(tgt, off, specials[0], n, objs, tables, state)
    elif k == G.COUNTED or k == G.DIRECTORY:
        _counted(tt, k, pos, tgt, off, mem, objs, tables, state)
    elif k == G.TRIE_NODE:
        # the node's first byte (isEntry) says which of the two it starts
        is_entry = read_word(mem, _value_pos(tgt, objs, lookups) + off, 1) != 0
        _hit(tgt, off, tables[T_ELEM][tt] if is_entry else tables[T_AUX][tt], -1, objs, tables,
             state)  # fmt: skip
    else:
        _pointer_to(tt, tgt, off, mem, ptr, objs, tables, lookups, specials, state)


@numba.njit(cache=True, nogil=True, inline="always")
def _counted(tt, k, pos, tgt, off, mem, objs, tables, state):
    """A pointer whose target's length is a word beside it (see GoTypes)."""
    c = np.int64(read_word(mem, pos + tables[T_COUNT_DELTA][tt], tables[T_COUNT_WIDTH][tt]))
    e = tables[T_ELEM][tt]
    how = tables[T_COUNT_HOW][tt]
    if how == G.COUNT_PLUS_ONE:
        c += 1
    elif how == G.COUNT_POWER_OF_TWO:
        # 1 << B buckets, then the overflow buckets allocated with them: the whole object
        es = tables[T_SIZE][e] if e >= 0 else 0
        vsize = objs[tgt, OBJ_META] >> META_SHIFT
        c = vsize // es - off // es if es > 0 else np.int64(0)
    if k == G.DIRECTORY and c == 0:
        if tables[T_AUX][tt] >= 0:
            _hit(tgt, off, tables[T_AUX][tt], -1, objs, tables, state)
    elif e >= 0:
        _hit(tgt, off, e, c, objs, tables, state)


@numba.njit(cache=True, nogil=True)
def sort_wave(stack, lo, hi, bits):
    """Sort ``stack[lo:hi]`` (distinct object indexes): a big wave through a bitmap of
    every object (linear: a comparison sort of 5M took a fifth of the pass), a small one
    by comparisons (a bitmap scan per wave would cost a list's depth times the heap)."""
    if (hi - lo) * 64 < bits.shape[0] * 4:
        stack[lo:hi].sort()
        return
    one = np.uint64(1)
    for j in range(lo, hi):
        o = stack[j]
        bits[o >> 6] |= one << np.uint64(o & 63)
    j = lo
    for w in range(bits.shape[0]):
        word = bits[w]
        if word == 0:
            continue
        bits[w] = 0
        while word != 0:
            low = word & (~word + one)  # lowest set bit
            stack[j] = w * 64 + _bit_index(low)
            j += 1
            word ^= low


# the position of a 64-bit word's only set bit, by a de Bruijn multiplication
DE_BRUIJN_64 = 0x03F79D71B4CB0A89
BIT_AT = np.zeros(64, dtype=np.int64)
for _i in range(64):
    BIT_AT[((DE_BRUIJN_64 << _i) & 0xFFFFFFFFFFFFFFFF) >> 58] = _i


@numba.njit(cache=True, nogil=True, inline="always")
def _bit_index(single_bit):
    return BIT_AT[(single_bit * np.uint64(DE_BRUIJN_64)) >> np.uint64(58)]


SLOT_TABLE_MAX_BYTES = 512  # types up to this size have their pointer words looked up


@numba.njit(cache=True, nogil=True)
def slot_table(kind, size, elem, length, has_ptr, ff, fo, ft, shift):
    """:func:`descend` answered beforehand for every pointer-sized word of every small type
    that holds pointers: (first word per type, -1 for none; terminal type per word; offset
    inside it). The pass reads it instead of descending: a binary search whose branches
    the CPU cannot guess and a division per array level, per pointer, were half its time."""
    first = np.full(size.shape[0], -1, dtype=np.int64)
    total = 0
    for t in range(size.shape[0]):
        if has_ptr[t] and 0 < size[t] <= SLOT_TABLE_MAX_BYTES:
            first[t] = total
            total += (size[t] + (1 << shift) - 1) >> shift
    inner = np.empty(total, dtype=np.int32)
    offset = np.empty(total, dtype=np.int32)
    for t in range(size.shape[0]):
        if first[t] >= 0:
            for word in range((size[t] + (1 << shift) - 1) >> shift):
                i, w = descend(t, word << shift, kind, size, elem, length, ff, fo, ft)
                inner[first[t] + word] = i
                offset[first[t] + word] = w
    return first, inner, offset


@numba.njit(cache=True, nogil=True)
def name_keys(obj_type, obj_count, size, obj_first, label):
    """Per object the key of its name (type and array length; an unknown object's size and
    pointer count), as ``ObjectTypes.name_index`` spells it: ``label[o]`` is the index of
    ``o``'s key in the returned distinct keys, in the order first seen. A hash table of the
    few distinct keys stays in the cache: linear, where sorting every object's key was not."""
    capacity = 1024
    slot_key = np.zeros(capacity, dtype=np.int64)
    slot_id = np.full(capacity, -1, dtype=np.int64)
    keys = np.empty(64, dtype=np.int64)
    n_keys = 0
    n_sized = min(size.shape[0], obj_first.shape[0] - 1)  # (all, unless the columns are cut)
    for o in range(obj_type.shape[0]):
        if obj_type[o] >= 0:
            k = (np.int64(obj_type[o]) << 32) + (np.int64(obj_count[o]) + 1)
        elif o < n_sized:
            k = ((-1 - np.int64(size[o])) << 32) + (np.int64(obj_first[o + 1] - obj_first[o]) + 1)
        else:
            k = np.int64(-1) << 32
        h = _key_slot(k, capacity)
        while slot_id[h] >= 0 and slot_key[h] != k:
            h = (h + 1) & (capacity - 1)
        if slot_id[h] >= 0:
            label[o] = slot_id[h]
            continue
        if n_keys == keys.shape[0]:
            keys = np.concatenate((keys, np.empty(n_keys, dtype=np.int64)))
        keys[n_keys] = k
        slot_key[h], slot_id[h] = k, n_keys
        label[o] = n_keys
        n_keys += 1
        if 2 * n_keys > capacity:  # keep probes short: rehash into twice the slots
            capacity *= 2
            slot_key, slot_id = _rehash(keys[:n_keys], capacity)
    return keys[:n_keys]


@numba.njit(cache=True, nogil=True, inline="always")
def _key_slot(k, capacity):
    return np.int64((np.uint64(k) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(32)) & (
        capacity - 1
    )


@numba.njit(cache=True, nogil=True)
def _rehash(keys, capacity):
    slot_key = np.zeros(capacity, dtype=np.int64)
    slot_id = np.full(capacity, -1, dtype=np.int64)
    for i in range(keys.shape[0]):
        h = _key_slot(keys[i], capacity)
        while slot_id[h] >= 0:
            h = (h + 1) & (capacity - 1)
        slot_key[h], slot_id[h] = keys[i], i
    return slot_key, slot_id


@numba.njit(cache=True, nogil=True)
def label_totals(label, size, counted, obj_type, n_labels):
    """Per label: how many of the ``counted`` objects have it, and their bytes; and how
    many of them have a type, and their bytes. (An object whose label is outside the labels
    is not counted: a damaged saved name index never writes out of bounds.)"""
    counts = np.zeros(n_labels, dtype=np.int64)
    nbytes = np.zeros(n_labels, dtype=np.int64)
    typed_objects, typed_bytes = 0, 0
    for o in range(min(label.shape[0], size.shape[0], counted.shape[0], obj_type.shape[0])):
        if counted[o]:
            if 0 <= label[o] < n_labels:
                counts[label[o]] += 1
                nbytes[label[o]] += size[o]
            if obj_type[o] >= 0:
                typed_objects += 1
                typed_bytes += size[o]
    return counts, nbytes, typed_objects, typed_bytes


@numba.njit(cache=True, nogil=True)
def settle(objs, obj_why, obj_type, obj_count):
    """The answer out of the pass's table. The fast path types a plain pointer's target
    without writing why (one store miss less per object): a typed object still saying why
    it has no type gets WHY_POINTER."""
    for o in range(objs.shape[0]):
        obj_type[o] = objs[o, OBJ_TYPE]
        obj_count[o] = objs[o, OBJ_COUNT]
        w = obj_why[o]
        if obj_type[o] >= 0 and (w == WHY_UNREACHED or w >= WHY_MISFIT):  # MISFIT, FIELD
            obj_why[o] = WHY_POINTER


@numba.njit(cache=True, nogil=True)
def type_from_headers(has_header, obj_data, mem, ptr, objs, lookups, tables, state):
    """Malloc-header objects name their type in their first word: ``[n]T`` when the value
    holds two or more T (a slice's backing store)."""
    rtype_off, rtype_type, types_base = lookups[0], lookups[1], lookups[2]
    obj_why = state[S_WHY]
    size, has_ptr = tables[T_SIZE], tables[T_HAS_PTR]
    for o in range(min(has_header.shape[0], objs.shape[0])):
        if not has_header[o] or objs[o, OBJ_TYPE] >= 0:
            continue
        word = read_word(mem, obj_data[o], ptr)
        j = _find_sorted(rtype_off, word - types_base)
        if j < 0:
            continue
        t = rtype_type[j]
        es = size[t]
        if es <= 0:
            continue
        n = (objs[o, OBJ_META] >> META_SHIFT) // es
        if n < 1 or not has_ptr[t]:
            obj_why[o] = WHY_MISFIT
            continue
        _assign_in(o, t, n if n >= 2 else -1, WHY_HEADER, objs, tables, state)


@numba.njit(cache=True, nogil=True)
def spread(seed_type, seed_rel, seed_pos, seed_val, seed_tgt, mem, ptr, objs, obj_data,
           obj_first, field_off, field_val, field_target, tables, lookups, specials,
           state):  # fmt: skip
    """Type what the roots' typed slots point at, then everything reachable from typed
    objects, breadth first in waves (``stack`` collects the objects typed, in order).
    Indexes read from the saved index are checked where they are used (an object's fields
    inside the field columns, a target inside the objects): a damaged index that slipped
    past its checks never makes the pass read or write out of bounds."""
    kind, size, elem, length, has_ptr = tables[0], tables[1], tables[2], tables[3], tables[4]
    ff, fo, ft = tables[10], tables[11], tables[12]
    stack = state[S_STACK]
    n_objects = objs.shape[0]
    head = 1  # stack[head : stack[0] + 1] is typed and not yet scanned
    shift = 3 if ptr == 8 else 2
    slot_first, slot_inner, slot_off = slot_table(kind, size, elem, length, has_ptr, ff, fo, ft,
                                                  shift)  # fmt: skip
    wave_bits = np.zeros((n_objects + 63) // 64, dtype=np.uint64)
    for i in range(seed_type.shape[0] + 1):
        if i < seed_type.shape[0]:  # the last round scans what the headers typed
            tt, w = descend(seed_type[i], seed_rel[i], kind, size, elem, length, ff, fo, ft)
            if tt >= 0 and seed_tgt[i] < n_objects:
                typed_slot(tt, w, seed_pos[i], seed_val[i], seed_tgt[i], mem, ptr, objs, tables,
                           lookups, specials, state)  # fmt: skip
        while head <= stack[0]:
            # one wave in object order: the fields of neighbouring objects are neighbours
            # in memory, where a depth-first order would miss the cache at every object
            wave_end = stack[0]
            sort_wave(stack, head, wave_end + 1, wave_bits)
            scan_wave(head, wave_end, stack, state[S_BITS], objs, objs[:, OBJ_START], obj_first,
                      field_off, field_val, field_target, kind, size, elem, has_ptr, slot_first,
                      slot_inner, slot_off, shift, obj_data, mem, ptr, tables, lookups, specials,
                      state)  # fmt: skip
            head = wave_end + 1


@numba.njit(cache=True, nogil=True)
def scan_wave(head, wave_end, stack, bits, objs, value_start, obj_first, field_off, field_val,
              field_target, kind, size, elem, has_ptr, slot_first, slot_inner, slot_off, shift,
              obj_data, mem, ptr, tables, lookups, specials, state):  # fmt: skip
    """Scan the fields of the objects ``stack[head : wave_end + 1]``. Every array it uses
    in its loop is an argument of its own: one taken out of a tuple, or handed to an
    inlined helper, costs an atomic reference count change, and those (a fence each)
    kept the cache misses of one object from overlapping the next one's: half the pass."""
    n_objects, n_fields = objs.shape[0], field_target.shape[0]
    word_mask = (1 << shift) - 1
    one = np.uint64(1)
    for j in range(head, wave_end + 1):
        o = stack[j]
        # the untyped targets of an object a few ahead: their misses overlap this
        # one's work (settled ones are known from the bits: no miss to wait for)
        ahead = stack[min(j + PREFETCH_AHEAD, wave_end)]
        lo, hi = clamped(obj_first[ahead], obj_first[ahead + 1], n_fields)
        for f in range(lo, min(hi, lo + 8)):
            a = field_target[f]
            if 0 <= a < n_objects and (bits[a >> 6] & (one << np.uint64(a & 63))) == 0:
                prefetch(value_start, a)  # and the rest of its row: one line
        t, n = objs[o, OBJ_TYPE], objs[o, OBJ_COUNT]
        es = size[t]
        span = es * n if n >= 0 else es
        base = (objs[o, OBJ_META] & META_HEADER) << 1  # the value starts 8 bytes in
        first, last = obj_first[o], obj_first[o + 1]
        at = slot_first[t]
        if first < 0 or last > n_fields:
            continue
        for f in range(first, last):
            tg = field_target[f]
            if tg < 0 or tg >= n_objects or (bits[tg >> 6] & (one << np.uint64(tg & 63))) != 0:
                continue  # nil, outside the heap, or settled: nothing to learn
            rel = np.int64(field_off[f]) - base
            if rel < 0 or rel >= span:
                continue  # the header word, or size-class slack
            if n >= 0:
                rel -= (rel // es) * es
            if at >= 0 and (rel & word_mask) == 0:
                tt, w = slot_inner[at + (rel >> shift)], slot_off[at + (rel >> shift)]
            else:
                tt, w = descend(t, rel, kind, size, elem, tables[T_LENGTH], tables[10],
                                tables[11], tables[12])  # fmt: skip
            if tt < 0:
                continue  # no pointer here
            if w == 0 and kind[tt] == G.PTR:
                # the common case, decided here (a call of typed_slot costs more than the
                # rest of the pass): a *T to the start of an untyped object that is one T
                # (or T holds pointers, or it is a tiny block: else maybe a block of many T)
                e = elem[tt]
                if e >= 0 and np.int64(field_val[f]) == objs[tg, OBJ_START] and size[e] > 0:
                    m = objs[tg, OBJ_META]
                    value_size = m >> META_SHIFT
                    if (objs[tg, OBJ_TYPE] < 0 and has_ptr[e] == ((m & META_PTRS) != 0)
                            and size[e] <= value_size
                            and (has_ptr[e] or (m & META_TINY) != 0
                                 or value_size < 2 * size[e])):  # fmt: skip
                        objs[tg, OBJ_TYPE] = e  # count stays -1, why is set after
                        bits[tg >> 6] |= one << np.uint64(tg & 63)
                        if has_ptr[e]:
                            stack[0] += 1
                            stack[stack[0]] = tg
                        continue
            typed_slot(tt, w, obj_data[o] + field_off[f], field_val[f], tg, mem, ptr, objs,
                       tables, lookups, specials, state)  # fmt: skip
