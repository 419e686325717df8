"""Open a dump and read it into flat columns (:class:`DumpColumns`)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import BinaryIO

import numpy as np

from . import walk
from .ahead import BIG_RECORD_BYTES, ObjectsAhead, with_room
from .errors import DumpFormatError
from .layout import HEADER, TAG_OBJECT, TAG_PARAMS, layout_table
from .window import WINDOW_BYTES, FileWindow

SPLIT_MIN_BYTES = 64 << 20  # smaller dumps are walked by one thread
RECORD_MAX_BYTES = 1 << 30  # a larger record that is not an object is refused
SAMPLE_BYTES = 8 << 20  # walked before splitting: how many objects and fields a byte holds
LEND_MARGIN = 1.03  # on the counts expected from that
Progress = Callable[[float], None]
Cancelled = Callable[[], bool]


class LoadCancelled(Exception):
    """Raised when the ``cancel`` callback asked to stop reading a dump."""


class DumpFile:
    """A heap dump file, read with positioned reads (``pread``), never memory-mapped: a
    program writing a new dump over the file shrinks it under a map, and touching a map
    past the file's end kills the process (SIGBUS). A shrunk file is a DumpFormatError.
    Offsets are 64-bit file positions."""

    def __init__(self, path: str | os.PathLike[str], length: int | None = None):
        """``length``: read only that many leading bytes, as if the file ended there."""
        self.path = os.fspath(path)
        self._file = open_regular(self.path)
        self.size = os.fstat(self._file.fileno()).st_size
        if length is not None:
            self.size = min(self.size, length)
        if self.size == 0:
            self._file.close()
            raise DumpFormatError(0, "empty file, not a Go heap dump", self.path)
        head = self.bytes_at(0, len(HEADER))
        if head != HEADER:
            self._file.close()
            raise DumpFormatError(
                0, f"not a Go heap dump: expected header {HEADER!r}, found {head!r}", self.path
            )

    def bytes_at(self, pos: int, length: int) -> bytes:
        """Up to ``length`` bytes from ``pos`` (fewer only at the end of the dump)."""
        length = max(min(pos + length, self.size) - pos, 0)
        data = os.pread(self._file.fileno(), length, pos)
        if len(data) < length:
            what = "the file is shorter than when it was opened (written again?): load it again"
            raise DumpFormatError(pos + len(data), what, self.path)
        return data

    def text_at(self, pos: int, length: int) -> str:
        return self.bytes_at(pos, length).decode("utf-8", "replace")

    def words_at(self, positions: np.ndarray, big_endian: bool) -> np.ndarray:
        """The 64-bit word at each of ``positions`` (ascending file offsets; -1 gives 0),
        read a window at a time."""
        out = np.zeros(len(positions), dtype=np.uint64)
        wanted = np.flatnonzero(positions >= 0)
        at = positions[wanted]
        if not len(at):
            return out
        if np.any(at[1:] < at[:-1]):
            raise ValueError("words_at: positions must ascend")
        window = FileWindow(self.path, int(at[0]), self.size, WINDOW_BYTES)
        try:
            done = 0
            while done < len(at):
                inside = int(np.searchsorted(at, window.base + window.filled - 8, side="right"))
                part = wanted[done:inside]
                out[part] = walk.gather_u64(window.buf, at[done:inside] - window.base, big_endian)
                done = inside
                if done < len(at):
                    if window.last:
                        what = "a word runs past the end of the file"
                        raise DumpFormatError(int(at[done]), what, self.path)
                    window.move_to(int(at[done]))
        finally:
            window.close()
        return out

    def close(self) -> None:
        self._file.close()


def open_regular(path: str) -> BinaryIO:
    """``path`` opened for reading; only a regular file (opening a FIFO would wait for a
    writer, forever: it is not waited for, and refused)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        raise DumpFormatError(0, f"cannot open: {err.strerror}", path) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise DumpFormatError(0, "not a regular file (a FIFO, a device or a folder)", path)
    return os.fdopen(fd, "rb")


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
    window_bytes: int = WINDOW_BYTES,
    split_min_bytes: int = SPLIT_MIN_BYTES,
) -> DumpColumns:
    """Walk every record of ``dump`` once; raise :class:`DumpFormatError` on damage.

    ``progress(fraction)`` is called after each window of the file; ``cancel()`` returning
    true stops the walk with :class:`LoadCancelled`. From ``split_min_bytes`` on, a second
    thread walks the later half of the object records (see :mod:`.ahead`).
    """
    with _Walk(dump, window_bytes, progress, cancel) as reader:
        if dump.size >= split_min_bytes:
            reader.until(len(HEADER) + min(SAMPLE_BYTES, dump.size // 8))
            rows = reader.cols[6][: reader.state[walk.S_RECORDS]]
            found = ObjectsAhead.find_start(dump, rows)
            if found and found[0] > reader.pos and not reader.state[walk.S_DONE]:
                cols = reader.lend(found[0])
                reader.ahead = ObjectsAhead(dump, *found, cols, window_bytes)
        if reader.ahead:
            reader.meet(reader.ahead)
        reader.until(dump.size + 1)
    if progress:
        progress(1.0)
    return _trimmed(reader.cols, reader.state)


class _Walk:
    """The main walk, a window of the file at a time (see :mod:`.window`): between windows
    it reports progress and asks whether to stop. A record cut by the window's end is read
    again from its start once the window has slid on (or grown, for a record larger than
    the window)."""

    def __init__(
        self, dump: DumpFile, window_bytes: int, progress: Progress | None, cancel: Cancelled | None
    ):
        self.dump, self.progress, self.cancel = dump, progress, cancel
        self.codes, self.lengths = layout_table()
        guess = max(dump.size // 64, 1024)
        self.cols: tuple[np.ndarray, ...] = (
            np.empty(guess, np.uint64), np.empty(guess, np.int64), np.empty(guess, np.int64),
            np.empty(guess, np.int64), np.empty(guess * 4, np.uint32),
            np.empty(guess * 4, np.uint64), np.empty((1024, walk.ROW), np.uint64),
            np.empty(4096, np.int64), np.empty(4096, np.uint64), np.empty(4096, np.uint64),
        )  # fmt: skip
        self.state = np.zeros(walk.STATE_SIZE, dtype=np.int64)
        self.window = FileWindow(dump.path, len(HEADER), dump.size, window_bytes)
        self.pos = len(HEADER)  # file offset of the next record
        self.ahead: ObjectsAhead | None = None
        self.full: list[np.ndarray] = []  # columns shared with the helper (see lend)
        self.lent_at: list[int] = []

    def __enter__(self) -> _Walk:
        return self

    def __exit__(self, *exc) -> None:
        if self.ahead:
            self.ahead.abandon()
        self.window.close()

    def until(self, limit: int) -> int:
        """Walk until a record starts at or past file offset ``limit``, or through the End
        Of File record; return the file offset reached."""
        dump, state, w = self.dump, self.state, self.window
        while True:
            stop = max(min(w.filled, limit - w.base), 0)
            pos, self.cols = walk.walk_chunk(
                w.buf, self.pos - w.base, stop, w.base, state, self.codes, self.lengths,
                self.cols,
            )  # fmt: skip
            self.pos = w.base + pos
            error = int(state[walk.S_ERROR])
            if state[walk.S_DONE] and not error:
                _check_end(dump, self.pos)
                return self.pos
            if error and (w.last or error not in walk.TRUNCATION_ERRORS):
                offset = w.base + int(state[walk.S_ERROR_OFFSET])
                message = walk.error_message(error, int(state[walk.S_ERROR_ARG]))
                raise DumpFormatError(offset, message, dump.path)
            if not error and self.pos >= limit:
                return self.pos
            if not error and w.last:
                raise DumpFormatError(w.size, walk.error_message(walk.E_NO_EOF, 0), dump.path)
            if error:  # a record cut by the window's end: read it again with more bytes
                self.pos = w.base + int(state[walk.S_RECORD_START])
                state[walk.S_ERROR] = 0
                growing = self.pos == w.base
                if growing and len(w.window) * 2 > BIG_RECORD_BYTES and self._is_object(w):
                    self.pos = self._big_object(self.pos)  # never held whole
                    w.move_to(self.pos)
                    self._report()
                    continue
                if growing and len(w.window) * 2 > RECORD_MAX_BYTES:
                    what = f"a record of over {RECORD_MAX_BYTES >> 20} MB (not an object)"
                    raise DumpFormatError(self.pos, what, dump.path)
            w.keep_from(self.pos)
            self._report()

    @staticmethod
    def _is_object(w: FileWindow) -> bool:
        return bool(w.filled) and int(w.buf[0]) == TAG_OBJECT

    def _big_object(self, pos: int) -> int:
        """An object record larger than BIG_RECORD_BYTES at ``pos``, read a piece at a time
        (its field list, then the pointers it names) rather than into a window that holds it
        (a crafted 10 GB record in a sparse file would take 10 GB); the position after it."""
        from .records import read_big_object  # the Python decoder; only for these

        ptr_size, big = int(self.state[walk.S_PTR_SIZE]), bool(self.state[walk.S_BIG_ENDIAN])
        addr, size, data_pos, offsets, end = read_big_object(self.dump, pos, ptr_size)
        values = self.dump.words_at(np.sort(data_pos + offsets), big)
        values = values[np.argsort(np.argsort(data_pos + offsets, kind="stable"))]
        if ptr_size == 4:
            values = values >> np.uint64(32) if big else values & np.uint64(0xFFFFFFFF)
        n, k = int(self.state[walk.S_OBJECTS]), int(self.state[walk.S_FIELDS])
        cols = list(self.cols)
        for i, value in enumerate((addr, size, data_pos, k)):
            cols[i] = with_room(cols[i], n + 2, n)  # obj_first keeps one more entry
            cols[i][n] = value
        for i, part in ((4, offsets.astype(np.uint32)), (5, values)):
            cols[i] = with_room(cols[i], k + len(part), k)
            cols[i][k : k + len(part)] = part
        self.cols = tuple(cols)
        self.state[walk.S_OBJECTS], self.state[walk.S_FIELDS] = n + 1, k + len(offsets)
        return end

    def _report(self) -> None:
        if self.progress:
            done = self.pos + (self.ahead.walked - self.ahead.start if self.ahead else 0)
            self.progress(min(done / self.dump.size, 1.0))
        if self.cancel and self.cancel():
            raise LoadCancelled(self.dump.path)

    def lend(self, start: int) -> tuple[np.ndarray, ...]:
        """Room for the objects and fields from file offset ``start`` on, where they will
        end up in the columns if the density walked so far holds (with a margin): views the
        helper fills while this walk keeps to the room before them."""
        walked = max(self.pos - len(HEADER), 1)
        before = (start - len(HEADER)) / walked * LEND_MARGIN
        after = (self.dump.size - start) / walked * LEND_MARGIN
        n, k = int(self.state[walk.S_OBJECTS]), int(self.state[walk.S_FIELDS])
        cols, self.full, self.lent_at, lent = list(self.cols), [], [], []
        for i in range(6):  # the object and field columns
            count = n if i < 4 else k
            at = int(count * before) + 1024
            full = with_room(cols[i], at + int(count * after) + 1024, count)
            cols[i] = full[:at]
            self.full.append(full)
            self.lent_at.append(at)
            lent.append(full[at:])
        self.cols = tuple(cols)
        return tuple(lent)

    def meet(self, ahead: ObjectsAhead) -> None:
        """Walk up to where ``ahead`` started; take its objects if that is a record start."""
        reached = self.until(ahead.start)
        self.ahead = None
        if reached != ahead.start or not ahead.finish():
            ahead.abandon()  # our columns get back the room lent to it, where still ours
            lent = len(self.full)
            shared = zip(self.cols[:lent], self.full, strict=True)
            self.cols = (*(f if _at(c, f, 0) else c for c, f in shared), *self.cols[lent:])
            return
        self._append(ahead)
        self.pos = ahead.end
        self.window.move_to(ahead.end)

    def _append(self, ahead: ObjectsAhead) -> None:
        """Put the helper's objects and fields after ours: moved down within the shared
        columns, or copied when either side had to grow out of them."""
        n, k = int(self.state[walk.S_OBJECTS]), int(self.state[walk.S_FIELDS])
        counts = (ahead.n_objects,) * 4 + (ahead.n_fields,) * 2
        cols = list(self.cols)
        for i, (part, count) in enumerate(zip(ahead.cols, counts, strict=True)):
            used, full, at = (n if i < 4 else k), self.full[i], self.lent_at[i]
            if _at(cols[i], full, 0) and _at(part, full, at):
                walk.move_down(full, at, used, count)
                cols[i] = full
            else:
                cols[i] = with_room(cols[i], used + count + 1, used)
                cols[i][used : used + count] = part[:count]
        cols[3][n : n + ahead.n_objects] += k  # first fields, numbered after ours
        self.cols = tuple(cols)
        self.state[walk.S_OBJECTS] += ahead.n_objects
        self.state[walk.S_FIELDS] += ahead.n_fields


def _at(view: np.ndarray, full: np.ndarray, offset: int) -> bool:
    """Whether ``view`` starts at ``full[offset]`` (not replaced by a grown copy)."""
    return view.ctypes.data == full.ctypes.data + offset * full.itemsize


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
