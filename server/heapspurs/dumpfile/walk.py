"""The compiled walk over a dump's records: bytes in, flat columns out.

One pass over the file (a window of it at a time) fills growable arrays: objects (address,
size, file offset of their bytes, first pointer field), their pointer fields (offset,
value), a row per other record (tag, file offset, its leading values) and the pointer slots
of stack frames and data/bss segments ("root fields"). The walk stops after ``stop`` bytes
so the caller can report progress and cancel between windows; all state lives in the
arrays and ``state``.
Errors are reported as codes in ``state`` (numba cannot raise rich exceptions), translated by
:func:`error_message`.
"""

import numba
import numpy as np

ROW = 16  # columns of a record row: tag, file offset, then up to 14 values

# indexes into the state vector
S_OBJECTS, S_FIELDS, S_RECORDS, S_ROOT_FIELDS = 0, 1, 2, 3
S_PTR_SIZE, S_BIG_ENDIAN, S_ERROR, S_ERROR_OFFSET, S_ERROR_ARG, S_DONE = 4, 5, 6, 7, 8, 9
S_RECORD_START = 10  # start of the record being read: where to resume with more bytes
STATE_SIZE = 11
TRUNCATION_ERRORS = (1, 3, 9)  # may only mean "the window ends here" before the file's end

E_TRUNCATED_VARINT = 1
E_LONG_VARINT = 2
E_PAST_END = 3
E_UNKNOWN_TAG = 4
E_FIELD_KIND = 5
E_FIELD_OUTSIDE = 6
E_BEFORE_PARAMS = 7
E_POINTER_SIZE = 8
E_NO_EOF = 9
E_ADDRESS_SPACE = 10


def error_message(code: int, arg: int) -> str:
    return {
        E_TRUNCATED_VARINT: "the file ends inside a number (uvarint)",
        E_LONG_VARINT: "a number (uvarint) runs over 10 bytes or past 64 bits",
        E_PAST_END: f"a length of {arg} bytes runs past the end of the file",
        E_UNKNOWN_TAG: f"unknown record tag {arg} (expected 0..17)",
        E_FIELD_KIND: f"unknown field kind {arg} (expected 0..3)",
        E_FIELD_OUTSIDE: f"a pointer field at offset {arg} lies outside its record",
        E_BEFORE_PARAMS: "a record that needs the pointer size comes before DumpParams",
        E_POINTER_SIZE: f"pointer size {arg} is neither 4 nor 8",
        E_NO_EOF: "the file ends before the End Of File record (truncated dump)",
        E_ADDRESS_SPACE: f"a record at address {arg % 2**64:#x} runs past the end of the "
        "address space",
    }.get(code, f"error {code}")


@numba.njit(cache=True, nogil=True)
def _uvarint(buf, pos, end):
    """(value, next position); next position -1: truncated, -2: over 10 bytes."""
    if pos < end and buf[pos] < 128:  # one byte: most tags, kinds, offsets and lengths
        return np.uint64(buf[pos]), pos + 1
    value = np.uint64(0)
    shift = np.uint64(0)
    for i in range(10):
        if pos + i >= end:
            return value, -1
        b = buf[pos + i]
        if i == 9 and b > 1:  # the tenth byte holds bit 63 only
            return value, -2
        value |= np.uint64(b & 127) << shift
        if b < 128:
            return value, pos + i + 1
        shift += np.uint64(7)
    return value, -2


@numba.njit(cache=True, nogil=True, inline="always")
def past_address_space(address, length, ptr_size):
    """Whether ``length`` bytes from ``address`` run past the ``ptr_size``-byte address
    space (an address or an end that no pointer can hold)."""
    top = np.uint64(0xFFFFFFFFFFFFFFFF) >> np.uint64(64 - 8 * ptr_size)
    if address > top:
        return True
    return length > np.uint64(0) and length - np.uint64(1) > top - address


@numba.njit(cache=True, nogil=True)
def read_word(buf, pos, ptr_size, big_endian):
    value = np.uint64(0)
    if big_endian:
        for i in range(ptr_size):
            value = (value << np.uint64(8)) | np.uint64(buf[pos + i])
    else:
        for i in range(ptr_size - 1, -1, -1):
            value = (value << np.uint64(8)) | np.uint64(buf[pos + i])
    return value


@numba.njit(cache=True, nogil=True)
def _grow(a, need):
    if need <= a.shape[0]:
        return a
    size = max(need, a.shape[0] * 2, 1024)
    b = np.empty((size, *a.shape[1:]), dtype=a.dtype)
    b[: a.shape[0]] = a
    return b


@numba.njit(cache=True, nogil=True)
def _fail(state, code, offset, arg):
    state[S_ERROR] = code
    state[S_ERROR_OFFSET] = offset
    state[S_ERROR_ARG] = arg
    return -1


@numba.njit(cache=True, nogil=True)
def _varint_fail(state, npos, pos):
    code = E_TRUNCATED_VARINT if npos == -1 else E_LONG_VARINT
    return _fail(state, code, pos, 0)


@numba.njit(cache=True, nogil=True)
def walk_chunk(buf, pos, stop, base, state, codes, lengths, cols):
    """Walk records from ``pos`` until ``stop`` (or EOF, or an error); return the new position.

    ``buf`` is a window of the file starting at file offset ``base``: positions are local to
    it, and the offsets stored in the columns are file offsets.

    ``cols`` is a tuple of the growable arrays, returned (maybe reallocated) with the position.
    """
    (
        obj_addr,
        obj_size,
        obj_data,
        obj_first,
        field_off,
        field_val,
        recs,
        root_rec,
        root_off,
        root_val,
    ) = cols
    end = buf.shape[0]
    while pos < stop:
        start = pos
        state[S_RECORD_START] = start
        tag, pos = _uvarint(buf, pos, end)
        if pos < 0:
            if pos == -1 and start == end:
                pos = _fail(state, E_NO_EOF, start, 0)
            else:
                pos = _varint_fail(state, pos, start)
            break
        if tag == 0:
            state[S_DONE] = 1
            break
        if tag > lengths.shape[0] - 1 or lengths[tag] < 0:
            pos = _fail(state, E_UNKNOWN_TAG, start, np.int64(tag & np.uint64(0x7FFFFFFF)))
            break
        if tag == 1:  # Objects come in one long run: walk it in a tight loop
            if state[S_PTR_SIZE] == 0:
                pos = _fail(state, E_BEFORE_PARAMS, start, 0)
                break
            pos, n, k, err, err_pos, err_arg = object_run(
                buf,
                start,
                stop,
                base,
                state[S_PTR_SIZE],
                state[S_BIG_ENDIAN] != 0,
                obj_addr,
                obj_size,
                obj_data,
                obj_first,
                field_off,
                field_val,
                state[S_OBJECTS],
                state[S_FIELDS],
            )
            state[S_OBJECTS], state[S_FIELDS] = n, k
            if err == NEED_ROOM:  # resume at `pos` once the arrays have doubled
                obj_addr = _grow(obj_addr, obj_addr.shape[0] + 1)
                obj_size = _grow(obj_size, obj_size.shape[0] + 1)
                obj_data = _grow(obj_data, obj_data.shape[0] + 1)
                obj_first = _grow(obj_first, obj_first.shape[0] + 1)
                field_off = _grow(field_off, field_off.shape[0] + 1)
                field_val = _grow(field_val, field_val.shape[0] + 1)
                continue
            if err != 0:
                state[S_RECORD_START] = pos  # the failing record's start
                pos = _fail(state, err, err_pos, err_arg)
                break
            continue
        # every other record: generic, driven by the layout table
        r = state[S_RECORDS]
        recs = _grow(recs, r + 1)
        recs[r, :] = 0
        recs[r, 0] = tag
        recs[r, 1] = base + start
        col = 2
        count = lengths[tag]
        prev = np.uint64(0)
        data_pos = np.int64(0)
        data_len = np.int64(0)
        contents_pos = np.int64(-1)  # the record's first string: its contents, for field lists
        contents_len = np.int64(0)
        for i in range(count):
            code = codes[tag, 0] if tag == 10 else codes[tag, i]
            if code == 1:
                v, p = _uvarint(buf, pos, end)
                if p < 0:
                    pos = _varint_fail(state, p, pos)
                    break
                pos = p
                prev = v
                if tag == 6 and i == 1:
                    if v != 4 and v != 8:
                        pos = _fail(state, E_POINTER_SIZE, start, np.int64(v & np.uint64(0xFFFF)))
                        break
                    state[S_PTR_SIZE] = np.int64(v)
                    state[S_BIG_ENDIAN] = np.int64(recs[r, 2])
                if col < ROW:
                    recs[r, col] = v
                    col += 1
            elif code == 2:
                pos, data_pos, data_len = _string(buf, pos, end, state)
                if pos < 0:
                    break
                if contents_pos < 0:
                    contents_pos, contents_len = data_pos, data_len
                if col + 1 < ROW:
                    recs[r, col] = base + data_pos
                    recs[r, col + 1] = data_len
                    col += 2
            elif code == 3:
                if state[S_PTR_SIZE] == 0:
                    pos = _fail(state, E_BEFORE_PARAMS, start, 0)
                    break
                first = state[S_ROOT_FIELDS]
                fields_start = pos
                pos = _fields(buf, pos, end, state, contents_pos, contents_len, r)
                if pos < 0:
                    break
                root_rec, root_off, root_val = _store_root_fields(
                    buf,
                    fields_start,
                    state,
                    contents_pos,
                    contents_len,
                    r,
                    root_rec,
                    root_off,
                    root_val,
                )
                if col + 1 < ROW:
                    recs[r, col] = first
                    recs[r, col + 1] = state[S_ROOT_FIELDS] - first
                    col += 2
            else:  # code 4: `prev` stack entries of (string, string, uvarint)
                for _ in range(np.int64(min(prev, np.uint64(1) << np.uint64(40)))):
                    pos, data_pos, data_len = _string(buf, pos, end, state)
                    if pos < 0:
                        break
                    pos, data_pos, data_len = _string(buf, pos, end, state)
                    if pos < 0:
                        break
                    v, p = _uvarint(buf, pos, end)
                    if p < 0:
                        pos = _varint_fail(state, p, pos)
                        break
                    pos = p
                if pos < 0:
                    break
        if pos < 0:
            break
        if tag == 5 or tag == 12 or tag == 13:  # frame or data/bss: address, then bytes
            length = recs[r, 6] if tag == 5 else recs[r, 4]
            if past_address_space(recs[r, 2], length, state[S_PTR_SIZE]):
                pos = _fail(state, E_ADDRESS_SPACE, start, np.int64(recs[r, 2]))
                break
        state[S_RECORDS] = r + 1
    cols = (
        obj_addr,
        obj_size,
        obj_data,
        obj_first,
        field_off,
        field_val,
        recs,
        root_rec,
        root_off,
        root_val,
    )
    return pos, cols


NEED_ROOM = -3


@numba.njit(cache=True, nogil=True)
def object_run(
    buf,
    pos,
    stop,
    base,
    ptr_size,
    big,
    obj_addr,
    obj_size,
    obj_data,
    obj_first,
    field_off,
    field_val,
    n,
    k,
):
    """Walk consecutive object records from ``pos`` (a run of them fills most of a dump), on
    plain values only so they stay in registers. NEED_ROOM: the arrays must grow first; the
    returned position is then the first record not consumed.
    Returns (position, objects, fields, error code, error offset, error argument); on an
    error the position is the start of the failing record."""
    end = buf.shape[0]
    cap_obj = obj_addr.shape[0] - 1
    cap_fields = field_off.shape[0]
    fast_words = ptr_size == 8 and not big
    while pos < stop:
        start = pos
        tag, p = _uvarint(buf, pos, end)
        if p < 0 or tag != 1:
            break  # the generic path reports or handles it
        if n >= cap_obj:
            return start, n, k, NEED_ROOM, 0, 0
        addr, p2 = _uvarint(buf, p, end)
        if p2 < 0:
            return start, n, k, _varint_code(p2), p, 0
        size, q = _uvarint(buf, p2, end)
        if q < 0:
            return start, n, k, _varint_code(q), p2, 0
        if size > np.uint64(end - q):
            return start, n, k, E_PAST_END, p2, np.int64(min(size, np.uint64(1) << np.uint64(62)))
        if past_address_space(addr, size, ptr_size):
            return start, n, k, E_ADDRESS_SPACE, start, np.int64(addr)
        first = k
        pos = q + np.int64(size)
        while True:  # the pointer fields, validated and stored in one pass
            kind, r = _uvarint(buf, pos, end)
            if r < 0:
                return start, n, first, _varint_code(r), pos, 0
            if kind == 0:
                pos = r
                break
            if kind > 3:
                return start, n, first, E_FIELD_KIND, pos, np.int64(kind & np.uint64(0xFFFF))
            off, r2 = _uvarint(buf, r, end)
            if r2 < 0:
                return start, n, first, _varint_code(r2), r, 0
            if off > size:  # before the iface step below could wrap it round
                return start, n, first, E_FIELD_OUTSIDE, r, np.int64(off & np.uint64(0xFFFFFFFFFF))
            if kind != 1:
                off += np.uint64(ptr_size)  # iface/eface: the data word is the pointer
            if off > size or size - off < np.uint64(ptr_size) or off > np.uint64(0xFFFFFFFF):
                arg = np.int64(off & np.uint64(0xFFFFFFFFFF))
                return start, n, first, E_FIELD_OUTSIDE, r, arg
            if k >= cap_fields:
                return start, n, first, NEED_ROOM, 0, 0
            field_off[k] = np.uint32(off)
            at = q + np.int64(off)
            if fast_words:
                field_val[k] = _le64(buf, at)
            else:
                field_val[k] = read_word(buf, at, ptr_size, big)
            k += 1
            pos = r2
        obj_addr[n] = addr
        obj_size[n] = np.int64(size)
        obj_data[n] = base + q
        obj_first[n] = first
        n += 1
    return pos, n, k, 0, 0, 0


@numba.njit(cache=True, nogil=True, inline="always")
def _le64(buf, at):
    return (
        np.uint64(buf[at])
        | np.uint64(buf[at + 1]) << np.uint64(8)
        | np.uint64(buf[at + 2]) << np.uint64(16)
        | np.uint64(buf[at + 3]) << np.uint64(24)
        | np.uint64(buf[at + 4]) << np.uint64(32)
        | np.uint64(buf[at + 5]) << np.uint64(40)
        | np.uint64(buf[at + 6]) << np.uint64(48)
        | np.uint64(buf[at + 7]) << np.uint64(56)
    )


@numba.njit(cache=True, nogil=True)
def _varint_code(npos):
    return E_TRUNCATED_VARINT if npos == -1 else E_LONG_VARINT


@numba.njit(cache=True, nogil=True)
def _string(buf, pos, end, state):
    """A length-prefixed byte string: (next position, data position, length)."""
    n, p = _uvarint(buf, pos, end)
    if p < 0:
        return _varint_fail(state, p, pos), 0, 0
    if n > np.uint64(end - p):
        return _fail(state, E_PAST_END, pos, np.int64(min(n, np.uint64(1) << np.uint64(62)))), 0, 0
    return p + np.int64(n), p, np.int64(n)


@numba.njit(cache=True, nogil=True)
def _fields(buf, pos, end, state, data_pos, data_len, record):
    """Validate a field list; return the position after its end marker."""
    ptr_size = state[S_PTR_SIZE]
    while True:
        kind, p = _uvarint(buf, pos, end)
        if p < 0:
            return _varint_fail(state, p, pos)
        if kind == 0:
            return p
        if kind > 3:
            return _fail(state, E_FIELD_KIND, pos, np.int64(kind & np.uint64(0xFFFF)))
        off, q = _uvarint(buf, p, end)
        if q < 0:
            return _varint_fail(state, q, p)
        width = ptr_size * 2 if kind != 1 else ptr_size
        if off > np.uint64(data_len) or np.uint64(data_len) - off < np.uint64(width):
            return _fail(state, E_FIELD_OUTSIDE, p, np.int64(off & np.uint64(0x7FFFFFFFFFFF)))
        pos = q


@numba.njit(cache=True, nogil=True)
def _next_field(buf, pos):
    """Decode an already validated (kind, offset) pair: (kind, offset of the pointer, next)."""
    kind, p = _uvarint(buf, pos, buf.shape[0])
    if kind == 0:
        return 0, np.int64(0), p
    off, q = _uvarint(buf, p, buf.shape[0])
    return np.int64(kind), np.int64(off), q


@numba.njit(cache=True, nogil=True)
def _store_root_fields(buf, pos, state, data_pos, data_len, record, root_rec, root_off, root_val):
    ptr_size = state[S_PTR_SIZE]
    big = state[S_BIG_ENDIAN] != 0
    while True:
        kind, off, pos = _next_field(buf, pos)
        if kind == 0:
            return root_rec, root_off, root_val
        if kind != 1:
            off += ptr_size
        k = state[S_ROOT_FIELDS]
        if k >= root_rec.shape[0]:
            root_rec = _grow(root_rec, k + 1)
            root_off = _grow(root_off, k + 1)
            root_val = _grow(root_val, k + 1)
        root_rec[k] = record
        root_off[k] = off
        root_val[k] = read_word(buf, data_pos + off, ptr_size, big)
        state[S_ROOT_FIELDS] = k + 1


@numba.njit(cache=True, nogil=True)
def gather_u64(buf, positions, big_endian):
    """The 64-bit word at each file position (-1 positions give 0)."""
    out = np.zeros(positions.shape[0], dtype=np.uint64)
    for i in range(positions.shape[0]):
        if positions[i] >= 0:
            out[i] = read_word(buf, positions[i], 8, big_endian)
    return out


CONFIRM_OBJECTS = 16  # object records that must parse back to back from a guessed start


@numba.njit(cache=True, nogil=True)
def find_object_run(buf, pos, limit, ptr_size, big, heap_start, heap_end):
    """The first position in ``[pos, limit)`` where CONFIRM_OBJECTS object records, with
    addresses in the heap, parse back to back and another one follows; -1 if none.

    A guess, not a fact (an object's bytes could imitate records): the caller only trusts
    it once the walk from the file's start lands on the same position.
    """
    cap = CONFIRM_OBJECTS
    addr = np.empty(cap + 1, dtype=np.uint64)
    size = np.empty(cap + 1, dtype=np.int64)
    data = np.empty(cap + 1, dtype=np.int64)
    first = np.empty(cap + 1, dtype=np.int64)
    field_off = np.empty(1 << 16, dtype=np.uint32)
    field_val = np.empty(1 << 16, dtype=np.uint64)
    for p in range(pos, limit):
        if buf[p] != 1:
            continue
        _, n, _, err, _, _ = object_run(buf, p, buf.shape[0], 0, ptr_size, big, addr, size,
                                         data, first, field_off, field_val, 0, 0)  # fmt: skip
        if err != NEED_ROOM or n != cap:  # NEED_ROOM after cap objects: one more follows
            continue
        inside = True
        for i in range(cap):
            inside = inside and heap_start <= addr[i] < heap_end
        if inside:
            return p
    return -1


@numba.njit(cache=True, nogil=True)
def move_down(a, src, dst, count):
    """``a[dst:dst + count] = a[src:src + count]`` in place, for ``dst <= src`` (the ranges may
    overlap; numpy would copy through a temporary array)."""
    for i in range(count):
        a[dst + i] = a[src + i]
