"""Forged saved indexes: in-range but wrong values in the arrays compiled code indexes with,
their checksums recomputed so that validation lets them through, each loaded and asked every
query (tests/hostile.py's). Wrong answers are expected; a signal, a hang or an exception
other than the one-line errors is a bug.

    python tests/forged.py DUMP SEED [lazy] [wild] [KIND ...]
    # prints {kind: "answered" | "noticed"}

``lazy``: each forged index opened as the CLI opens it, for one query (each array read and
checked when first used), not read whole as a server reads it.

DUMP is a copy (its index is written in a private cache folder). Progress goes to stderr,
one line per kind before it is tried, so a caller killed by a signal or a timeout can name
the kind. Exceptions are collected per kind and printed as JSON ``errors`` (exit status 1).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

if __name__ == "__main__":  # a private cache folder, before heapspurs reads the variable
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="heapspurs-forged-")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from heapspurs.analysis import dominators
from heapspurs.analysis.anchors import nearest_anchor
from heapspurs.analysis.ownergraph import owner_graph
from heapspurs.heap import graph, index
from heapspurs.heap.index import checksum, index_places, problem_of
from heapspurs.loaded import LoadedDump, load_dump
from heapspurs.lsp.hover import hover_markdown
from heapspurs.lsp.protocol import STATE_READY
from heapspurs.lsp.store import DumpEntry
from heapspurs.render.graph import to_dot
from hostile import ADDRESS_QUERIES, WHOLE_QUERIES, addresses_of, ask

Arrays = dict[str, np.ndarray]
Forge = Callable[[Arrays, np.random.Generator, int], None]  # (arrays, rng, dump size)


def _some(rng: np.random.Generator, n: int, share: float = 0.25) -> np.ndarray:
    """A random share of ``range(n)`` (at least one when n > 0)."""
    return rng.choice(n, size=max(int(n * share), min(n, 1)), replace=False)


def _objects(a: Arrays) -> int:
    return len(a["col_obj_addr"])


# --- pointers ---------------------------------------------------------------------------
def field_target_random(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """A quarter of the pointers aimed at other objects (or at none)."""
    t = a["field_target"]
    at = _some(rng, len(t))
    t[at] = rng.integers(-1, _objects(a), size=len(at))


def field_target_self(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """Every pointer aimed at its own object: cycles everywhere, the roots reach little."""
    first = a["col_obj_first"]
    a["field_target"][:] = np.repeat(np.arange(_objects(a)), np.diff(first))


def field_target_hub(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """Every pointer aimed at one object."""
    a["field_target"][:] = rng.integers(0, _objects(a))


def field_target_chain(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """Each object's pointers aimed at the next object, the last at the first: one ring."""
    n, first = _objects(a), a["col_obj_first"]
    a["field_target"][:] = np.repeat((np.arange(n) + 1) % n, np.diff(first))


def in_src_random(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """Owner links naming objects that do not point at them."""
    s = a["in_src"]
    s[:] = rng.integers(0, _objects(a), size=len(s))


def in_first_random(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """The owner links split among the objects at random (a valid CSR, the wrong one)."""
    f, e = a["in_first"], len(a["in_src"])
    f[1:-1] = np.sort(rng.integers(0, e + 1, size=len(f) - 2))
    f[0], f[-1] = 0, e


def in_first_one(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """Every owner link given to the first object."""
    f = a["in_first"]
    f[1:] = len(a["in_src"])


def obj_first_shuffled(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """Pointer counts moved between objects (offsets folded into their new object)."""
    size, first = a["col_obj_size"], a["col_obj_first"]
    counts = np.diff(first)
    holders = np.flatnonzero(size > 0)
    counts[holders] = rng.permutation(counts[holders])
    first[1:] = np.cumsum(counts)
    owner = np.repeat(np.arange(len(size)), counts)
    a["col_field_off"][:] = a["col_field_off"] % size[owner].astype(np.uint32)


def field_off_random(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """Pointer offsets anywhere inside their object."""
    first, size = a["col_obj_first"], a["col_obj_size"]
    owner = np.repeat(np.arange(len(size)), np.diff(first))
    a["col_field_off"][:] = rng.integers(0, np.maximum(size[owner], 1)).astype(np.uint32)


def field_val_random(a: Arrays, rng: np.random.Generator, _: int) -> None:
    v = a["col_field_val"]
    v[:] = rng.integers(0, 2**64, size=len(v), dtype=np.uint64)


# --- roots ------------------------------------------------------------------------------
def _roots_sorted(a: Arrays) -> None:
    a["roots_by_target"][:] = np.argsort(a["root_target"], kind="stable")
    a["root_targets_sorted"][:] = a["root_target"][a["roots_by_target"]]


def root_target_random(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """Roots aimed at other objects (the sorted copies agreeing)."""
    t = a["root_target"]
    t[:] = rng.integers(-1, _objects(a), size=len(t))
    _roots_sorted(a)


def root_target_one(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """Every root aimed at one object."""
    a["root_target"][:] = rng.integers(0, _objects(a))
    _roots_sorted(a)


def root_records_random(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """Roots and root fields credited to other records, of other kinds and slots."""
    r = len(a["col_recs"])
    for name in ("root_rec", "col_root_rec"):
        a[name][:] = rng.integers(0, r, size=len(a[name]))
    a["root_kind"][:] = rng.integers(0, 10, size=len(a["root_kind"]))
    a["root_slot"][:] = rng.integers(0, 2**64, size=len(a["root_slot"]), dtype=np.uint64)
    a["col_root_off"][:] = rng.integers(0, 2**64, size=len(a["col_root_off"]), dtype=np.uint64)


def records_moved(a: Arrays, rng: np.random.Generator, size: int) -> None:
    """Records said to start at other offsets of the dump (DumpParams among them)."""
    offsets = a["col_recs"][:, 1]
    at = _some(rng, len(offsets))
    offsets[at] = rng.integers(0, size, size=len(at)).astype(np.uint64)


# --- objects and the address order ---------------------------------------------------------
def _address_order(a: Arrays) -> None:
    """order, sorted_addr and sorted_end of the (forged) objects; the page table kept when
    it still covers them, else made again."""
    addr, size = a["col_obj_addr"], a["col_obj_size"]
    a["order"][:] = np.argsort(addr, kind="stable")
    a["sorted_addr"][:] = addr[a["order"]]
    a["sorted_end"][:] = a["sorted_addr"] + size[a["order"]].view(np.uint64)
    span = int(a["sorted_end"].max()) - int(a["sorted_addr"][0])
    if len(a["page_table"]) < (span >> int(a["page_shift"][0])) + 2:
        a["page_table"], shift = graph.page_table(a["sorted_addr"], a["sorted_end"], len(addr))
        a["page_shift"][0] = shift


def addresses_shared(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """A quarter of the objects moved onto others' addresses: objects overlap."""
    addr = a["col_obj_addr"]
    at = _some(rng, len(addr))
    addr[at] = addr[rng.choice(len(addr), size=len(at))]
    _address_order(a)


def sizes_grown(a: Arrays, rng: np.random.Generator, dump_size: int) -> None:
    """Objects grown over their neighbours (their bytes still inside the dump)."""
    size, data = a["col_obj_size"], a["col_obj_data"]
    at = _some(rng, len(size))
    room = dump_size - data[at] - size[at]
    size[at] += rng.integers(0, np.minimum(room, 1 << 16) + 1)
    _address_order(a)


def order_among_equals(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """Every object at one address, the address order a random permutation of them."""
    a["col_obj_addr"][:] = a["col_obj_addr"].min()
    a["order"][:] = rng.permutation(_objects(a))
    a["sorted_addr"][:] = a["col_obj_addr"][a["order"]]
    a["sorted_end"][:] = a["sorted_addr"] + a["col_obj_size"][a["order"]].view(np.uint64)
    # the end of the address span is the last object's end: make it the largest
    big = int(np.argmax(a["col_obj_size"]))
    last = int(np.flatnonzero(a["order"] == big)[0])
    a["order"][[last, -1]] = a["order"][[-1, last]]
    a["sorted_end"][:] = a["sorted_addr"] + a["col_obj_size"][a["order"]].view(np.uint64)


def contents_moved(a: Arrays, rng: np.random.Generator, dump_size: int) -> None:
    """Objects' bytes said to be elsewhere in the dump."""
    size, data = a["col_obj_size"], a["col_obj_data"]
    at = _some(rng, len(size))
    data[at] = rng.integers(0, dump_size - size[at] + 1)


def flags_random(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """Malloc headers and phantom records at random."""
    for name in ("has_header", "phantom"):
        a[name][:] = rng.random(len(a[name])) < 0.5


def page_table_random(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """Each page's first object, first address, slot size and run end at random (first
    objects ascending, runs inside the objects: what validation asks)."""
    table, n = a["page_table"], _objects(a)
    table[:, 0] = np.sort(rng.integers(0, n + 1, size=len(table)))
    lo, hi = int(a["sorted_addr"][0]), int(a["sorted_end"][-1])
    table[:, 1] = rng.integers(lo, hi + 1, size=len(table), dtype=np.uint64)
    table[:, 2] = rng.choice(np.array([0, 1, 8, 4096, 2**40, 2**63], dtype=np.uint64), len(table))
    table[:, 3] = rng.integers(0, n, size=len(table))


def page_shift_coarse(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """The largest shift: the whole heap one page, its row of the table wrong."""
    a["page_shift"][0] = 63


# --- the dominator tree ----------------------------------------------------------------------
def _reached(a: Arrays) -> np.ndarray:
    return np.flatnonzero(a["dom_idom"] >= 0)


def idom_cycles(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """Pairs of objects each the other's dominator, and a ring through a first-level
    object (the tree's children lists then loop)."""
    idom = a["dom_idom"]
    pick = rng.permutation(_reached(a))[:20]
    for x, y in zip(pick[0::2], pick[1::2], strict=False):
        idom[x], idom[y] = y, x
    top = np.flatnonzero(idom == dominators.VIRTUAL_ROOT)
    ring = rng.permutation(_reached(a))[:50]
    if len(top):
        ring = np.append(ring, top[0])
    idom[ring] = np.roll(ring, 1)


def idom_self(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """Objects their own dominators."""
    idom = a["dom_idom"]
    at = _some(rng, len(idom))
    idom[at] = at


def idom_random(a: Arrays, rng: np.random.Generator, _: int) -> None:
    idom = a["dom_idom"]
    idom[:] = rng.integers(dominators.UNREACHED, len(idom), size=len(idom))


def retained_wrong(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """Retained sizes and counts anything from 0 to the live heap's, the live heap 0 bytes
    in a few objects (what validation of the saved tree lets through)."""
    live = a["dom_live"]
    live[:] = (0, rng.integers(1, 4))
    for name, top in (("dom_retained", 0), ("dom_retained_objects", int(live[1]))):
        a[name][:] = rng.integers(0, top + 1, size=len(a[name]))


FORGES: dict[str, Forge] = {f.__name__: f for f in (
    field_target_random, field_target_self, field_target_hub, field_target_chain,
    in_src_random, in_first_random, in_first_one, obj_first_shuffled, field_off_random,
    field_val_random, root_target_random, root_target_one, root_records_random,
    records_moved, addresses_shared, sizes_grown, order_among_equals, contents_moved,
    flags_random, page_table_random, page_shift_coarse, idom_cycles, idom_self, idom_random,
    retained_wrong,
)}  # fmt: skip


# --- out of range: what validation would refuse, for kernels that must not trust it -----------
def _wild(rng: np.random.Generator, count: int, n: int, dtype: type) -> np.ndarray:
    """Values past either end of ``[0, n)``: just past it, far past it, the dtype's ends."""
    info = np.iinfo(dtype)
    choices = np.array([n, n + 1, n + 63, n + 64, n + 1000, info.max, -2, -64, info.min],
                       dtype=np.int64)  # fmt: skip
    return np.clip(rng.choice(choices, count), info.min, info.max).astype(dtype)


def field_target_wild(a: Arrays, rng: np.random.Generator, _: int) -> None:
    t = a["field_target"]
    at = _some(rng, len(t))
    t[at] = _wild(rng, len(at), _objects(a), np.int32)


def root_target_wild(a: Arrays, rng: np.random.Generator, _: int) -> None:
    t = a["root_target"]
    at = _some(rng, len(t), 0.5)
    t[at] = _wild(rng, len(at), _objects(a), np.int32)


def in_src_wild(a: Arrays, rng: np.random.Generator, _: int) -> None:
    s = a["in_src"]
    at = _some(rng, len(s))
    s[at] = _wild(rng, len(at), _objects(a), np.int32)


def in_first_wild(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """Owner lists starting and ending anywhere, descending, past the links."""
    f = a["in_first"]
    at = _some(rng, len(f))
    f[at] = _wild(rng, len(at), len(a["in_src"]), np.int64)


def obj_first_wild(a: Arrays, rng: np.random.Generator, _: int) -> None:
    f = a["col_obj_first"]
    at = _some(rng, len(f), 0.1)
    f[at] = _wild(rng, len(at), len(a["field_target"]), np.int64)


def order_wild(a: Arrays, rng: np.random.Generator, _: int) -> None:
    o = a["order"]
    at = _some(rng, len(o))
    o[at] = _wild(rng, len(at), _objects(a), np.int32)


def sorted_shuffled(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """The address order's addresses and ends not sorted, nor each other's."""
    a["sorted_addr"][:] = rng.permutation(a["sorted_addr"])
    a["sorted_end"][:] = rng.permutation(a["sorted_end"])


def page_table_wild(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """First objects and run ends past the objects (to 2^64 - 1), descending; slot size 1."""
    table = a["page_table"]
    big = np.array([_objects(a) + 5, 2**63, 2**64 - 1], dtype=np.uint64)
    table[:, 0] = rng.choice(big, len(table))
    table[:, 2] = 1
    table[:, 3] = rng.choice(big, len(table))


def page_table_short(a: Arrays, rng: np.random.Generator, _: int) -> None:
    """A table of two rows (the heap spans more pages)."""
    a["page_table"] = a["page_table"][:2].copy()


def page_shift_wild(a: Arrays, rng: np.random.Generator, _: int) -> None:
    a["page_shift"][0] = rng.choice([64, 65, 200, -1, 2**62])


def idom_wild(a: Arrays, rng: np.random.Generator, _: int) -> None:
    idom = a["dom_idom"]
    at = _some(rng, len(idom))
    idom[at] = _wild(rng, len(at), len(idom), np.int32)


WILD: dict[str, Forge] = {f.__name__: f for f in (
    field_target_wild, root_target_wild, in_src_wild, in_first_wild, obj_first_wild,
    order_wild, sorted_shuffled, page_table_wild, page_table_short, page_shift_wild,
    idom_wild,
)}  # fmt: skip
KERNEL_OOB = "index is out of bounds"  # numba's IndexError under NUMBA_BOUNDSCHECK=1


def unchecked() -> None:
    """Let every saved array through (as if validation missed something): only the kernels'
    own guards stand between the values and memory."""
    index.problem_of = lambda *_: None
    dominators._fits = lambda *_: True


# --- the campaign --------------------------------------------------------------------------
def queries(loaded: LoadedDump, addresses: list[int]) -> Iterator[tuple[str, Callable]]:
    """Every query of tests/hostile.py, one at a time: (what, how to ask it)."""
    entry = DumpEntry(loaded.path, Path(loaded.path).as_uri(), state=STATE_READY, loaded=loaded)
    for argv in WHOLE_QUERIES:
        yield " ".join(argv), partial(ask, loaded, list(argv))
    for address in addresses:
        yield f"hover {address:#x}", partial(hover_markdown, [entry], address)
        for argv in ADDRESS_QUERIES:
            yield (
                f"{address:#x} {' '.join(argv)}",
                partial(ask, loaded, ["--address", hex(address), *argv]),
            )
        obj = loaded.heap.find(address)
        if obj >= 0:
            yield f"nearest anchor {address:#x}", partial(nearest_anchor, loaded.heap,
                                                          loaded.names, obj)  # fmt: skip
            yield f"graph {address:#x}", partial(
                lambda o: to_dot(loaded.heap, loaded.names,
                                 owner_graph(loaded.heap, loaded.names, o, 60)), obj
            )  # fmt: skip


def _arrays(place: Path, meta: dict) -> tuple[Arrays, dict[str, str]]:
    """Every array of the index, and which part of meta.json lists each."""
    where = {name: "arrays" for name in meta["arrays"]}
    where |= {name: "extra" for name in meta.get("extra", {})}
    return {name: np.load(place / f"{name}.npy") for name in where}, where


def _write_forged(place: Path, meta: dict, where: dict[str, str], a: Arrays, b: Arrays) -> None:
    """The arrays of ``a`` that differ from ``b``, with dtype, shape and checksum to match."""
    for name, value in a.items():
        if value.shape == b[name].shape and np.array_equal(value, b[name]):
            continue
        value = np.ascontiguousarray(value)
        np.save(place / f"{name}.npy", value)
        meta[where[name]][name] = {"dtype": value.dtype.str, "shape": list(value.shape),
                                   "checksum": checksum(value)}  # fmt: skip
    (place / "meta.json").write_text(json.dumps(meta))


def campaign(
    dump: Path, seed: int, kinds: list[str], wild: bool = False, lazy: bool = False
) -> dict:
    """Each kind forged into the index, loaded and asked every query. Any exception is an
    error; ``wild`` (validation bypassed): only a compiled kernel's out-of-bounds access
    is (Python's own IndexErrors on such values are counted, not failed). ``lazy``: loaded
    for one query, each array checked when a query first uses it (a warning then counts
    the kind as noticed)."""
    fresh = load_dump(dump)
    dominators.dominators(fresh.heap)  # saved into the index: its arrays are forged too
    place = index_places(str(dump))[0]
    good = {p.name: p.read_bytes() for p in place.iterdir() if p.is_file()}
    original, where = _arrays(place, json.loads(good["meta.json"]))
    addresses = addresses_of(fresh, 2)
    if wild:
        unchecked()
    report: dict = {"answered": [], "noticed": [], "errors": {}, "python_errors": []}
    for kind in kinds:
        print(f"forged.py: {kind}", file=sys.stderr, flush=True)
        for name, content in good.items():
            (place / name).write_bytes(content)
        forged = {name: v.copy() for name, v in original.items()}
        forge = (WILD if wild else FORGES)[kind]
        forge(forged, np.random.default_rng([seed, len(kind)]), dump.stat().st_size)
        if not wild:
            index_arrays = {k: v for k, v in forged.items() if where[k] == "arrays"}
            assert problem_of(index_arrays, dump.stat().st_size) is None, f"{kind}: refused"
        _write_forged(place, json.loads(good["meta.json"]), where, forged, original)
        loaded = load_dump(dump, many_lookups=not lazy)
        for what, query in queries(loaded, addresses + addresses_of(loaded, 2)):
            print(f"forged.py: {kind}: {what}", file=sys.stderr, flush=True)
            try:
                query()
            except Exception as err:
                if wild and str(err) != KERNEL_OOB:
                    report["python_errors"].append(f"{kind}: {what}: {err!r}"[:200])
                    continue
                report["errors"][f"{kind}: {what}"] = traceback.format_exc(limit=-8)
        report["noticed" if loaded.warnings else "answered"].append(kind)
    return report


if __name__ == "__main__":
    # python tests/forged.py DUMP SEED [lazy] [wild] [KIND ...]
    target, seed, rest = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    lazy = rest[:1] == ["lazy"]
    rest = rest[1:] if lazy else rest
    wild = rest[:1] == ["wild"]
    chosen = rest[1:] if wild else rest
    result = campaign(target, seed, chosen or list(WILD if wild else FORGES), wild, lazy)
    print(json.dumps(result))
    sys.exit(1 if result["errors"] else 0)
