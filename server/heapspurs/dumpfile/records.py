"""Decode single records in Python, for printing and for the few records that matter one by
one (params, memstats). Walking a whole dump this way is slow; :mod:`.walk` does that."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .columns import DumpFile
from .errors import DumpFormatError
from .layout import HEADER, LAYOUT, MEMSTATS_NAMES, TAG_EOF, TAG_OBJECT, TAG_PARAMS
from .walk import (
    E_ADDRESS_SPACE,
    E_BEFORE_PARAMS,
    E_FIELD_KIND,
    E_FIELD_OUTSIDE,
    E_POINTER_SIZE,
    error_message,
)  # fmt: skip

# records that hold an address, then bytes there: which value is the address
ADDRESSED = {1: "address", 5: "sp", 12: "address", 13: "address"}


@dataclass
class Record:
    """One decoded record: ``values`` by the layout's item names; strings as ``str``;
    ``fields`` as a list of pointer offsets (``(offset, value)`` pairs after :func:`iter_records`
    fills them)."""

    tag: int
    offset: int  # file offset of the record's tag
    kind: str
    values: dict[str, Any] = field(default_factory=dict)
    numbers: list[int] = field(default_factory=list)  # memstats: every uvarint in order
    contents_pos: int = -1  # file offset of the object/frame/segment bytes
    contents_len: int = 0
    contents: bytes = b""  # those bytes, read when the record lists pointer fields

    def __getitem__(self, name: str):
        return self.values[name]


class _Reader:
    """Numbers and spans from ``pos`` on, read through blocks of the file (``pread``)."""

    BLOCK = 1 << 16

    def __init__(self, dump: DumpFile, pos: int, ptr_size: int = 8):
        self.dump = dump
        self.pos = pos
        self.ptr_size = ptr_size  # 0 until a DumpParams record says
        self._block, self._block_start = b"", pos

    def fail(self, offset: int, code: int, arg: int = 0) -> DumpFormatError:
        """The loader's error (:mod:`.walk`) for ``code`` at ``offset``."""
        return DumpFormatError(offset, error_message(code, arg), self.dump.path)

    def uvarint(self) -> int:
        i = self.pos - self._block_start
        if i < 0 or i + 10 > len(self._block):  # the block must hold a whole number
            self._block, self._block_start = self.dump.bytes_at(self.pos, self.BLOCK), self.pos
            i = 0
        block = self._block
        if i < len(block) and block[i] < 0x80:  # one byte: most tags, kinds and lengths
            self.pos += 1
            return block[i]
        value, shift = 0, 0
        for j in range(i, min(i + 10, len(block))):
            b = block[j]
            if j - i == 9 and b > 1:  # the tenth byte holds bit 63 only
                break
            value |= (b & 0x7F) << shift
            if b < 0x80:
                self.pos += j - i + 1
                return value
            shift += 7
        if len(block) - i < 10:  # the block stops at the end of the file
            what = "the file ends inside a number (uvarint)"
        else:
            what = "a number (uvarint) runs over 10 bytes or past 64 bits"
        raise DumpFormatError(self.pos, what, self.dump.path)

    def read(self, pos: int, n: int) -> bytes:
        """Bytes ``[pos, pos + n)``: from the block when it holds them."""
        i = pos - self._block_start
        if i >= 0 and i + n <= len(self._block):
            return self._block[i : i + n]
        return self.dump.bytes_at(pos, n)

    def text(self, pos: int, n: int) -> str:
        return self.read(pos, n).decode("utf-8", "replace")

    def span(self) -> tuple[int, int]:
        start = self.pos
        n = self.uvarint()
        if n > self.dump.size - self.pos:
            raise DumpFormatError(
                start, f"a length of {n} bytes runs past the end of the file", self.dump.path
            )
        pos = self.pos
        self.pos += n
        return pos, n

    def field_list(self, record_len: int) -> list[int]:
        """The offsets of the pointers a field list names, each checked to lie inside the
        record's ``record_len`` bytes (as the loader does)."""
        offsets: list[int] = []
        ptr = self.ptr_size
        while True:
            at = self.pos
            kind = self.uvarint()
            if kind == 0:
                return offsets
            if kind > 3:
                raise self.fail(at, E_FIELD_KIND, kind & 0xFFFF)
            at = self.pos
            off = self.uvarint()
            width = ptr if kind == 1 else 2 * ptr  # iface/eface: the data word is the pointer
            if off > record_len or record_len - off < width or off + width - ptr > 0xFFFFFFFF:
                raise self.fail(at, E_FIELD_OUTSIDE, off & 0xFFFFFFFFFF)
            offsets.append(off if kind == 1 else off + ptr)


def decode_at(dump: DumpFile, offset: int, ptr_size: int = 8) -> tuple[Record, int]:
    """The record starting at ``offset`` and the offset of the next one."""
    r = _Reader(dump, offset, ptr_size)
    return _decode(r), r.pos


def _decode(r: _Reader) -> Record:
    """The record at ``r.pos``, leaving ``r`` after it."""
    offset, dump = r.pos, r.dump
    tag = r.uvarint()
    if tag not in LAYOUT:
        raise DumpFormatError(offset, f"unknown record tag {tag} (expected 0..17)", dump.path)
    kind, seq, names = LAYOUT[tag]
    rec = Record(tag, offset, kind)
    if "F" in seq and not r.ptr_size:
        raise r.fail(offset, E_BEFORE_PARAMS)
    if tag == 10:
        rec.numbers = [r.uvarint() for _ in seq]
        rec.values = dict(zip(MEMSTATS_NAMES, rec.numbers, strict=False))
        return rec
    prev = 0
    for item, name in zip(seq, names, strict=True):
        if item == "U":
            prev = r.uvarint()
            rec.values[name] = prev
        elif item == "S":
            pos, n = r.span()
            if rec.contents_pos < 0 and name == "contents":
                rec.contents_pos, rec.contents_len = pos, n
            else:
                rec.values[name] = r.text(pos, n)
        elif item == "F":
            _check_address(r, rec)
            rec.values[name] = r.field_list(rec.contents_len)
            if rec.values[name]:  # what --print shows of them: the pointers' values
                rec.contents = r.read(rec.contents_pos, rec.contents_len)
        else:  # memory-profile stack
            stack = []
            for _ in range(prev):
                fpos, fn = r.span()
                lpos, ln = r.span()
                stack.append((r.text(fpos, fn), r.text(lpos, ln), r.uvarint()))
            rec.values[name] = stack
    if tag == TAG_PARAMS:
        size = rec.values["pointer_size"]
        if size not in (4, 8):
            raise r.fail(offset, E_POINTER_SIZE, size & 0xFFFF)
        r.ptr_size = size
    return rec


def read_big_object(
    dump: DumpFile, offset: int, ptr_size: int
) -> tuple[int, int, int, np.ndarray, int]:
    """The object record at ``offset`` read without its bytes, with the loader's checks:
    (address, size, file offset of its bytes, pointer offsets, offset of the next record).
    Any other record is refused: only an object is read this way (one too large to hold)."""
    r = _Reader(dump, offset, ptr_size)
    if r.uvarint() != TAG_OBJECT:
        what = "a record too large to read at once that is not an object"
        raise DumpFormatError(offset, what, dump.path)
    rec = Record(TAG_OBJECT, offset, "Object")
    rec.values["address"] = r.uvarint()
    rec.contents_pos, rec.contents_len = r.span()
    _check_address(r, rec)
    offsets = np.array(r.field_list(rec.contents_len), dtype=np.int64)
    return rec["address"], rec.contents_len, rec.contents_pos, offsets, r.pos


def pointer_offsets(dump: DumpFile, fields_pos: int, record_len: int, ptr_size: int) -> list[int]:
    """The pointer offsets of an object record whose bytes (``record_len`` of them) end at
    ``fields_pos``, from its field list there, checked as the loader checks them."""
    return _Reader(dump, fields_pos, ptr_size).field_list(record_len)


def _check_address(r: _Reader, rec: Record) -> None:
    """The record's bytes must fit in the address space from its address (the loader's
    check): a global or slot past 2^64 has no address."""
    address = rec.values[ADDRESSED[rec.tag]]
    top = (1 << (8 * r.ptr_size)) - 1
    if address > top or (rec.contents_len and address + rec.contents_len - 1 > top):
        raise r.fail(rec.offset, E_ADDRESS_SPACE, address)


def iter_records(dump: DumpFile) -> Iterator[Record]:
    """Every record in file order, decoded one at a time (streaming), ending with EOF; the
    loader's checks apply (:func:`.columns.read_columns`), each raised where it fails."""
    r = _Reader(dump, len(HEADER), ptr_size=0)
    while True:
        if r.pos >= dump.size:
            raise DumpFormatError(
                r.pos, "the file ends before the End Of File record (truncated dump)", dump.path
            )
        rec = _decode(r)
        if rec.tag == TAG_EOF:
            if not r.ptr_size:
                raise DumpFormatError(len(HEADER), "no DumpParams record in the dump", dump.path)
            if r.pos != dump.size:
                what = f"{dump.size - r.pos} bytes follow the End Of File record"
                raise DumpFormatError(r.pos, what, dump.path)
        yield rec
        if rec.tag == TAG_EOF:
            return
