"""A saved index beside the dump (or in a cache folder), so a dump reopens in a blink.

The index is a folder of ``.npy`` files opened memory-mapped, plus ``meta.json`` holding the
key of the dump it was built from: size, modification time and a hash of the first and last
bytes. A dump that changed in any of these is never served a stale index. A place that
cannot be written is not an error: the index is simply not saved.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..dumpfile.columns import DumpColumns, DumpFile
from .model import Heap

FORMAT = 2  # bump when the columns or derived arrays change meaning
SUFFIX = ".heapspurs-index"
EDGE_BYTES = 1 << 16
# Read whole on reopen: what every address lookup touches (a hover must not wait for page
# faults); the rest stays memory-mapped and is paged in by the queries that need it.
EAGER = frozenset({"sorted_addr", "sorted_end", "order", "page_table", "page_shift"})


def dump_key(dump: DumpFile) -> dict[str, object]:
    st = os.stat(dump.path)
    h = hashlib.sha256()
    h.update(dump.bytes_at(0, EDGE_BYTES))
    h.update(dump.bytes_at(max(dump.size - EDGE_BYTES, 0), EDGE_BYTES))
    return {"format": FORMAT, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "edges_sha256": h.hexdigest()}  # fmt: skip


def index_places(dump_path: str) -> list[Path]:
    """Beside the dump first, then the user's cache folder."""
    path = Path(dump_path).resolve()
    cache_home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    tag = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    return [path.with_name(path.name + SUFFIX), cache_home / "heapspurs" / f"{path.name}-{tag}"]


def load_index(dump: DumpFile, lookups_in_memory: bool = True) -> Heap | None:
    """The saved index of ``dump``, or None. ``lookups_in_memory``: read the EAGER arrays
    whole (for many lookups); else everything stays mapped (one query touches few pages)."""
    key = dump_key(dump)
    eager = EAGER if lookups_in_memory else frozenset()
    for place in index_places(dump.path):
        try:
            meta = json.loads((place / "meta.json").read_text())
        except (OSError, ValueError):
            continue
        if meta.get("key") != key or not set(Heap.DERIVED) <= set(meta.get("arrays", ())):
            continue
        try:
            arrays = {
                name: np.load(place / f"{name}.npy", mmap_mode=None if name in eager else "r")
                for name in meta["arrays"]
            }
        except (OSError, ValueError, KeyError):
            continue
        cols = DumpColumns(**{f: arrays.pop(f"col_{f}") for f in meta["columns"]})
        heap = Heap(dump, cols, saved=arrays)
        heap.index_place = place
        return heap
    return None


def save_index(heap: Heap) -> Path | None:
    """Write the index to the first place that takes it; None when none does."""
    key = dump_key(heap.dump)
    arrays = {f"col_{k}": v for k, v in heap.cols.arrays().items()} | heap.derived()
    meta = {"key": key, "columns": list(heap.cols.arrays()), "arrays": list(arrays)}
    for place in index_places(heap.dump.path):
        try:
            place.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".heapspurs-", dir=place.parent))
        except OSError:
            continue
        try:
            for name, array in arrays.items():
                np.save(tmp / f"{name}.npy", np.ascontiguousarray(array))
            (tmp / "meta.json").write_text(json.dumps(meta))
            shutil.rmtree(place, ignore_errors=True)
            os.replace(tmp, place)
            heap.index_place = place
            return place
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    return None
