"""The compiled walk over a dump's records: bytes in, flat columns out.

One pass over the memory-mapped file fills growable arrays: objects (address, size, file
offset of their bytes, first pointer field), their pointer fields (offset, value), a row per
other record (tag, file offset, its leading values) and the pointer slots of stack frames and
data/bss segments ("root fields"). The walk stops after ``stop`` bytes so the caller can
report progress and cancel between chunks; all state lives in the arrays and ``state``.
Errors are reported as codes in ``state`` (numba cannot raise rich exceptions), translated by
:func:`error_message`.
"""

import numba
import numpy as np

ROW = 16  # columns of a record row: tag, file offset, then up to 14 values

# indexes into the state vector
S_OBJECTS, S_FIELDS, S_RECORDS, S_ROOT_FIELDS = 0, 1, 2, 3
S_PTR_SIZE, S_BIG_ENDIAN, S_ERROR, S_ERROR_OFFSET, S_ERROR_ARG, S_DONE = 4, 5, 6, 7, 8, 9
STATE_SIZE = 10

E_TRUNCATED_VARINT = 1
E_LONG_VARINT = 2
E_PAST_END = 3
E_UNKNOWN_TAG = 4
E_FIELD_KIND = 5
E_FIELD_OUTSIDE = 6
E_BEFORE_PARAMS = 7
E_POINTER_SIZE = 8
E_NO_EOF = 9


def error_message(code: int, arg: int) -> str:
    return {
        E_TRUNCATED_VARINT: "the file ends inside a number (uvarint)",
        E_LONG_VARINT: "a number (uvarint) runs over 10 bytes",
        E_PAST_END: f"a length of {arg} bytes runs past the end of the file",
        E_UNKNOWN_TAG: f"unknown record tag {arg} (expected 0..17)",
        E_FIELD_KIND: f"unknown field kind {arg} (expected 0..3)",
        E_FIELD_OUTSIDE: f"a pointer field at offset {arg} lies outside its record",
        E_BEFORE_PARAMS: "a record that needs the pointer size comes before DumpParams",
        E_POINTER_SIZE: f"pointer size {arg} is neither 4 nor 8",
        E_NO_EOF: "the file ends before the End Of File record (truncated dump)",
    }.get(code, f"error {code}")


@numba.njit(cache=True, nogil=True)
def _uvarint(buf, pos, end):
    """(value, next position); next position -1: truncated, -2: over 10 bytes."""
    value = np.uint64(0)
    shift = np.uint64(0)
    for i in range(10):
        if pos + i >= end:
            return value, -1
        b = np.uint64(buf[pos + i])
        value |= (b & np.uint64(0x7F)) << shift
        if b < 0x80:
            return value, pos + i + 1
        shift += np.uint64(7)
    return value, -2


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
def walk_chunk(buf, pos, stop, state, codes, lengths, cols):
    """Walk records from ``pos`` until ``stop`` (or EOF, or an error); return the new position.

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
        if tag == 1:  # Object: the hot path
            if state[S_PTR_SIZE] == 0:
                pos = _fail(state, E_BEFORE_PARAMS, start, 0)
                break
            addr, p = _uvarint(buf, pos, end)
            if p < 0:
                pos = _varint_fail(state, p, pos)
                break
            size, q = _uvarint(buf, p, end)
            if q < 0:
                pos = _varint_fail(state, q, p)
                break
            if size > np.uint64(end - q):
                pos = _fail(
                    state, E_PAST_END, p, np.int64(min(size, np.uint64(1) << np.uint64(62)))
                )
                break
            n = state[S_OBJECTS]
            if n + 1 >= obj_addr.shape[0]:
                obj_addr = _grow(obj_addr, n + 2)
                obj_size = _grow(obj_size, n + 2)
                obj_data = _grow(obj_data, n + 2)
                obj_first = _grow(obj_first, n + 2)
            obj_addr[n] = addr
            obj_size[n] = np.int64(size)
            obj_data[n] = q
            obj_first[n] = state[S_FIELDS]
            pos = q + np.int64(size)
            pos = _fields(buf, pos, end, state, q, np.int64(size), -1)
            if pos < 0:
                break
            field_off, field_val = _store_object_fields(
                buf, q, np.int64(size), start, state, field_off, field_val
            )
            if state[S_ERROR] != 0:
                pos = -1
                break
            state[S_OBJECTS] = n + 1
            continue
        # every other record: generic, driven by the layout table
        r = state[S_RECORDS]
        recs = _grow(recs, r + 1)
        recs[r, 0] = tag
        recs[r, 1] = start
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
                    recs[r, col] = data_pos
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
def _store_object_fields(buf, data_pos, data_len, start, state, field_off, field_val):
    ptr_size = state[S_PTR_SIZE]
    big = state[S_BIG_ENDIAN] != 0
    pos = data_pos + data_len
    while True:
        kind, off, pos = _next_field(buf, pos)
        if kind == 0:
            return field_off, field_val
        if kind != 1:
            off += ptr_size  # iface/eface: the data word is the pointer
        if off > 0xFFFFFFFF:
            _fail(state, E_FIELD_OUTSIDE, start, off)
            return field_off, field_val
        k = state[S_FIELDS]
        if k >= field_off.shape[0]:
            field_off = _grow(field_off, k + 1)
            field_val = _grow(field_val, k + 1)
        field_off[k] = np.uint32(off)
        field_val[k] = read_word(buf, data_pos + off, ptr_size, big)
        state[S_FIELDS] = k + 1


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
