"""Symbols of the Go binary that wrote a dump (ELF symbol table, read with pyelftools), so
that data/bss addresses get their global's name."""

from __future__ import annotations

import os
from dataclasses import dataclass

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
    # pyelftools is imported here: most calls get no --program, and it costs 60 ms
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            table = elf.get_section_by_name(".symtab")
            if not isinstance(table, SymbolTableSection):
                raise UnusableProgram(f"{path}: has no symbol table (built with -ldflags=-s?)")
            rows = [
                (s["st_value"], s["st_size"], s.name)
                for s in table.iter_symbols()
                if s.name
                and s["st_info"]["type"] in ("STT_OBJECT", "STT_NOTYPE")
                and s["st_value"] != 0
            ]
    except OSError as err:
        raise ProgramError(f"{path}: cannot read: {err.strerror}") from None
    except ELFError as err:
        raise UnusableProgram(f"{path}: not an ELF executable ({err})") from None
    markers = {name: value for value, _, name in rows}
    rows = sorted((r for r in rows if r[1] > 0), key=lambda r: r[0])
    addr = np.array([r[0] for r in rows], dtype=np.uint64)
    size = np.array([r[1] for r in rows], dtype=np.uint64)
    return Symbols(addr, size, [r[2] for r in rows], markers, path)


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
