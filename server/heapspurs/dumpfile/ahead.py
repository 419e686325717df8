"""Walk the second half of a dump's object records on another core, while the main walk
reads the first half.

Records have no index: where one starts is only known by reading all before it. So the
helper guesses a start in the middle of the object run (:func:`walk.find_object_run`) and
walks objects from there; the main walk stops at the guess, and only if it lands exactly
on it are the helper's objects taken (then they are what the main walk would have read).
Otherwise, or if the helper meets anything but a clean run of objects, the main walk just
carries on and the helper's work is dropped.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

from . import walk
from .layout import TAG_PARAMS
from .window import FileWindow

BIG_RECORD_BYTES = 256 << 20  # (columns.py) a larger record is never held in a window

if TYPE_CHECKING:
    from .columns import DumpFile

SEARCH_BYTES = 1 << 20  # how far past the middle a start is looked for


class ObjectsAhead:
    """Object records from ``start`` (a guessed record start) to the end of their run."""

    def __init__(
        self, dump: DumpFile, start: int, params: tuple[int, int], cols: tuple, window_bytes: int
    ):
        """``cols``: object and field arrays to fill (views into the main walk's columns,
        where these objects are expected to end up; replaced by bigger ones if too small)."""
        self.dump, self.start, self.window_bytes = dump, start, window_bytes
        self.ptr_size, self.big_endian = params
        self.end = -1  # where the run ended (a non-object record); -1 while walking or failed
        self.walked = start  # bytes up to here are done (read by the progress reports)
        self.cols: tuple[np.ndarray, ...] = cols
        self.n_objects = self.n_fields = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._walk, name="heapspurs-walk-ahead", daemon=True)
        self._thread.start()

    @staticmethod
    def find_start(dump: DumpFile, recs: np.ndarray) -> tuple[int, tuple[int, int]] | None:
        """The first likely object record past the middle of ``dump``, with the pointer size
        and byte order (``recs`` holds the DumpParams row); None when no run of objects is
        found there."""
        params = recs[recs[:, 0] == TAG_PARAMS]  # big endian, pointer size, heap range
        if not len(params):
            return None
        big, ptr_size, heap_start, heap_end = (int(v) for v in params[0, 2:6])
        middle = dump.size // 2
        region = np.frombuffer(dump.bytes_at(middle, 2 * SEARCH_BYTES), dtype=np.uint8)
        start = walk.find_object_run(
            region, 0, min(SEARCH_BYTES, len(region)), ptr_size, big != 0,
            np.uint64(heap_start), np.uint64(heap_end),
        )  # fmt: skip
        return None if start < 0 else (middle + int(start), (ptr_size, big))

    def _walk(self) -> None:
        window = FileWindow(self.dump.path, self.start, self.dump.size, self.window_bytes)
        try:
            self._walk_objects(window)
        finally:
            window.close()

    def _walk_objects(self, w: FileWindow) -> None:
        pos = self.start
        while not self._stop.is_set():
            args = (w.buf, pos - w.base, w.filled, w.base, self.ptr_size, self.big_endian != 0,
                    *self.cols, self.n_objects, self.n_fields)  # fmt: skip
            local, self.n_objects, self.n_fields, err, _, _ = walk.object_run(*args)
            pos = w.base + local
            if err == walk.NEED_ROOM:
                self._grow()
                continue
            if err and (w.last or err not in walk.TRUNCATION_ERRORS):
                return  # damage: the main walk will meet it and say where
            if not err and local < w.filled:
                self.end = pos  # a record that is not an object: the run is over
                return
            if not err and w.last:
                return  # no End Of File record: the main walk says so
            if pos == w.base and len(w.window) * 2 > BIG_RECORD_BYTES:
                return  # a huge record: the main walk reads it in pieces
            w.keep_from(pos)  # the window is used up, or ends inside the record at pos
            self.walked = pos

    def _grow(self) -> None:
        used = (self.n_objects,) * 4 + (self.n_fields,) * 2
        self.cols = tuple(with_room(a, 2 * len(a), n) for a, n in zip(self.cols, used, strict=True))

    def finish(self) -> bool:
        """Wait for the helper; whether it walked a clean run to its end."""
        self._thread.join()
        return self.end >= 0

    def abandon(self) -> None:
        self._stop.set()
        self._thread.join()


def with_room(a: np.ndarray, need: int, used: int) -> np.ndarray:
    """``a``, or a copy of its first ``used`` entries with room for ``need`` entries."""
    if need <= len(a):
        return a
    bigger = np.empty(max(need, 2 * len(a)), dtype=a.dtype)
    bigger[:used] = a[:used]
    return bigger
