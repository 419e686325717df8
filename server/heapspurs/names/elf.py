"""Symbols of the Go binary that wrote a dump (its ELF symbol table, read as numpy arrays), so
that data/bss addresses get their global's name."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np


class ProgramError(Exception):
    """The binary cannot be used: unreadable, not ELF, no symbols, or not the dump's."""


class UnusableProgram(ProgramError):
    """A binary that was read but cannot name this dump (not ELF, truncated, no symbol
    table, another program's): answers go on without its names and types, with a warning."""


@dataclass
class Symbols:
    addr: np.ndarray  # uint64, sorted
    size: np.ndarray  # uint64
    names: list[str]
    markers: dict[str, int]  # every named address, sized or not (runtime.bss, runtime.ebss...)
    path: str = ""

    def lookup(self, address: int) -> str | None:
        """``main.gMap`` for an address inside that global, ``main.gArr+0x10`` inside it."""
        if not 0 <= address < 1 << 64:  # no symbol is there (and numpy cannot ask)
            return None
        i = int(np.searchsorted(self.addr, np.uint64(address), side="right")) - 1
        if i < 0:
            return None
        start, size = int(self.addr[i]), int(self.size[i])
        off = address - start
        if off >= size:
            return None
        return self.names[i] if off == 0 else f"{self.names[i]}+{off:#x}"

    def address_of(self, name: str) -> int | None:
        return self.markers.get(name)


def read_symbols(path: str | os.PathLike[str]) -> Symbols:
    """The named data addresses of the binary's symbol table (objects and unsized markers).
    The table is read as one numpy array: a Go binary holds thousands of function symbols,
    and pyelftools' symbol by symbol walk took a quarter of a second to skip them."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            table, strings = _symbol_table(f, path)
    except OSError as err:
        raise ProgramError(f"{path}: cannot read: {err.strerror}") from None
    kinds = table["info"] & 0xF
    named = (
        (table["value"] != 0)
        & (table["name"] != 0)
        & ((kinds == STT_NOTYPE) | (kinds == STT_OBJECT))
    )
    rows = table[named]
    names = [c_string(strings, int(at)) for at in rows["name"]]
    keep = [i for i, name in enumerate(names) if name]
    rows, names = rows[keep], [names[i] for i in keep]
    markers = {name: int(value) for name, value in zip(names, rows["value"], strict=True)}
    order = np.argsort(rows["value"], kind="stable")
    order = order[rows["size"][order] > 0]
    addr = rows["value"][order].astype(np.uint64)
    size = rows["size"][order].astype(np.uint64)
    return Symbols(addr, size, [names[i] for i in order], markers, path)


# ELF layouts by class (1: 32-bit, 2: 64-bit): the header after e_ident, a section header
# and a symbol (System V ABI)
_HEADER = {1: "HHIIIIIHHHHHH", 2: "HHIQQQIHHHHHH"}
_SECTION = {1: "IIIIIIIIII", 2: "IIQQQQIIQQ"}
_SYMBOL = {
    1: [("name", "u4"), ("value", "u4"), ("size", "u4"), ("info", "u1"), ("other", "u1"),
        ("shndx", "u2")],
    2: [("name", "u4"), ("info", "u1"), ("other", "u1"), ("shndx", "u2"), ("value", "u8"),
        ("size", "u8")],
}  # fmt: skip
SHT_SYMTAB, STT_NOTYPE, STT_OBJECT = 2, 0, 1
MAX_SECTIONS = 1 << 16


def _symbol_table(f: BinaryIO, path: str) -> tuple[np.ndarray, bytes]:
    """The symbol table's rows and its string table's bytes."""
    file_size = os.fstat(f.fileno()).st_size
    ident = f.read(16)
    if (
        len(ident) < 16
        or ident[:4] != b"\x7fELF"
        or ident[4] not in _HEADER
        or ident[5] not in (1, 2)
    ):
        raise UnusableProgram(f"{path}: not an ELF executable (no ELF header)")
    klass, order = ident[4], "<" if ident[5] == 1 else ">"
    head = struct.Struct(order + _HEADER[klass])
    _, _, _, _, _, shoff, _, _, _, _, shentsize, shnum, _ = head.unpack(
        _read(f, 16, head.size, file_size, path)
    )
    section = struct.Struct(order + _SECTION[klass])
    if shoff == 0 or shentsize < section.size:
        raise UnusableProgram(f"{path}: has no symbol table (no section headers)")
    if shnum == 0:  # more sections than the header counts: section 0's size holds the number
        shnum = section.unpack(_read(f, shoff, section.size, file_size, path))[5]
    if shnum > MAX_SECTIONS:
        raise UnusableProgram(f"{path}: not an ELF executable ({shnum} sections)")
    raw = _read(f, shoff, shnum * shentsize, file_size, path)
    sections = [section.unpack_from(raw, i * shentsize) for i in range(shnum)]
    symtab = next((s for s in sections if s[1] == SHT_SYMTAB), None)
    if symtab is None:
        raise UnusableProgram(f"{path}: has no symbol table (built with -ldflags=-s?)")
    dtype = np.dtype([(name, order + code) for name, code in _SYMBOL[klass]])
    offset, size, link = symtab[4], symtab[5], symtab[6]
    if link >= shnum or symtab[9] not in (0, dtype.itemsize):
        raise UnusableProgram(f"{path}: not an ELF executable (bad symbol table)")
    table = np.frombuffer(_read(f, offset, size - size % dtype.itemsize, file_size, path), dtype)
    strings = _read(f, sections[link][4], sections[link][5], file_size, path)
    return table, strings


def _read(f: BinaryIO, offset: int, size: int, file_size: int, path: str) -> bytes:
    """``size`` bytes at ``offset``; a part of the file its headers place past its end
    makes it unusable (truncated)."""
    if offset + size > file_size:
        raise UnusableProgram(
            f"{path}: not an ELF executable (truncated: a part lies past its end)"
        )
    f.seek(offset)
    return f.read(size)


def c_string(data: bytes, at: int) -> str:
    """The NUL-terminated string at ``at`` of a string table (UTF-8, as Go writes names)."""
    end = data.find(b"\0", at)
    return data[at : end if end >= 0 else len(data)].decode("utf-8", "replace")


def check_matches(symbols: Symbols, segments: dict[str, tuple[int, int]]) -> None:
    """Reject a binary whose data/bss segments are not the dump's: ``segments`` maps
    ``"data"``/``"bss"`` to the dump's ``(start, end)``. A dump without them cannot be
    matched, so no binary is taken for it."""
    if not segments:
        raise UnusableProgram(
            f"{symbols.path}: the dump has no data or bss segment record to match it against"
        )
    for seg, (start, end) in segments.items():
        want = (symbols.address_of(f"runtime.{seg}"), symbols.address_of(f"runtime.e{seg}"))
        if want != (start, end):
            have = "-".join("?" if a is None else f"{a:#x}" for a in want)
            raise UnusableProgram(
                f"{symbols.path} does not match the dump: its {seg} segment is {have}, "
                f"the dump's is {start:#x}-{end:#x} (pass the binary that wrote the dump)"
            )
