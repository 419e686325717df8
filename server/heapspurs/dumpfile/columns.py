"""Open a dump and read it into flat columns (:class:`DumpColumns`)."""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from . import walk
from .errors import DumpFormatError
from .layout import HEADER, TAG_PARAMS, layout_table

CHUNK_BYTES = 64 << 20
Progress = Callable[[float], None]
Cancelled = Callable[[], bool]


class LoadCancelled(Exception):
    """Raised when the ``cancel`` callback asked to stop reading a dump."""


class DumpFile:
    """A heap dump file, memory-mapped read-only. Offsets are 64-bit file positions."""

    def __init__(self, path: str | os.PathLike[str], length: int | None = None):
        """``length``: read only that many leading bytes, as if the file ended there."""
        self.path = os.fspath(path)
        try:
            self._file = open(self.path, "rb")  # noqa: SIM115 - lives as long as the mapping
        except OSError as err:
            raise DumpFormatError(0, f"cannot open: {err.strerror}", self.path) from None
        self.size = os.fstat(self._file.fileno()).st_size
        if length is not None:
            self.size = min(self.size, length)
        if self.size == 0:
            self._file.close()
            raise DumpFormatError(0, "empty file, not a Go heap dump", self.path)
        self._mmap = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        self.buf = np.frombuffer(self._mmap, dtype=np.uint8)[: self.size]
        head = bytes(self.buf[: len(HEADER)])
        if head != HEADER:
            raise DumpFormatError(
                0, f"not a Go heap dump: expected header {HEADER!r}, found {head!r}", self.path
            )

    @property
    def data(self) -> mmap.mmap:
        """The mapped bytes; indexing gives ints (cheaper than numpy scalars in Python loops)."""
        return self._mmap

    def word_at(self, pos: int, size: int, big_endian: bool) -> int:
        return int.from_bytes(self._mmap[pos : pos + size], "big" if big_endian else "little")

    def bytes_at(self, pos: int, length: int) -> bytes:
        return self._mmap[pos : min(pos + length, self.size)]

    def text_at(self, pos: int, length: int) -> str:
        return self.bytes_at(pos, length).decode("utf-8", "replace")

    def close(self) -> None:
        self.buf = np.empty(0, dtype=np.uint8)
        self._mmap.close()
        self._file.close()


@dataclass
class DumpColumns:
    """Everything the walk collected, as flat arrays (object ``i``'s fields are
    ``field_*[obj_first[i]:obj_first[i + 1]]``)."""

    obj_addr: np.ndarray  # uint64, record address
    obj_size: np.ndarray  # int64, bytes
    obj_data: np.ndarray  # int64, file offset of the object's bytes
    obj_first: np.ndarray  # int64, first pointer field; n_objects + 1 entries
    field_off: np.ndarray  # uint32, offset of a pointer inside its object
    field_val: np.ndarray  # uint64, the pointer's value
    recs: np.ndarray  # uint64 [n, ROW]: tag, file offset, leading values of other records
    root_rec: np.ndarray  # int64, row in ``recs`` of a frame/segment pointer slot
    root_off: np.ndarray  # uint64, offset of the slot inside the frame/segment
    root_val: np.ndarray  # uint64, the slot's value

    @property
    def n_objects(self) -> int:
        return len(self.obj_addr)

    def arrays(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def read_columns(
    dump: DumpFile,
    progress: Progress | None = None,
    cancel: Cancelled | None = None,
    window_bytes: int = CHUNK_BYTES,
) -> DumpColumns:
    """Walk every record of ``dump`` once; raise :class:`DumpFormatError` on damage.

    The file is read sequentially into a reused window (cheaper than faulting in a memory
    map page by page); a record cut by the window's end is read again from its start once
    the window has slid forward (or grown, for a record larger than the window).
    ``progress(fraction)`` is called after each window; ``cancel()`` returning true stops
    the walk with :class:`LoadCancelled`.
    """
    codes, lengths = layout_table()
    guess = max(dump.size // 64, 1024)
    cols = (
        np.empty(guess, np.uint64), np.empty(guess, np.int64), np.empty(guess, np.int64),
        np.empty(guess, np.int64), np.empty(guess * 4, np.uint32),
        np.empty(guess * 4, np.uint64), np.empty((1024, walk.ROW), np.uint64),
        np.empty(4096, np.int64), np.empty(4096, np.uint64), np.empty(4096, np.uint64),
    )  # fmt: skip
    state = np.zeros(walk.STATE_SIZE, dtype=np.int64)
    window = np.empty(min(window_bytes, dump.size), dtype=np.uint8)
    base, filled = len(HEADER), 0  # file offset of window[0]; bytes in the window
    with open(dump.path, "rb") as f:
        f.seek(base)
        while True:
            want = min(len(window), dump.size - base) - filled
            filled += f.readinto(memoryview(window.data)[filled : filled + want])
            last = base + filled >= dump.size
            pos, cols = walk.walk_chunk(
                window[:filled], 0, filled, base, state, codes, lengths, cols
            )
            error = int(state[walk.S_ERROR])
            if state[walk.S_DONE] and not error:
                _check_end(dump, base + pos)
                break
            if error and (last or error not in walk.TRUNCATION_ERRORS):
                offset = base + int(state[walk.S_ERROR_OFFSET])
                message = walk.error_message(error, int(state[walk.S_ERROR_ARG]))
                raise DumpFormatError(offset, message, dump.path)
            if not error and last:
                raise DumpFormatError(dump.size, walk.error_message(walk.E_NO_EOF, 0), dump.path)
            resume = int(state[walk.S_RECORD_START]) if error else pos
            state[walk.S_ERROR] = 0
            window, base, filled = _slide(window, resume, filled, base)
            if progress:
                progress(base / dump.size)
            if cancel and cancel():
                raise LoadCancelled(dump.path)
    if progress:
        progress(1.0)
    return _trimmed(cols, state)


def _slide(window: np.ndarray, keep_from: int, filled: int, base: int):
    """Move the unread tail to the front; double the window when a record fills all of it."""
    if keep_from == 0:
        bigger = np.empty(len(window) * 2, dtype=np.uint8)
        bigger[:filled] = window[:filled]
        return bigger, base, filled
    tail = filled - keep_from
    window[:tail] = window[keep_from:filled]
    return window, base + keep_from, tail


def _check_end(dump: DumpFile, end: int) -> None:
    if end != dump.size:
        what = f"{dump.size - end} bytes follow the End Of File record"
        raise DumpFormatError(end, what, dump.path)


def _trimmed(cols, state: np.ndarray) -> DumpColumns:
    n_obj, n_fields, n_recs, n_roots = (int(v) for v in state[:4])
    obj_first = cols[3][: n_obj + 1]
    obj_first[n_obj] = n_fields
    result = DumpColumns(
        cols[0][:n_obj], cols[1][:n_obj], cols[2][:n_obj], obj_first,
        cols[4][:n_fields], cols[5][:n_fields], cols[6][:n_recs],
        cols[7][:n_roots], cols[8][:n_roots], cols[9][:n_roots],
    )  # fmt: skip
    if not np.any(result.recs[:, 0] == TAG_PARAMS):
        raise DumpFormatError(len(HEADER), "no DumpParams record in the dump", "")
    return result
