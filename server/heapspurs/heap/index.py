"""A saved index of a dump, so a dump reopens in a blink.

The index is a folder of ``.npy`` files plus ``meta.json``: the key of the dump it was
built from (size, modification time, a hash of the first and last bytes), and each array's
dtype, shape and checksum. It lives in the user's cache folder (``$XDG_CACHE_HOME/heapspurs``,
else ``~/.cache/heapspurs``) unless asked to go beside the dump (``DUMP.heapspurs-index/``).

A saved index is a file like any other: copied along in a tarball, half-written by a full
disk, edited. Nothing of it reaches compiled code unchecked (:func:`problem_of`): the
format, every array's dtype and length against the counts it must agree with, the range of
every value compiled code indexes with, the checksums. On opening, meta.json and every
file's header are checked; the arrays themselves are read and checked whole (a long-lived
process), or each when first used (one query: :class:`SavedArrays`, which reads only what
the query touches). Anything off and the index is rebuilt from the dump, with a one-line
warning. Read whole, the arrays are in the process's own memory, not mapped: a file
rewritten in place under a map kills the process with SIGBUS (and could change after it
was checked). A dump that changed is never served a stale index; a place that cannot be
written is not an error: the index is simply not saved.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numba
import numpy as np

from ..dumpfile import layout as L
from ..dumpfile.columns import DumpColumns, DumpFile, read_columns
from ..dumpfile.walk import ROW
from .model import Heap

FORMAT = 3  # bump when the columns or derived arrays change meaning
SUFFIX = ".heapspurs-index"
EDGE_BYTES = 1 << 16
META_MAX_BYTES = 1 << 20

# dtype and shape of every array: shapes in counts, each count defined by the first array
# listing it ("n" objects, "k" pointer fields, "r" records, "m" root slots, "q" roots,
# "e" owner links, "p" pages; "n+1" is one more than n).
SCHEMA: dict[str, tuple[str, tuple[str | int, ...]]] = {
    "col_obj_addr": ("<u8", ("n",)),
    "col_obj_size": ("<i8", ("n",)),
    "col_obj_data": ("<i8", ("n",)),
    "col_obj_first": ("<i8", ("n+1",)),
    "col_field_off": ("<u4", ("k",)),
    "col_field_val": ("<u8", ("k",)),
    "col_recs": ("<u8", ("r", ROW)),
    "col_root_rec": ("<i8", ("m",)),
    "col_root_off": ("<u8", ("m",)),
    "col_root_val": ("<u8", ("m",)),
    "order": ("<i4", ("n",)),
    "sorted_addr": ("<u8", ("n",)),
    "sorted_end": ("<u8", ("n",)),
    "field_target": ("<i4", ("k",)),
    "in_first": ("<i8", ("n+1",)),
    "in_src": ("<i4", ("e",)),
    "has_header": ("|b1", ("n",)),
    "phantom": ("|b1", ("n",)),
    "root_kind": ("|i1", ("q",)),
    "roots_by_target": ("<i8", ("q",)),
    "root_targets_sorted": ("<i4", ("q",)),
    "root_rec": ("<i8", ("q",)),
    "root_slot": ("<u8", ("q",)),
    "root_target": ("<i4", ("q",)),
    "page_table": ("<u8", ("p", 4)),
    "page_shift": ("<i8", (1,)),
}
ROOT_KINDS = 10  # heap.roots: DATA .. OTHER


class BadIndex(Exception):
    """What is wrong with a saved index (the warning's text)."""


def dump_key(dump: DumpFile) -> dict[str, object]:
    st = os.stat(dump.path)
    h = hashlib.sha256()
    h.update(dump.bytes_at(0, EDGE_BYTES))
    h.update(dump.bytes_at(max(dump.size - EDGE_BYTES, 0), EDGE_BYTES))
    return {"format": FORMAT, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "edges_sha256": h.hexdigest()}  # fmt: skip


def cache_folder() -> Path:
    """``$XDG_CACHE_HOME/heapspurs``, else ``~/.cache/heapspurs``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "heapspurs"


def index_places(dump_path: str, beside: bool = False) -> list[Path]:
    """Where a dump's index is looked for and saved, in order: the cache folder, then beside
    the dump (``beside``: the other way round). Beside means beside the path as given (a
    symlink's folder, not its target's); the cache entry is named after the real path."""
    given = Path(os.path.abspath(dump_path))
    real = given.resolve()
    tag = hashlib.sha256(str(real).encode()).hexdigest()[:16]
    places = [cache_folder() / f"{real.name}-{tag}", given.with_name(given.name + SUFFIX)]
    return places[::-1] if beside else places


def load_index(
    dump: DumpFile,
    beside: bool = False,
    warnings: list[str] | None = None,
    mapped: bool = False,
) -> Heap | None:
    """The saved index of ``dump``, or None. A damaged one adds a line to ``warnings``.
    ``mapped``: one query: the arrays are mapped rather than read (see :func:`_read_npy`),
    each when first used (damage found then: see :meth:`SavedArrays.rebuilt`)."""
    key = dump_key(dump)
    for place in index_places(dump.path, beside):
        try:
            meta = _read_meta(place)
        except OSError:
            continue  # none here
        except BadIndex as err:
            _warn(warnings, place, str(err))
            continue
        if meta.get("key") != key:
            continue  # the index of an earlier dump at this path: rebuilt silently
        try:
            heap = _open(dump, place, meta, mapped, warnings)
        except (BadIndex, OSError, ValueError) as err:
            _warn(warnings, place, str(err))
            continue
        heap.index_place = place
        return heap
    return None


def _warn(warnings: list[str] | None, place: Path, what: str) -> None:
    if warnings is not None:
        warnings.append(f"saved index {place} is damaged ({what}): rebuilt from the dump")


def _read_meta(place: Path) -> dict:
    with open(place / "meta.json", "rb") as f:
        text = f.read(META_MAX_BYTES + 1)
    if len(text) > META_MAX_BYTES:
        raise BadIndex("meta.json is too large")
    try:
        meta = json.loads(text)
    except ValueError:
        raise BadIndex("meta.json is not JSON") from None
    if not isinstance(meta, dict):
        raise BadIndex("meta.json is not an object")
    return meta


def _open(
    dump: DumpFile, place: Path, meta: dict, mapped: bool, warnings: list[str] | None
) -> Heap:
    saved = SavedArrays(dump, place, meta, mapped, warnings)
    if mapped:
        _MAPPED_PLACES.add(place)  # its other arrays (the saved tree's) are mapped too
    else:
        saved.load_all()
    return Heap(dump, _SavedColumns(saved), saved=saved)


_MAPPED_PLACES: set[Path] = set()  # the indexes this process opened for one query


class IndexDamaged(Exception):
    """A saved index found damaged while a query was using it, whose arrays in use differ
    from the dump's (forged): the index was rebuilt, the query cannot go on."""


class SavedArrays:
    """The arrays of a saved index, each read and checked when first asked for (or all at
    once: :meth:`load_all`). On opening, the counts the arrays' shapes must agree with and
    every file's header are checked; an array is handed out once its own checks and those
    relating it to arrays already handed out pass (a relation matters only between arrays
    used together). Damage found later rebuilds the index from the dump (:meth:`rebuilt`)."""

    def __init__(
        self, dump: DumpFile, place: Path, meta: dict, mapped: bool, warnings: list[str] | None
    ):
        arrays_meta = meta.get("arrays")
        wanted = set(SCHEMA) | {f"col_{f}" for f in DumpColumns.__dataclass_fields__}
        wanted |= set(Heap.DERIVED)
        if not isinstance(arrays_meta, dict) or set(arrays_meta) != wanted:
            raise BadIndex("its list of arrays is not this version's")
        self.dump, self.place, self.mapped, self.warnings = dump, place, mapped, warnings
        self._files: dict[str, _NpyFile] = {}
        try:
            for name in sorted(wanted):
                self._files[name] = _open_npy(place, name, arrays_meta[name])
            self.counts = _counts_of({name: f.shape for name, f in self._files.items()})
        except BaseException:
            self._close()
            raise
        self._ready: dict[str, np.ndarray] = {}
        self._lock = threading.RLock()

    def __getitem__(self, name: str) -> np.ndarray:
        array = self._ready.get(name)
        if array is None:
            with self._lock:
                array = self._ready.get(name)
                if array is None:
                    array = self._load(name)
        return array

    def __contains__(self, name: object) -> bool:
        return name in self._files or name in self._ready

    def kept_as(self, owner: object, attribute: str, name: str) -> np.ndarray:
        """The array ``name``, also set as ``owner.attribute``: a lazy attribute's first
        use (a Heap's derived arrays, its columns), the next ones plain attribute reads."""
        array = self[name]
        setattr(owner, attribute, array)
        return array

    def load_all(self) -> None:
        """Every array, read and checked now (the largest first, two at a time: reads and
        checksums let go of the GIL); a problem raises :class:`BadIndex`."""
        names = sorted(self._files, key=lambda name: -self._files[name].nbytes)
        try:
            with ThreadPoolExecutor(2) as pool:
                read = pool.map(lambda name: _read_body(self._files[name], self.mapped), names)
                arrays = dict(zip(names, read, strict=True))
        finally:
            self._close()
        problem = problem_of(arrays, self.dump.size, self.counts)
        if problem:
            raise BadIndex(problem)
        self._ready = arrays

    def _load(self, name: str) -> np.ndarray:
        npy = self._files.get(name)
        if npy is None:  # the arrays were replaced by the dump's (rebuilt)
            return self._ready[name]
        try:
            array = _read_body(npy, self.mapped)
            problem = problem_of({**self._ready, name: array}, self.dump.size, self.counts, name)
            if problem:
                raise BadIndex(problem)
        except (BadIndex, OSError, ValueError) as err:
            self.rebuilt(str(err))
            return self._ready[name]
        finally:
            npy.file.close()
        del self._files[name]
        self._ready[name] = array
        return array

    def rebuilt(self, why: str) -> None:
        """Damage found while in use: the warning, the index rebuilt from the dump and saved
        over the damaged one, and its arrays served from now on. Those already handed out
        were checked (checksums, ranges): they equal the dump's unless forged, and then the
        query cannot go on mixing the two (:class:`IndexDamaged`)."""
        self._close()
        fresh = Heap(self.dump, read_columns(self.dump))
        arrays = _arrays_of(fresh)
        _save_at(fresh, self.place, _meta_of(fresh, arrays), arrays)
        if any(not np.array_equal(arrays[name], a) for name, a in self._ready.items()):
            raise IndexDamaged(
                f"saved index {self.place} is damaged ({why}) and the arrays in use differ "
                "from the dump's: it was rebuilt, ask again"
            )
        _warn(self.warnings, self.place, why)
        self._ready = arrays

    def _close(self) -> None:
        for npy in self._files.values():
            npy.file.close()
        self._files.clear()


class _SavedColumns(DumpColumns):
    """The dump's columns of a saved index, each read on first use (its fields are not set
    until then: :meth:`__getattr__` is asked)."""

    def __init__(self, saved: SavedArrays):
        self._saved = saved  # and no field: each is read when first asked for

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("_") or f"col_{name}" not in self._saved:
            raise AttributeError(name)
        return self._saved.kept_as(self, name, f"col_{name}")


def _arrays_of(heap: Heap) -> dict[str, np.ndarray]:
    """Every array an index of ``heap`` holds, by name."""
    arrays = {f"col_{k}": v for k, v in heap.cols.arrays().items()} | heap.derived()
    return {name: np.ascontiguousarray(v) for name, v in arrays.items()}


@dataclass
class _NpyFile:
    """An array's file, open, its header checked: the body starts at ``start``."""

    name: str
    file: BinaryIO
    start: int
    shape: tuple[int, ...]
    dtype: np.dtype
    checksum: object

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape)) * self.dtype.itemsize


def _read_npy(place: Path, name: str, info: object, *, mapped: bool | None = None) -> np.ndarray:
    """One array, read whole into memory after its header, size and checksum are checked
    against ``info`` (from meta.json): nothing is allocated for a size a file merely claims.
    ``mapped``: memory-mapped instead (read-only), for a short-lived process: cheaper than
    reading, but a file cut short under the map would end the process (SIGBUS); by default,
    as this process opened the index at ``place`` (:func:`load_index`)."""
    npy = _open_npy(place, name, info)
    try:
        return _read_body(npy, place in _MAPPED_PLACES if mapped is None else mapped)
    finally:
        npy.file.close()


def _open_npy(place: Path, name: str, info: object) -> _NpyFile:
    """The array's file, opened, its header and size checked against ``info``."""
    if not isinstance(info, dict):
        raise BadIndex(f"{name}: no dtype, shape and checksum")
    dtype, shape = info.get("dtype"), info.get("shape")
    if name in SCHEMA and dtype != SCHEMA[name][0]:
        raise BadIndex(f"{name}: dtype {dtype!r}, expected {SCHEMA[name][0]}")
    f = open(place / f"{name}.npy", "rb")  # noqa: SIM115 - closed by the caller, or below
    try:
        got_shape, got_dtype = _header(f, name)
        if list(got_shape) != shape or got_dtype.str != dtype:
            raise BadIndex(
                f"{name}.npy holds {got_dtype.str} {got_shape}, meta.json says otherwise"
            )
        npy = _NpyFile(name, f, f.tell(), got_shape, got_dtype, info.get("checksum"))
        size = os.fstat(f.fileno()).st_size
        if size < npy.start + npy.nbytes:
            raise BadIndex(f"{name}.npy is shorter than its header says")
        if size > npy.start + npy.nbytes:
            raise BadIndex(f"{name}.npy is longer than its header says")
        return npy
    except BaseException:
        f.close()
        raise


def _header(f: BinaryIO, name: str) -> tuple[tuple[int, ...], np.dtype]:
    try:
        version = np.lib.format.read_magic(f)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}.get(version)  # fmt: skip
        if read_header is None:
            raise ValueError(f"format version {version}")
        shape, fortran, dtype = read_header(f, max_header_size=1 << 16)
    except Exception as err:  # numpy's header parser raises several kinds
        raise BadIndex(f"{name}.npy: bad header ({type(err).__name__})") from None
    if fortran or dtype.hasobject:
        raise BadIndex(f"{name}.npy holds {dtype.str} {shape}, meta.json says otherwise")
    return shape, dtype


def _read_body(npy: _NpyFile, mapped: bool) -> np.ndarray:
    """The array of an opened file, its checksum checked."""
    out: np.ndarray
    if mapped and npy.nbytes:
        out = np.memmap(npy.file, dtype=npy.dtype, mode="r", offset=npy.start, shape=npy.shape)
        if os.fstat(npy.file.fileno()).st_size < npy.start + npy.nbytes:
            raise BadIndex(f"{npy.name}.npy is shorter than its header says")
    else:
        out = np.empty(npy.shape, dtype=npy.dtype)
        npy.file.seek(npy.start)
        if npy.file.readinto(out.reshape(-1).view(np.uint8).data) != out.nbytes:  # type: ignore[attr-defined]
            raise BadIndex(f"{npy.name}.npy is shorter than its header says")
    if checksum(out) != npy.checksum:
        raise BadIndex(f"{npy.name}: checksum mismatch")
    return out


def checksum(array: np.ndarray) -> str:
    """A 64-bit hash of the array's bytes (compiled: zlib's CRC-32 took 0.4 s per reopen
    of a 5M-object index)."""
    data = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
    whole = len(data) // 8 * 8
    tail = np.zeros(8, dtype=np.uint8)
    tail[: len(data) - whole] = data[whole:]
    return f"{_hash_words(data[:whole].view(np.uint64), tail.view(np.uint64)):016x}"


@numba.njit(cache=True, nogil=True)
def _hash_words(words, tail):
    """Four independent lanes of multiply-rotate (so the multiplications overlap), folded."""
    m1, m2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F)
    r, left = np.uint64(31), np.uint64(33)
    lanes = np.array([1, 2, 3, 4], dtype=np.uint64) * m2
    n = words.shape[0]
    for i in range(0, n - n % 4, 4):
        for j in range(4):
            h = (lanes[j] ^ words[i + j]) * m1
            lanes[j] = (h << r) | (h >> left)
    h = np.uint64(n) * m1
    for j in range(4):
        h = ((h ^ lanes[j]) * m2) ^ (h >> left)
    for i in range(n - n % 4, n):
        h = ((h ^ words[i]) * m1) ^ (h >> left)
    return ((h ^ tail[0]) * m2) ^ (h >> r)


def problem_of(
    a: dict[str, np.ndarray],
    dump_size: int,
    counts: dict[str, int] | None = None,
    new: str | None = None,
) -> str | None:
    """What makes these arrays unusable as a dump's index, or None: shapes that disagree
    with the counts, and any value compiled code indexes with out of its range. ``a`` may
    be part of an index when its ``counts`` (checked on its files' headers) are given;
    ``new``: only what concerns that array, its values and its relations with the others
    of ``a`` (the others were checked before)."""
    if counts is None:
        try:
            counts = _counts_of({name: array.shape for name, array in a.items()})
        except BadIndex as err:
            return str(err)
    for name in [new] if new else a:
        own = _OWN_CHECKS.get(name)
        if own is not None and not own(a[name], counts, dump_size):
            return f"{name} holds values out of range"
    for names, related in _RELATIONS:
        if (new is None or new in names) and all(name in a for name in names):
            problem = related(a, dump_size)
            if problem:
                return problem
    return None


def _counts_of(shapes: dict[str, tuple[int, ...]]) -> dict[str, int]:
    """The counts the shapes define (see SCHEMA); BadIndex when they disagree."""
    counts: dict[str, int] = {}
    for name, (_, dims) in SCHEMA.items():
        shape = shapes[name]
        if len(shape) != len(dims):
            raise BadIndex(f"{name} has {len(shape)} dimensions, expected {len(dims)}")
        for dim, size in zip(dims, shape, strict=True):
            if isinstance(dim, int):
                want: int | None = dim
            elif dim.endswith("+1"):
                want = counts.get(dim[:-2], size - 1) + 1
            else:
                want = counts.setdefault(dim, size)
            if size != want:
                raise BadIndex(f"{name} has {size} entries where {want} are expected")
    return counts


def _objects_inside(a: dict[str, np.ndarray], dump_size: int) -> str | None:
    if _max_end(a["col_obj_data"], a["col_obj_size"]) > dump_size:  # each <= the size
        return "an object's contents lie outside the dump"
    return None


def _addresses_fit(a: dict[str, np.ndarray], _: int) -> str | None:
    if not _ends_fit(a["col_obj_addr"], a["col_obj_size"]):
        return "an object ends past the address space"
    return None


def _fields_problem(a: dict[str, np.ndarray], _: int) -> str | None:
    if not _fields_inside(a["col_obj_first"], a["col_field_off"], a["col_obj_size"]):
        return "a pointer field lies outside its object"
    return None


def _address_order_problem(a: dict[str, np.ndarray], _: int) -> str | None:
    arrays = (a["order"], a["col_obj_addr"], a["col_obj_size"], a["sorted_addr"], a["sorted_end"])
    if not _address_order_ok(*arrays):
        return "the address order is not the objects' sorted"
    return None


def _page_table_problem(a: dict[str, np.ndarray], _: int) -> str | None:
    """What :func:`graph.resolve` needs of the page table besides its own values: a row
    past every page of the address span."""
    table, shift, start, end = a["page_table"], a["page_shift"], a["sorted_addr"], a["sorted_end"]
    if len(start) and len(table) < ((int(end[-1]) - int(start[0])) >> int(shift[0])) + 2:
        return "page_table does not cover the heap"
    return None


def _roots_problem(a: dict[str, np.ndarray], _: int) -> str | None:
    """The roots sorted by target are the roots' (few: checked exactly)."""
    if not np.array_equal(a["root_targets_sorted"], a["root_target"][a["roots_by_target"]]):
        return "the roots' target order is not theirs"
    return None


def _within(values: np.ndarray, lo: int, hi: int) -> bool:
    """All of ``values`` in ``[lo, hi)`` (true when empty)."""
    if not len(values):
        return True
    if values.ndim == 1 and values.dtype.kind in "iu" and values.dtype.itemsize >= 4:
        low, high = _min_max(values)  # one pass, not two
    else:
        low, high = values.min(), values.max()
    return int(low) >= lo and int(high) < hi


@numba.njit(cache=True, nogil=True)
def _min_max(values):
    """(Two independent tests, so that the loop is vectorised: faster than numpy's min
    and max, each a pass.)"""
    low = high = values[0]
    for i in range(values.shape[0]):
        v = values[i]
        if v < low:
            low = v
        if v > high:
            high = v
    return low, high


def _csr_ok(first: np.ndarray, total: int) -> bool:
    return int(first[0]) == 0 and int(first[-1]) == total and _ascending(first)


@numba.njit(cache=True, nogil=True)
def _ascending(values):
    """(A block at a time, the test of each block without a branch: vectorised.)"""
    n = values.shape[0]
    for start in range(1, n, 4096):
        descends = False
        for i in range(start, min(start + 4096, n)):
            descends |= values[i] < values[i - 1]
        if descends:
            return False
    return True


def _permutation(values: np.ndarray) -> bool:
    """No value twice (the values checked in range first)."""
    return not len(values) or int(np.bincount(values).max()) <= 1


def _records_ok(recs: np.ndarray, dump_size: int) -> bool:
    tags, offsets = recs[:, 0], recs[:, 1]
    return (
        _within(tags, 0, L.TAG_ALLOC_SAMPLE + 1)
        and _within(offsets, 0, dump_size)
        and bool(np.any(tags == L.TAG_PARAMS))
    )


def _page_table_ok(table: np.ndarray, n: int) -> bool:
    """Two rows at least, first objects ascending within the objects, runs ending inside
    them."""
    if len(table) < 2:
        return False
    first, run_size, run_end = table[:, 0], table[:, 2], table[:, 3]
    if not _within(first, 0, n + 1) or not _ascending(np.ascontiguousarray(first)):
        return False
    return not np.any((run_size != 0) & (run_end >= np.uint64(max(n, 1))))


@numba.njit(cache=True, nogil=True)
def _max_end(data, size):
    """The largest ``data + size`` (0 for none): the end of the objects' bytes."""
    end = 0
    for i in range(size.shape[0]):
        end = max(end, data[i] + size[i])
    return end


@numba.njit(cache=True, nogil=True)
def _ends_fit(addr, size):
    """Every object's end inside the address space (sizes checked >= 0 first)."""
    top = np.uint64(2**64 - 1)
    for i in range(addr.shape[0]):  # noqa: SIM110 - compiled, as above
        if addr[i] > top - np.uint64(size[i]):
            return False
    return True


@numba.njit(cache=True, nogil=True)
def _fields_inside(obj_first, field_off, size):
    """Every pointer field at an offset inside its object (``obj_first`` checked first)."""
    for i in range(size.shape[0]):
        for j in range(obj_first[i], obj_first[i + 1]):
            if field_off[j] >= size[i]:
                return False
    return True


@numba.njit(cache=True, nogil=True)
def _address_order_ok(order, addr, size, sorted_addr, sorted_end):
    """``sorted_addr``/``sorted_end`` are the objects (``order``, checked in range first)
    in ascending address order."""
    for i in range(order.shape[0]):
        o = order[i]
        if sorted_addr[i] != addr[o] or sorted_end[i] != addr[o] + np.uint64(size[o]):
            return False
    return True


# What each array's values must be on their own: (array, counts, dump size) -> fine
_OWN_CHECKS: dict[str, Callable[[np.ndarray, dict[str, int], int], bool]] = {
    "col_obj_first": lambda v, c, _: _csr_ok(v, c["k"]),
    "in_first": lambda v, c, _: _csr_ok(v, c["e"]),
    "order": lambda v, c, _: _within(v, 0, c["n"]),
    "in_src": lambda v, c, _: _within(v, 0, c["n"]),
    "field_target": lambda v, c, _: _within(v, -1, c["n"]),
    "root_target": lambda v, c, _: _within(v, -1, c["n"]),
    "root_targets_sorted": lambda v, c, _: _within(v, -1, c["n"]) and _ascending(v),
    "roots_by_target": lambda v, c, _: _within(v, 0, c["q"]) and _permutation(v),
    "root_rec": lambda v, c, _: _within(v, 0, c["r"]),
    "col_root_rec": lambda v, c, _: _within(v, 0, c["r"]),
    "root_kind": lambda v, c, _: _within(v, 0, ROOT_KINDS),
    "has_header": lambda v, c, _: _within(v.view(np.uint8), 0, 2),
    "phantom": lambda v, c, _: _within(v.view(np.uint8), 0, 2),
    "col_recs": lambda v, c, size: _records_ok(v, size),
    "col_obj_size": lambda v, c, size: _within(v, 0, size + 1),
    "col_obj_data": lambda v, c, size: _within(v, 0, size + 1),
    "sorted_addr": lambda v, c, _: _ascending(v),
    "page_shift": lambda v, c, _: 0 <= int(v[0]) < 64,
    "page_table": lambda v, c, _: _page_table_ok(v, c["n"]),
}


# What arrays used together must agree on (each checked once all of its arrays are in use;
# the checks of each array's own values first): ((arrays), (arrays, dump size) -> problem)
_RELATIONS: list[tuple[tuple[str, ...], Callable[[dict[str, np.ndarray], int], str | None]]] = [
    (("col_obj_size", "col_obj_data"), _objects_inside),
    (("col_obj_addr", "col_obj_size"), _addresses_fit),
    (("col_obj_first", "col_field_off", "col_obj_size"), _fields_problem),
    (("order", "col_obj_addr", "col_obj_size", "sorted_addr", "sorted_end"),
     _address_order_problem),
    (("page_table", "page_shift", "sorted_addr", "sorted_end"), _page_table_problem),
    (("roots_by_target", "root_targets_sorted", "root_target"), _roots_problem),
]  # fmt: skip


def save_index(heap: Heap, beside: bool = False) -> Path | None:
    """Write the index to the first place that takes it; None when none does."""
    arrays = _arrays_of(heap)
    meta = _meta_of(heap, arrays)  # (the checksums once, whichever place takes it)
    for place in index_places(heap.dump.path, beside):
        if _save_at(heap, place, meta, arrays):
            return place
    return None


def _meta_of(heap: Heap, arrays: dict[str, np.ndarray]) -> dict[str, object]:
    """meta.json of an index of ``heap`` holding ``arrays``: the dump's key, each array's
    dtype, shape and checksum."""
    described = {
        name: {"dtype": v.dtype.str, "shape": list(v.shape), "checksum": checksum(v)}
        for name, v in arrays.items()
    }
    return {"key": dump_key(heap.dump), "arrays": described}


def _save_at(heap: Heap, place: Path, meta: dict[str, object],
             arrays: dict[str, np.ndarray]) -> bool:  # fmt: skip
    """Write the index (``arrays`` and their ``meta``) at ``place``, over what is there;
    False when it cannot be."""
    try:
        place.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".heapspurs-", dir=place.parent))
    except OSError:
        return False
    try:
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", array)
        (tmp / "meta.json").write_text(json.dumps(meta))
        _replace(tmp, place)
        heap.index_place = place
        return True
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return False


def _replace(tmp: Path, place: Path) -> None:
    """Put the folder ``tmp`` at ``place``, over a folder or a file already there."""
    if place.is_dir() and not place.is_symlink():
        shutil.rmtree(place, ignore_errors=True)
    os.replace(tmp, place)
