"""Decode single records in Python, for printing and for the few records that matter one by
one (params, memstats). Walking a whole dump this way is slow; :mod:`.walk` does that."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .columns import DumpFile
from .errors import DumpFormatError
from .layout import HEADER, LAYOUT, MEMSTATS_NAMES, TAG_EOF


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

    def __init__(self, dump: DumpFile, pos: int):
        self.dump = dump
        self.pos = pos
        self._block, self._block_start = b"", pos

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
            value |= (b & 0x7F) << shift
            if b < 0x80:
                self.pos += j - i + 1
                return value
            shift += 7
        if len(block) - i < 10:  # the block stops at the end of the file
            what = "the file ends inside a number (uvarint)"
        else:
            what = "a number (uvarint) runs over 10 bytes"
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

    def field_list(self) -> list[int]:
        offsets: list[int] = []
        while True:
            kind = self.uvarint()
            if kind == 0:
                return offsets
            off = self.uvarint()
            offsets.append(off if kind == 1 else off + 8)


def decode_at(dump: DumpFile, offset: int) -> tuple[Record, int]:
    """The record starting at ``offset`` and the offset of the next one."""
    r = _Reader(dump, offset)
    return _decode(r), r.pos


def _decode(r: _Reader) -> Record:
    """The record at ``r.pos``, leaving ``r`` after it."""
    offset, dump = r.pos, r.dump
    tag = r.uvarint()
    if tag not in LAYOUT:
        raise DumpFormatError(offset, f"unknown record tag {tag} (expected 0..17)", dump.path)
    kind, seq, names = LAYOUT[tag]
    rec = Record(tag, offset, kind)
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
            rec.values[name] = r.field_list()
            if rec.values[name]:  # what --print shows of them: the pointers' values
                rec.contents = r.read(rec.contents_pos, rec.contents_len)
        else:  # memory-profile stack
            stack = []
            for _ in range(prev):
                fpos, fn = r.span()
                lpos, ln = r.span()
                stack.append((r.text(fpos, fn), r.text(lpos, ln), r.uvarint()))
            rec.values[name] = stack
    return rec


def iter_records(dump: DumpFile) -> Iterator[Record]:
    """Every record in file order, decoded one at a time (streaming), ending with EOF."""
    r = _Reader(dump, len(HEADER))
    while True:
        if r.pos >= dump.size:
            raise DumpFormatError(
                r.pos, "the file ends before the End Of File record (truncated dump)", dump.path
            )
        rec = _decode(r)
        yield rec
        if rec.tag == TAG_EOF:
            return
