"""One buffer that the passes of a long computation carve their temporary arrays from.

The first write to a page of fresh memory is not free: the kernel zeroes it, and a virtual
machine that hands the memory its guests free back to its host (free page reporting, on
this project's CI machines) faults it in again from the host — 1 to 3 ms per MB measured
there, against 0.2 ms for a page the process has touched before. A pass whose arrays reuse
the pages of the pass before it pays none of that: hundreds of MB on a 5M-object heap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ALIGN = 64  # each array starts on a cache line
Spec = tuple[int | tuple[int, ...], type | np.dtype]  # (shape, dtype)


def bytes_for(specs: Sequence[Spec]) -> int:
    """The bytes :meth:`Scratch.carve` needs for arrays of these shapes and types."""
    return sum(_aligned(_nbytes(spec)) for spec in specs)


class Scratch:
    """``nbytes`` of memory (never zeroed: arrays carved from it are uninitialized)."""

    def __init__(self, nbytes: int):
        buf = np.empty(nbytes + ALIGN, dtype=np.uint8)
        start = -buf.ctypes.data % ALIGN
        self._buf = buf[start : start + nbytes]

    def carve(self, specs: Sequence[Spec]) -> list[np.ndarray]:
        """Arrays of these shapes and types, side by side from the buffer's start: they
        overwrite whatever arrays an earlier call carved, which must no longer be used."""
        if bytes_for(specs) > len(self._buf):
            raise ValueError(f"scratch of {len(self._buf)} bytes: {bytes_for(specs)} asked for")
        arrays, at = [], 0
        for shape, dtype in specs:
            nbytes = _nbytes((shape, dtype))
            arrays.append(self._buf[at : at + nbytes].view(dtype).reshape(shape))
            at += _aligned(nbytes)
        return arrays


def _nbytes(spec: Spec) -> int:
    shape, dtype = spec
    return int(np.prod(shape)) * np.dtype(dtype).itemsize


def _aligned(nbytes: int) -> int:
    return -(-nbytes // ALIGN) * ALIGN
