"""Sequential reads of a dump into one reused buffer.

The walks read the file this way rather than through a memory map: a file that shrinks
while it is read (a program writing a new dump over it) then gives a short read, reported
as a truncated dump, where touching the map would kill the process with SIGBUS.
"""

from __future__ import annotations

import numpy as np

WINDOW_BYTES = 16 << 20  # read at a time into a reused buffer


class FileWindow:
    """``buf`` holds the file's bytes from offset ``base`` on; ``keep_from`` slides on."""

    def __init__(self, path: str, start: int, size: int, window_bytes: int):
        self.file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.size = size  # bytes of the file to read (a DumpFile may stop short of its end)
        self.window = np.empty(max(min(window_bytes, size - start), 1), dtype=np.uint8)
        self.base, self.filled = start, 0
        self._fill()

    @property
    def buf(self) -> np.ndarray:
        return self.window[: self.filled]

    @property
    def last(self) -> bool:
        """Whether the window reaches the end of the file."""
        return self.base + self.filled >= self.size

    def keep_from(self, offset: int) -> None:
        """Slide so that file offset ``offset`` comes first, and read on; a window that one
        record fills whole (``offset`` already first) doubles instead."""
        keep = offset - self.base
        if keep == 0:
            bigger = np.empty(len(self.window) * 2, dtype=np.uint8)
            bigger[: self.filled] = self.buf
            self.window = bigger
        else:
            tail = self.filled - keep
            self.window[:tail] = self.window[keep : self.filled]
            self.base, self.filled = offset, tail
        self._fill()

    def move_to(self, offset: int) -> None:
        """Read on from ``offset`` (forgetting what the window holds)."""
        self.base, self.filled = offset, 0
        self._fill()

    def _fill(self) -> None:
        want = min(len(self.window), self.size - self.base) - self.filled
        self.file.seek(self.base + self.filled)
        got = self.file.readinto(memoryview(self.window.data)[self.filled : self.filled + want])
        self.filled += got
        if got < want:  # the file shrank since it was opened: it ends here now
            self.size = self.base + self.filled

    def close(self) -> None:
        self.file.close()
