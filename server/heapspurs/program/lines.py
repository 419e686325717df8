"""Function, file and line of a pc, from the Go binary's own line table (``.gopclntab``,
the table runtime tracebacks read): it is in every Go binary, DWARF or not.

The layout is Go 1.20's (magic ``0xfffffff1``, used through Go 1.27; ``runtime/symtab.go``):
a header of offsets, a function table of ``(entry offset, _func offset)`` pairs sorted by
pc, and per function the pc-value tables of its file number (``pcfile``) and line
(``pcln``), each a run of zig-zag varint value deltas and pc deltas.

A call frame's pc is a return address; its line is the one of the call, so a frame is
looked up at pc - 1 (as Go's traceback does) unless the pc is a function's entry. Calls the
compiler inlined are expanded as the traceback does: pcdata 2 gives the pc's index in the
function's inline tree (funcdata 3, 16-byte ``inlinedCall`` entries in ``go:func.*``), each
entry names the inlined function and the pc of its call site in the caller.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..names.elf import c_string

GO120_MAGIC = 0xFFFFFFF1
HEADER_WORDS = 8  # nfunc, nfiles, textStart, then five table offsets
FUNC_FIELDS = "<IiiIIIIIIiBBBB"  # _func up to nfuncdata (pcfile at 5, pcln at 6, cu at 8)
FUNC_SIZE = struct.calcsize(FUNC_FIELDS)
PCDATA_INLINE_INDEX, FUNCDATA_INLINE_TREE = 2, 3
INLINED_CALL = struct.Struct("<B3xiii")  # funcID, nameOff, parentPc, startLine


class NoLineTable(Exception):
    """The binary has no Go line table this reader knows."""


@dataclass(frozen=True)
class Position:
    function: str
    file: str | None
    line: int | None
    entry: int  # the function's first pc


class LineTable:
    """pc -> :class:`Position` for one binary (answers are cached per pc)."""

    def __init__(self, data: bytes, text_start: int, path: str = "",
                 gofunc: tuple[int, bytes] = (0, b"")):  # fmt: skip
        self.data, self.path = data, path
        self.gofunc, self.gofunc_data = gofunc  # where inline trees live, and its bytes
        if len(data) < 8 + HEADER_WORDS * 8 or struct.unpack_from("<I", data)[0] != GO120_MAGIC:
            raise NoLineTable(f"{path}: no Go 1.20+ line table (.gopclntab)")
        self.quantum, ptr = data[6], data[7]
        words = struct.unpack_from(f"<{HEADER_WORDS}{'Q' if ptr == 8 else 'I'}", data, 8)
        nfunc, _nfiles, text, funcnames, cu, files, pctab, functab = words
        self.text = text or text_start
        self.funcnames, self.cu, self.files, self.pctab = funcnames, cu, files, pctab
        self.functab = functab
        table = np.frombuffer(data, dtype="<u4", count=2 * (nfunc + 1), offset=functab)
        self.entries = table[0::2].astype(np.uint64) + np.uint64(self.text)
        self.func_offsets = table[1::2]
        self.lookup = lru_cache(maxsize=1 << 16)(self._lookup)

    def _cstring(self, off: int) -> str:
        return c_string(self.data, off)

    def function_at(self, pc: int) -> int:
        """Index of the function holding ``pc``; -1 outside the table."""
        i = int(np.searchsorted(self.entries, np.uint64(pc), side="right")) - 1
        return i if 0 <= i < len(self.entries) - 1 else -1

    def _lookup(self, pc: int) -> tuple[Position, ...]:
        """Where ``pc`` is (the pc itself, not a return address): the calls inlined there,
        innermost first, then the function itself; () outside the code."""
        i = self.function_at(pc)
        if i < 0:
            return ()
        base = self.functab + int(self.func_offsets[i])
        f = struct.unpack_from(FUNC_FIELDS, self.data, base)
        entry = int(self.entries[i])
        tree = self._inline_tree(base, f)
        out = []
        for _ in range(64 if tree else 0):  # inline depth is small; damage must not loop
            assert tree is not None
            index = self._value(tree[0], entry, pc)
            if index is None or index < 0:
                break
            call = INLINED_CALL.unpack_from(self.gofunc_data, tree[1] + 16 * index)
            out.append(self._position(self._cstring(self.funcnames + call[1]), f, entry, pc))
            pc = entry + call[2]
        out.append(self._position(self._cstring(self.funcnames + f[1]), f, entry, pc))
        return tuple(out)

    def _position(self, name: str, f: tuple, entry: int, pc: int) -> Position:
        file_no, line = self._value(f[5], entry, pc), self._value(f[6], entry, pc)
        file = None
        if file_no is not None and file_no >= 0:
            (file_off,) = struct.unpack_from("<I", self.data, self.cu + 4 * (f[8] + file_no))
            if file_off != 0xFFFFFFFF:
                file = self._cstring(self.files + file_off)
        return Position(name, file, line if line and line > 0 else None, entry)

    def _inline_tree(self, base: int, f: tuple) -> tuple[int, int] | None:
        """(pc-value table of inline indexes, offset of the tree in ``gofunc_data``), or
        None when the function inlined nothing (or the tree is not readable)."""
        npcdata, nfuncdata = f[7], f[13]
        if npcdata <= PCDATA_INLINE_INDEX or nfuncdata <= FUNCDATA_INLINE_TREE:
            return None
        at = base + FUNC_SIZE
        (table,) = struct.unpack_from("<I", self.data, at + 4 * PCDATA_INLINE_INDEX)
        (tree,) = struct.unpack_from("<I", self.data, at + 4 * (npcdata + FUNCDATA_INLINE_TREE))
        if table == 0 or tree == 0xFFFFFFFF or tree >= len(self.gofunc_data):
            return None
        return table, tree

    def _value(self, table: int, entry: int, target: int) -> int | None:
        """The value a pc-value table gives ``target`` (Go's ``pcvalue``)."""
        if table == 0:
            return None
        data, pos = self.data, self.pctab + table
        value, pc, first = -1, entry, True
        while pos < len(data):
            delta, pos = _uvarint(data, pos)
            if delta == 0 and not first:
                return None
            first = False
            value += -((delta >> 1) + 1) if delta & 1 else delta >> 1
            step, pos = _uvarint(data, pos)
            pc += step * self.quantum
            if target < pc:
                return value
        return None

    def frame(self, pc: int) -> tuple[Position, ...]:
        """Where a call frame is (a return address looks up its call, pc - 1): inlined
        calls innermost first, the frame's own function last; () outside the code."""
        i = self.function_at(pc)
        if i < 0:
            return ()
        return self.lookup(pc - 1 if pc > int(self.entries[i]) else pc)


def _uvarint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def read_line_table(path: str | os.PathLike[str]) -> LineTable:
    """The line table of the Go binary at ``path``; :class:`NoLineTable` when it has none."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            section = elf.get_section_by_name(".gopclntab")
            text = elf.get_section_by_name(".text")
            if section is None or text is None:
                raise NoLineTable(f"{path}: no .gopclntab section (not a Go binary?)")
            data = section.data()
            text_start = _symbol(elf, "runtime.text") or int(text["sh_addr"])
            gofunc = _section_from(elf, _symbol(elf, "go:func.*") or 0)
    except OSError as err:
        raise NoLineTable(f"{path}: cannot read: {err.strerror}") from None
    except ELFError as err:
        raise NoLineTable(f"{path}: not an ELF executable ({err})") from None
    return LineTable(bytes(data), text_start, path, gofunc)


def _section_from(elf, address: int) -> tuple[int, bytes]:
    """``address`` and the bytes from it to the end of the section holding it."""
    for section in elf.iter_sections():
        start, size = int(section["sh_addr"]), int(section["sh_size"])
        if address and start <= address < start + size and section["sh_type"] == "SHT_PROGBITS":
            return address, section.data()[address - start :]
    return 0, b""


def _symbol(elf, name: str) -> int | None:
    """The value of symbol ``name``: its name's offset in the string table, then the
    symbol entry with that offset (numpy over the raw table: pyelftools parses each of
    thousands of symbols one by one, half a second)."""
    table = elf.get_section_by_name(".symtab")
    strings = elf.get_section_by_name(".strtab")
    if table is None or strings is None:
        return None
    at = strings.data().find(b"\0" + name.encode() + b"\0")
    if at < 0:
        return None
    wide = elf.elfclass == 64
    entry = np.dtype([("name", "<u4"), ("info", "u1"), ("other", "u1"), ("shndx", "<u2"),
                      ("value", "<u8"), ("size", "<u8")] if wide else
                     [("name", "<u4"), ("value", "<u4"), ("size", "<u4"), ("info", "u1"),
                      ("other", "u1"), ("shndx", "<u2")])  # fmt: skip
    data = table.data()
    symbols = np.frombuffer(data, dtype=entry, count=len(data) // entry.itemsize)
    hit = np.flatnonzero(symbols["name"] == at + 1)
    return int(symbols["value"][hit[0]]) if len(hit) else None
