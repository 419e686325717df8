"""Bytes of a Go binary's read-only data by address (string literals that map keys and
struct fields point at live there, not in the heap)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=8)
def _sections(path: str) -> tuple[tuple[int, int, int], ...]:
    """(address, size, file offset) of each loaded section with bytes in the file."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        with open(path, "rb") as f:
            return tuple(
                (s["sh_addr"], s["sh_size"], s["sh_offset"])
                for s in ELFFile(f).iter_sections()
                if s["sh_addr"] and s["sh_type"] != "SHT_NOBITS"
            )
    except (OSError, ELFError):
        return ()


def static_bytes(path: str, address: int, length: int) -> bytes | None:
    """``length`` bytes at ``address`` of the binary at ``path``; None outside its data."""
    for start, size, offset in _sections(path):
        if start <= address and address + length <= start + size:
            try:
                with open(path, "rb") as f:
                    f.seek(offset + address - start)
                    data = f.read(length)
            except OSError:
                return None
            return data if len(data) == length else None
    return None
