"""A saved index of a dump, so a dump reopens in a blink.

The index is a folder of ``.npy`` files plus ``meta.json``: the key of the dump it was
built from (size, modification time, a hash of the first and last bytes), and each array's
dtype, shape and checksum. It lives in the user's cache folder (``$XDG_CACHE_HOME/heapspurs``,
else ``~/.cache/heapspurs``) unless asked to go beside the dump (``DUMP.heapspurs-index/``).

A saved index is a file like any other: copied along in a tarball, half-written by a full
disk, edited. Before use it is checked whole (:func:`problem_of`): the format, every
array's dtype and length against the counts it must agree with, the range of every value
compiled code indexes with, and the checksums. Anything off and the index is rebuilt from
the dump, with a one-line warning. The arrays are read into the process's own memory, not
mapped: a file rewritten in place under a map kills the process with SIGBUS (and could
change after it was checked). A dump that changed is never served a stale index; a place
that cannot be written is not an error: the index is simply not saved.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mmap
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numba
import numpy as np

from ..dumpfile import layout as L
from ..dumpfile.columns import DumpColumns, DumpFile
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
    ``mapped``: map the arrays rather than read them (see :func:`_read_npy`)."""
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
            heap = _open(dump, place, meta, mapped)
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


def _open(dump: DumpFile, place: Path, meta: dict, mapped: bool) -> Heap:
    arrays_meta = meta.get("arrays")
    wanted = set(SCHEMA) | {f"col_{f}" for f in DumpColumns.__dataclass_fields__}
    wanted |= set(Heap.DERIVED)
    if not isinstance(arrays_meta, dict) or set(arrays_meta) != wanted:
        raise BadIndex("its list of arrays is not this version's")
    names = sorted(wanted, key=lambda name: -_claimed_bytes(arrays_meta[name]))
    with ThreadPoolExecutor(2) as pool:  # reads and checksums release the GIL
        read = pool.map(lambda nm: _read_npy(place, nm, arrays_meta[nm], mapped=mapped), names)
        arrays = dict(zip(names, read, strict=True))
    problem = problem_of(arrays, dump.size)
    if problem:
        raise BadIndex(problem)
    cols = DumpColumns(**{f: arrays.pop(f"col_{f}") for f in DumpColumns.__dataclass_fields__})
    return Heap(dump, cols, saved=arrays)


def _claimed_bytes(info: object) -> int:
    """What meta.json says an array weighs (to read the largest first); 0 if unreadable."""
    try:
        return int(np.prod(info["shape"])) * np.dtype(info["dtype"]).itemsize  # type: ignore[index]
    except (TypeError, KeyError, ValueError, OverflowError):
        return 0


def _read_npy(place: Path, name: str, info: object, *, mapped: bool = False) -> np.ndarray:
    """One array, read whole into memory after its header, size and checksum are checked
    against ``info`` (from meta.json): nothing is allocated for a size a file merely claims.
    ``mapped``: memory-mapped instead (read-only), for a short-lived process: cheaper than
    reading, but a file cut short under the map would end the process (SIGBUS)."""
    if not isinstance(info, dict):
        raise BadIndex(f"{name}: no dtype, shape and checksum")
    dtype, shape = info.get("dtype"), info.get("shape")
    if name in SCHEMA and dtype != SCHEMA[name][0]:
        raise BadIndex(f"{name}: dtype {dtype!r}, expected {SCHEMA[name][0]}")
    with open(place / f"{name}.npy", "rb") as f:
        try:
            version = np.lib.format.read_magic(f)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(version)  # fmt: skip
            if read_header is None:
                raise ValueError(f"format version {version}")
            header = read_header(f, max_header_size=1 << 16)
        except Exception as err:  # numpy's header parser raises several kinds
            raise BadIndex(f"{name}.npy: bad header ({type(err).__name__})") from None
        got_shape, fortran, got_dtype = header
        if fortran or got_dtype.hasobject or list(got_shape) != shape or got_dtype.str != dtype:
            raise BadIndex(
                f"{name}.npy holds {got_dtype.str} {got_shape}, meta.json says otherwise"
            )
        start, nbytes = f.tell(), int(np.prod(got_shape)) * got_dtype.itemsize
        size = os.fstat(f.fileno()).st_size
        if size < start + nbytes:
            raise BadIndex(f"{name}.npy is shorter than its header says")
        if size > start + nbytes:
            raise BadIndex(f"{name}.npy is longer than its header says")
        out: np.ndarray
        if mapped and nbytes:
            out = np.memmap(f, dtype=got_dtype, mode="r", offset=start, shape=got_shape)
        else:
            out = np.empty(got_shape, dtype=got_dtype)
            if f.readinto(out.reshape(-1).view(np.uint8).data) != out.nbytes:
                raise BadIndex(f"{name}.npy is shorter than its header says")
    if checksum(out) != info.get("checksum"):
        raise BadIndex(f"{name}: checksum mismatch")
    if isinstance(out, np.memmap) and out._mmap is not None:  # type: ignore[attr-defined]
        # the checksum touched every page: let go of them (they stay in the page cache),
        # so that the process holds only what its query reads
        with contextlib.suppress(OSError, ValueError, AttributeError):
            out._mmap.madvise(mmap.MADV_DONTNEED)  # type: ignore[attr-defined]
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


def problem_of(a: dict[str, np.ndarray], dump_size: int) -> str | None:
    """What makes these arrays unusable as a dump's index, or None: shapes that disagree
    with the counts, and any value compiled code indexes with out of its range."""
    problem = _shape_problem(a)
    if problem:
        return problem
    n, k, r = len(a["col_obj_addr"]), len(a["col_field_off"]), len(a["col_recs"])
    q = len(a["root_kind"])
    checks = [
        ("col_obj_first", _csr_ok(a["col_obj_first"], k)),
        ("in_first", _csr_ok(a["in_first"], len(a["in_src"]))),
        ("order", _within(a["order"], 0, n)),
        ("in_src", _within(a["in_src"], 0, n)),
        ("field_target", _within(a["field_target"], -1, n)),
        ("root_target", _within(a["root_target"], -1, n)),
        ("root_targets_sorted", _within(a["root_targets_sorted"], -1, n)),
        ("roots_by_target", _within(a["roots_by_target"], 0, q)),
        ("root_rec", _within(a["root_rec"], 0, r)),
        ("col_root_rec", _within(a["col_root_rec"], 0, r)),
        ("root_kind", _within(a["root_kind"], 0, ROOT_KINDS)),
        ("has_header", _within(a["has_header"].view(np.uint8), 0, 2)),
        ("phantom", _within(a["phantom"].view(np.uint8), 0, 2)),
        ("col_recs", _records_ok(a["col_recs"], dump_size)),
    ]
    for name, ok in checks:
        if not ok:
            return f"{name} holds values out of range"
    return _objects_problem(a, dump_size) or _page_table_problem(a) or _roots_problem(a)


def _roots_problem(a: dict[str, np.ndarray]) -> str | None:
    """The roots sorted by target (few: checked exactly; the objects' own arrays, large,
    only as far as compiled code needs, the checksums standing for the rest)."""
    by_target, targets = a["roots_by_target"], a["root_targets_sorted"]
    if len(by_target) and int(np.bincount(by_target).max()) > 1:
        return "roots_by_target is not a permutation"
    if not np.array_equal(targets, a["root_target"][by_target]) or not _ascending(targets):
        return "the roots' target order is not theirs"
    return None


def _shape_problem(a: dict[str, np.ndarray]) -> str | None:
    counts: dict[str, int] = {}
    for name, (_, dims) in SCHEMA.items():
        shape = a[name].shape
        if len(shape) != len(dims):
            return f"{name} has {len(shape)} dimensions, expected {len(dims)}"
        for dim, size in zip(dims, shape, strict=True):
            if isinstance(dim, int):
                want: int | None = dim
            elif dim.endswith("+1"):
                want = counts.get(dim[:-2], size - 1) + 1
            else:
                want = counts.setdefault(dim, size)
            if size != want:
                return f"{name} has {size} entries where {want} are expected"
    return None


def _within(values: np.ndarray, lo: int, hi: int) -> bool:
    """All of ``values`` in ``[lo, hi)`` (true when empty)."""
    return not len(values) or (int(values.min()) >= lo and int(values.max()) < hi)


def _csr_ok(first: np.ndarray, total: int) -> bool:
    return int(first[0]) == 0 and int(first[-1]) == total and _ascending(first)


@numba.njit(cache=True, nogil=True)
def _ascending(values):
    for i in range(1, values.shape[0]):  # noqa: SIM110 - compiled, as above
        if values[i] < values[i - 1]:
            return False
    return True


def _records_ok(recs: np.ndarray, dump_size: int) -> bool:
    tags, offsets = recs[:, 0], recs[:, 1]
    return (
        _within(tags, 0, L.TAG_ALLOC_SAMPLE + 1)
        and _within(offsets, 0, dump_size)
        and bool(np.any(tags == L.TAG_PARAMS))
    )


def _objects_problem(a: dict[str, np.ndarray], dump_size: int) -> str | None:
    """Objects: sizes and contents inside the dump, pointer fields inside their object,
    and the address-ordered arrays exactly the objects sorted."""
    addr, size, data = a["col_obj_addr"], a["col_obj_size"], a["col_obj_data"]
    if len(addr) == 0:
        return None
    if not (_within(size, 0, dump_size + 1) and _within(data, 0, dump_size + 1)):
        return "an object's contents lie outside the dump"
    if int((data + size).max()) > dump_size:  # both at most the size: no overflow
        return "an object's contents lie outside the dump"
    if np.any(addr > np.uint64(2**64 - 1) - size.view(np.uint64)):
        return "an object ends past the address space"
    if not _fields_inside(a["col_obj_first"], a["col_field_off"], size):
        return "a pointer field lies outside its object"
    if not _address_order_ok(a["order"], addr, size, a["sorted_addr"], a["sorted_end"]):
        return "the address order is not the objects' sorted"
    return None


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
        if i > 0 and sorted_addr[i] < sorted_addr[i - 1]:
            return False
    return True


def _page_table_problem(a: dict[str, np.ndarray]) -> str | None:
    """What :func:`graph.resolve` needs of the page table: a row past every page of the
    address span, first objects ascending within the objects, runs ending inside them."""
    table, shift, n = a["page_table"], int(a["page_shift"][0]), len(a["order"])
    if not 0 <= shift < 64 or len(table) < 2:
        return "page_shift or page_table out of range"
    if n:
        span = int(a["sorted_end"][-1]) - int(a["sorted_addr"][0])
        if len(table) < (span >> shift) + 2:
            return "page_table does not cover the heap"
    first, run_end, run_size = table[:, 0], table[:, 3], table[:, 2]
    if not _within(first, 0, n + 1) or not _ascending(np.ascontiguousarray(first)):
        return "page_table holds objects out of range"
    if np.any((run_size != 0) & (run_end >= np.uint64(max(n, 1)))):
        return "page_table holds runs out of range"
    return None


def save_index(heap: Heap, beside: bool = False) -> Path | None:
    """Write the index to the first place that takes it; None when none does."""
    key = dump_key(heap.dump)
    arrays = {f"col_{k}": v for k, v in heap.cols.arrays().items()} | heap.derived()
    arrays = {name: np.ascontiguousarray(v) for name, v in arrays.items()}
    described = {
        name: {"dtype": v.dtype.str, "shape": list(v.shape), "checksum": checksum(v)}
        for name, v in arrays.items()
    }
    meta = {"key": key, "arrays": described}
    for place in index_places(heap.dump.path, beside):
        try:
            place.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".heapspurs-", dir=place.parent))
        except OSError:
            continue
        try:
            for name, array in arrays.items():
                np.save(tmp / f"{name}.npy", array)
            (tmp / "meta.json").write_text(json.dumps(meta))
            _replace(tmp, place)
            heap.index_place = place
            return place
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    return None


def _replace(tmp: Path, place: Path) -> None:
    """Put the folder ``tmp`` at ``place``, over a folder or a file already there."""
    if place.is_dir() and not place.is_symlink():
        shutil.rmtree(place, ignore_errors=True)
    os.replace(tmp, place)
