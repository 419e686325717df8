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

    def __getitem__(self, name: str):
        return self.values[name]


class _Reader:
    BLOCK = 1 << 16  # bytes read at a time

    def __init__(self, dump: DumpFile, pos: int):
        self.dump = dump
        self.pos = pos
        self._block, self._block_start = b"", pos

    def _byte(self) -> int:
        i = self.pos - self._block_start
        if i >= len(self._block) or i < 0:
            self._block, self._block_start = self.dump.bytes_at(self.pos, self.BLOCK), self.pos
            i = 0
        return self._block[i]

    def uvarint(self) -> int:
        value = shift = 0
        start = self.pos
        for i in range(10):
            if self.pos >= self.dump.size:
                raise DumpFormatError(
                    start, "the file ends inside a number (uvarint)", self.dump.path
                )
            b = self._byte()
            self.pos += 1
            value |= (b & 0x7F) << shift
            if b < 0x80:
                return value
            shift += 7
            del i
        raise DumpFormatError(start, "a number (uvarint) runs over 10 bytes", self.dump.path)

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
    tag = r.uvarint()
    if tag not in LAYOUT:
        raise DumpFormatError(offset, f"unknown record tag {tag} (expected 0..17)", dump.path)
    kind, seq, names = LAYOUT[tag]
    rec = Record(tag, offset, kind)
    if tag == 10:
        rec.numbers = [r.uvarint() for _ in seq]
        rec.values = dict(zip(MEMSTATS_NAMES, rec.numbers, strict=False))
        return rec, r.pos
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
                rec.values[name] = dump.text_at(pos, n)
        elif item == "F":
            rec.values[name] = r.field_list()
        else:  # memory-profile stack
            stack = []
            for _ in range(prev):
                fpos, fn = r.span()
                lpos, ln = r.span()
                stack.append((dump.text_at(fpos, fn), dump.text_at(lpos, ln), r.uvarint()))
            rec.values[name] = stack
    return rec, r.pos


def iter_records(dump: DumpFile) -> Iterator[Record]:
    """Every record in file order, decoded one at a time (streaming), ending with EOF."""
    pos = len(HEADER)
    while True:
        if pos >= dump.size:
            raise DumpFormatError(
                pos, "the file ends before the End Of File record (truncated dump)", dump.path
            )
        rec, pos = decode_at(dump, pos)
        yield rec
        if rec.tag == TAG_EOF:
            return
