#!/usr/bin/env python3
"""What the compiled kernels' guards cost (issue 16.3): each kernel as it is against the
same kernel at an earlier revision (before its guards), on the same inputs, in one process.

    .venv/bin/python bench/kernel_guards.py                  # the 5M random graph, repeat 5
    .venv/bin/python bench/kernel_guards.py --before REV --dump D.heapdump --repeat 3

The earlier kernels are compiled from ``git show REV:<file>`` into a temporary package.
Times are ``time.thread_time`` (CPU of this thread: the machine may be shared), the two
versions taken in turns, alternating which goes first; the table gives each one's median,
the ratio of the medians and of the fastest runs (the least disturbed on a busy machine),
and the load average before and after. The guards of ``semi_nca`` were measured with the
others (README); that kernel has since been split in two (``later_owners``,
``semidominators``) that have no earlier, unguarded revision to compare with; nor has
``depth_first`` since it reads the pointer lists ``fill_lists`` makes (``gather`` is gone).
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(REPO / "server"))

import numpy as np  # noqa: E402

import make_dumps  # noqa: E402
from heapspurs.analysis import dominator_kernels, dominators, goroutine_kernels  # noqa: E402
from heapspurs.heap import graph, spans  # noqa: E402
from heapspurs.loaded import load_dump  # noqa: E402

BEFORE = "315862f^"  # the commit that added the guards, its parent
KERNEL_FILES = {"graph": "heap/graph.py", "spans": "heap/spans.py",
                "dominator_kernels": "analysis/dominator_kernels.py",
                "goroutine_kernels": "analysis/goroutine_kernels.py"}  # fmt: skip
Kernels = dict[str, ModuleType]


def before_kernels(rev: str, folder: Path) -> Kernels:
    """The kernel modules at ``rev``, importable as ``before_kernels.<name>``."""
    package = folder / "before_kernels"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name, path in KERNEL_FILES.items():
        source = subprocess.run(["git", "show", f"{rev}:server/heapspurs/{path}"], cwd=REPO,
                                check=True, capture_output=True, text=True).stdout  # fmt: skip
        source = re.sub(r"from \.\.heap\.graph import", "from .graph import", source)
        (package / f"{name}.py").write_text(source)
    sys.path.insert(0, str(folder))
    return {name: importlib.import_module(f"before_kernels.{name}") for name in KERNEL_FILES}


NOW: Kernels = {"graph": graph, "spans": spans, "dominator_kernels": dominator_kernels,
                "goroutine_kernels": goroutine_kernels}  # fmt: skip


def cases(heap, m: Kernels) -> dict[str, Callable[[], object]]:
    """Per kernel, a call on the heap with the kernels of ``m`` (fresh scratch arrays made
    in the call: the same work either way)."""
    g, dk, gk, sp = m["graph"], m["dominator_kernels"], m["goroutine_kernels"], m["spans"]
    n, obj_first, ft = heap.n_objects, heap.cols.obj_first, heap.field_target
    roots, allowed = heap.root_target, ~heap.phantom
    values = np.ascontiguousarray(heap.cols.field_val)
    tables = (heap.sorted_addr, heap.sorted_end, heap.order, heap.page_table,
              int(heap.page_shift[0]))  # fmt: skip
    target = int(np.argmax(np.diff(heap.in_first)))  # the object with most owners
    order, first_child, _ = graph.owners_bfs(target, heap.in_first, heap.in_src, allowed, -1)
    tree = dominators.of_heap(heap)
    first, kids = dominator_kernels.children_csr(tree.idom, dominators.VIRTUAL_ROOT)
    top = int(tree.largest(tree.children(None), 1)[0])
    labels = np.random.default_rng(0).integers(0, 64, n).astype(np.int32)
    is_root = _root_mask(heap)
    groups = np.linspace(0, len(roots), 101).astype(np.int64)

    def owners_csr():
        cursors = np.zeros((1, n), dtype=np.int32)
        g._count_owners(obj_first, ft, 0, n, cursors[0])
        in_first = np.empty(n + 1, dtype=np.int64)
        in_src = np.empty(g._first_slots(cursors, in_first), dtype=np.int32)
        g._place_owners(obj_first, ft, 0, n, cursors[0], in_src)

    return {
        "graph.resolve": lambda: g.resolve(values, *tables, np.empty(len(values), np.int32)),
        "graph._count/_place_owners": owners_csr,
        "graph.reach_forward": lambda: g.reach_forward(roots, obj_first, ft, np.int32(-1)),
        "graph._owners_bfs": lambda: g.owners_bfs(target, heap.in_first, heap.in_src, allowed, -1),
        "graph._positions_in": lambda: g.positions_in(order, roots, n),
        "graph.owned_by": lambda: g.owned_by(np.arange(n), heap.in_first, heap.in_src, allowed),
        "graph.pointing_fields": lambda: g.pointing_fields(
            order[1:], order[first_child_of(first_child, len(order))], obj_first, ft
        ),
        "graph.from_roots": lambda: g.roots_bfs(roots, obj_first, ft, allowed),
        "spans.with_malloc_header": lambda: sp.with_malloc_header(
            obj_first, heap.cols.field_off, heap.size, 1024, 32768, 8, np.empty(n, np.bool_)
        ),
        "dominator_kernels.children_csr": lambda: dk.children_csr(tree.idom, -1),
        "dominator_kernels.subtree": lambda: dk.subtree(np.int32(top), first, kids),
        "dominator_kernels.outermost_of_type": lambda: dk.outermost_of_type(
            labels, first, kids, 64
        ),
        "dominator_kernels.retained_by_removal": lambda: dk.retained_by_removal(
            np.int32(top),
            roots,
            obj_first,
            ft,
            graph._seen_bits(allowed),
            heap.size,
            np.empty(n, np.int32),
        ),
        "dominator_kernels.nearest_root_above": lambda: [
            dk.nearest_root_above(np.int32(o), heap.in_first, heap.in_src, allowed, is_root)
            for o in range(0, n, max(n // 20, 1))
        ],
        "goroutine_kernels.mark_from": lambda: gk.mark_from(
            roots,
            obj_first,
            ft,
            np.zeros(n, np.bool_),
            np.zeros(n, np.bool_),
            np.empty(n, np.int32),
        ),
        "goroutine_kernels.label_owners": lambda: gk.label_owners(
            groups, roots, obj_first, ft, np.zeros(n, np.bool_), np.empty(n, np.int32)
        ),
    }


def first_child_of(first_child: np.ndarray, found: int) -> np.ndarray:
    """For each BFS position after the first, the position of the object it was found
    from (the object it points to)."""
    return np.searchsorted(first_child[:-1], np.arange(1, found), side="right") - 1


def _root_mask(heap) -> np.ndarray:
    """Per object, whether a root points at it."""
    is_root = np.zeros(heap.n_objects, dtype=np.bool_)
    targets = heap.root_target[heap.root_target >= 0]
    is_root[targets[~heap.phantom[targets]]] = True
    return is_root


def measure(before: dict, now: dict, repeat: int) -> list[tuple[str, float, float]]:
    rows = []
    for name in now:
        before[name](), now[name]()  # compiled (or loaded from the cache), warm
        times: dict[str, list[float]] = {"before": [], "now": []}
        for r in range(repeat):
            turn = [("before", before[name]), ("now", now[name])]
            for which, call in turn if r % 2 == 0 else turn[::-1]:
                t0 = time.thread_time()
                call()
                times[which].append(time.thread_time() - t0)
        b, a = statistics.median(times["before"]), statistics.median(times["now"])
        least = min(times["now"]) / min(times["before"])
        rows.append((name, b, a))
        print(f"{name:38s} before {b * 1e3:8.1f} ms  now {a * 1e3:8.1f} ms  {a / b:6.3f}"
              f"  (fastest runs: {least:.3f})", flush=True)  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dump", type=Path, help="default: bench/make_dumps.py's random 5M")
    ap.add_argument("--before", default=BEFORE, help="revision of the unguarded kernels")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    dump = args.dump or make_dumps.make_dump("random", 5_000_000)[0]
    print(f"load average before: {os.getloadavg()}", flush=True)
    heap = load_dump(str(dump), cache=False).heap
    print(f"{dump}: {heap.n_objects} objects, {len(heap.field_target)} pointer fields")
    with tempfile.TemporaryDirectory() as folder:
        old = before_kernels(args.before, Path(folder))
        rows = measure(cases(heap, old), cases(heap, NOW), args.repeat)
    print(f"load average after: {os.getloadavg()}")
    worst = max(rows, key=lambda r: r[2] / r[1])
    print(f"worst ratio: {worst[0]} {worst[2] / worst[1]:.3f}")


if __name__ == "__main__":
    main()
