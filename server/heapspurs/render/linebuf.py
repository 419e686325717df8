"""Compiled formatting of many lines at once: an owner tree of millions of objects (text or
JSON) and an anchor chain of a million addresses become bytes in buffers, a chunk of lines
per call, instead of a Python string per line. Names come as a small table of encoded
strings indexed per line."""

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import numba
import numpy as np

from ..heap.graph import prefetch

P = TypeVar("P")

MAX_INDENT = 32  # deeper owner levels print their number instead of more spaces
LINE_BYTES = 256  # bound on one line's bytes besides its name (indent, numbers, words)
BUFFER_BYTES = 1 << 20  # formatted at a time
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX_PAIRS = np.frombuffer(b"".join(b"%02x" % i for i in range(256)), dtype=np.uint8)


@numba.njit(cache=True, nogil=True)
def object_columns(nodes, addr, obj_first, size, name_index):
    """Per node (object index): address, pointer count, size and name entry (``name_index
    + 1``), gathered with prefetching ahead (twice as fast as numpy's gathers on millions of
    scattered objects) so the formatting kernels then read memory in order."""
    m = nodes.shape[0]
    addresses = np.empty(m, dtype=np.uint64)
    pointers = np.empty(m, dtype=np.int64)
    sizes = np.empty(m, dtype=np.int64)
    name_ids = np.empty(m, dtype=np.int32)
    for i in range(m):
        ahead = nodes[min(i + 16, m - 1)]
        prefetch(addr, ahead)
        prefetch(obj_first, ahead)
        prefetch(size, ahead)
        prefetch(name_index, ahead)
        o = nodes[i]
        addresses[i], sizes[i] = addr[o], size[o]
        pointers[i] = obj_first[o + 1] - obj_first[o]
        name_ids[i] = name_index[o] + 1
    return addresses, pointers, sizes, name_ids


@numba.njit(cache=True, nogil=True, inline="always")
def _put(out, at, text):
    for i in range(text.shape[0]):
        out[at + i] = text[i]
    return at + text.shape[0]


@numba.njit(cache=True, nogil=True)
def _put_hex(out, at, value):
    """``0x`` and lowercase hex digits without leading zeros (Python's ``f"{v:#x}"``),
    written from the last digit back, two digits (a byte) per step."""
    out[at], out[at + 1] = 48, 120
    at += 2
    digits = 1
    while digits < 16 and value >> np.uint64(4 * digits) != 0:
        digits += 1
    end = at + digits
    p = end
    while p - at >= 2:
        pair = 2 * np.int64(value & np.uint64(255))
        out[p - 2], out[p - 1] = _HEX_PAIRS[pair], _HEX_PAIRS[pair + 1]
        value >>= np.uint64(8)
        p -= 2
    if p > at:
        out[at] = _HEX[np.int64(value)]
    return end


@numba.njit(cache=True, nogil=True)
def _put_dec(out, at, value):
    """A non-negative integer in decimal."""
    if value < 10:  # most pointer counts
        out[at] = 48 + value
        return at + 1
    digits = 1
    v = value // 10
    while v > 0:
        digits += 1
        v //= 10
    for i in range(at + digits - 1, at - 1, -1):
        out[i] = 48 + value % 10
        value //= 10
    return at + digits


@numba.njit(cache=True, nogil=True)
def _put_indent(out, at, level):
    """Two spaces a level; past MAX_INDENT levels, ``[level] `` after the deepest indent.
    (Slice assignments compile to block fills and copies: a third faster than byte loops
    on 4.5M lines.)"""
    width = 2 * min(level, MAX_INDENT)
    out[at : at + width] = 32
    at += width
    if level > MAX_INDENT:
        out[at] = 91
        at = _put_dec(out, at + 1, level)
        out[at], out[at + 1] = 93, 32
        at += 2
    return at


@numba.njit(cache=True, nogil=True)
def _put_name(out, at, names, name_start, name_id):
    start, end = name_start[name_id], name_start[name_id + 1]
    out[at : at + end - start] = names[start:end]
    return at + end - start


@numba.njit(cache=True, nogil=True)
def _fits(out, at, name_start, name_id, field_start, field_id):
    """Room for a line with this name and field besides LINE_BYTES?"""
    name = name_start[name_id + 1] - name_start[name_id]
    field = field_start[field_id + 1] - field_start[field_id]
    return at + LINE_BYTES + name + field <= out.shape[0]


@numba.njit(cache=True, nogil=True)
def owner_text(levels, addresses, pointers, sizes, name_ids, field_ids, names, name_start,
               fields, field_start, out):  # fmt: skip
    """``{indent}{name} @ {address:#x} with {pointers} pointers in {size} bytes`` per line,
    then `` via {field}`` where the line's field entry is not 0 (empty), newline-terminated,
    as many lines as fit in ``out``. Returns (lines, bytes written)."""
    at = 0
    for i in range(levels.shape[0]):
        if not _fits(out, at, name_start, name_ids[i], field_start, field_ids[i]):
            return i, at
        at = _put_indent(out, at, levels[i])
        at = _put_name(out, at, names, name_start, name_ids[i])
        at = _put(out, at, _AT)
        at = _put_hex(out, at, addresses[i])
        at = _put(out, at, _WITH)
        at = _put_dec(out, at, pointers[i])
        at = _put(out, at, _POINTERS_IN)
        at = _put_dec(out, at, sizes[i])
        at = _put(out, at, _BYTES)
        if field_ids[i] > 0:
            at = _put(out, at, _VIA)
            at = _put_name(out, at, fields, field_start, field_ids[i])
        out[at] = 10
        at += 1
    return levels.shape[0], at


@numba.njit(cache=True, nogil=True)
def owner_json(levels, addresses, pointers, sizes, name_ids, value_offsets, points_to,
               field_offsets, type_ids, field_ids, names, name_start, types, type_start, fields,
               field_start, out):  # fmt: skip
    """One ``, {"object": {...}}`` per line as ``json.dumps`` writes it, newline-terminated,
    as many as fit in ``out``; ``points_to`` and ``offset`` unless the offset is negative
    (the target), then ``field`` where the line's field entry is not 0 (none). Returns
    (lines, bytes written)."""
    at = 0
    for i in range(levels.shape[0]):
        typename = type_start[type_ids[i] + 1] - type_start[type_ids[i]]
        if not _fits(out, at + typename, name_start, name_ids[i], field_start, field_ids[i]):
            return i, at
        at = _put(out, at, _J_ADDRESS)
        at = _put_hex(out, at, addresses[i])
        at = _put(out, at, _J_SIZE)
        at = _put_dec(out, at, sizes[i])
        at = _put(out, at, _J_NAME)
        at = _put_name(out, at, names, name_start, name_ids[i])
        at = _put(out, at, _J_TYPE)
        at = _put_name(out, at, types, type_start, type_ids[i])
        at = _put(out, at, _J_POINTERS)
        at = _put_dec(out, at, pointers[i])
        at = _put(out, at, _J_VALUE_OFFSET)
        at = _put_dec(out, at, value_offsets[i])
        at = _put(out, at, _J_DEPTH)
        at = _put_dec(out, at, levels[i])
        if field_offsets[i] >= 0:
            at = _put(out, at, _J_POINTS_TO)
            at = _put_hex(out, at, points_to[i])
            at = _put(out, at, _J_OFFSET)
            at = _put_dec(out, at, field_offsets[i])
            if field_ids[i] > 0:
                at = _put(out, at, _J_FIELD)
                at = _put_name(out, at, fields, field_start, field_ids[i])
        at = _put(out, at, _J_END)
    return levels.shape[0], at


@numba.njit(cache=True, nogil=True)
def quoted_hex(values, separator, out):
    """``"0x…"`` per value, ``separator`` between them; returns the bytes written (``out``
    holds ``len(values) * (20 + len(separator))``)."""
    at = 0
    for i in range(values.shape[0]):
        if i > 0:
            at = _put(out, at, separator)
        out[at] = 34
        at = _put_hex(out, at + 1, values[i])
        out[at] = 34
        at += 1
    return at


def quoted_hex_text(values: np.ndarray, separator: str) -> str:
    """The addresses as JSON strings, ``separator`` between them, in one string."""
    sep = _bytes(separator)
    out = np.empty(len(values) * (20 + len(sep)), dtype=np.uint8)
    return str(out[: quoted_hex(values, sep, out)].data, "utf-8")


def prepared_ahead(
    pieces: Iterable[P], prepare: Callable[[Any], tuple[tuple, tuple]], wanted: type
) -> Iterator[tuple[P, tuple[tuple, tuple] | None]]:
    """Each piece with ``prepare(piece)`` (its columns and tables for :func:`chunks`; None
    for pieces not ``wanted``), the next one prepared on another core while the caller
    formats this one (the formatting kernels let go of the GIL)."""
    with ThreadPoolExecutor(1) as helper:
        held: tuple[P, Future | None] | None = None
        for piece in pieces:
            made = helper.submit(prepare, piece) if isinstance(piece, wanted) else None
            if held is not None:
                yield held[0], held[1].result() if held[1] is not None else None
            held = (piece, made)
        if held is not None:
            yield held[0], held[1].result() if held[1] is not None else None


def chunks(format_lines, columns: tuple, *tables) -> Iterator[str]:
    """Run a formatting kernel over per-line ``columns`` (arrays gathered beforehand: the
    kernel then reads memory in order), a buffer at a time; each chunk is whole lines
    joined by newlines."""
    out = np.empty(BUFFER_BYTES, dtype=np.uint8)
    done, n_lines = 0, len(columns[0])
    while done < n_lines:
        lines, n = format_lines(*(c[done:] for c in columns), *tables, out)
        if lines == 0:  # one line longer than the buffer
            out = np.empty(2 * len(out), dtype=np.uint8)
            continue
        done += lines
        yield str(out[: n - 1].data, "utf-8")  # without the last newline


def _bytes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode(), dtype=np.uint8)


_AT = _bytes(" @ ")
_WITH = _bytes(" with ")
_POINTERS_IN = _bytes(" pointers in ")
_BYTES = _bytes(" bytes")
_VIA = _bytes(" via ")
_J_ADDRESS = _bytes(', {"object": {"address": "')
_J_SIZE = _bytes('", "size": ')
_J_NAME = _bytes(', "name": ')
_J_TYPE = _bytes(', "type": ')
_J_POINTERS = _bytes(', "pointers": ')
_J_VALUE_OFFSET = _bytes(', "value_offset": ')
_J_DEPTH = _bytes(', "depth": ')
_J_POINTS_TO = _bytes(', "points_to": "')
_J_OFFSET = _bytes('", "offset": ')
_J_FIELD = _bytes(', "field": ')
_J_END = _bytes("}}\n")
