"""Anchors: the roots that keep an object alive, each with its shortest chain of objects."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..heap import graph
from ..heap import roots as R
from ..heap.cores import side_by_side
from ..heap.model import Heap
from ..names.naming import Names
from .describe import RootInfo, describe_root
from .dominators import retained_of

UNSEEN_ROOTS = (
    "runtime.AddCleanup arguments (Go >= 1.24)",
    "weak/unique handles and profiling records",
    "data/bss of modules other than the first (plugins)",
)


@dataclass
class Anchor:
    root: RootInfo
    path: np.ndarray  # object indexes (int32) from the root's first object to the target
    root_index: int = -1  # the root slot (heap.roots) the chain starts from
    cycle: bool = False  # a finalizer whose object the target itself keeps alive

    @property
    def length(self) -> int:
        return len(self.path)


@dataclass
class AnchorReport:
    target: int  # object index
    anchors: list[Anchor] = field(default_factory=list)
    phantom: bool = False
    complete: bool = True  # False: only the nearest anchor was looked for

    @property
    def only_finalizer_cycles(self) -> bool:
        return bool(self.anchors) and all(a.cycle for a in self.anchors)


def find_anchors(heap: Heap, names: Names, obj: int) -> AnchorReport:
    """Every distinct root that reaches ``obj``, nearest first, each with a shortest chain."""
    report = AnchorReport(obj, phantom=bool(heap.phantom[obj]))
    if report.phantom:
        return report
    order, first_child, level_first = heap.owners_bfs(obj)
    at = graph.positions_in(order, heap.roots.target, heap.n_objects)
    reaching = np.flatnonzero(at >= 0)
    depth = np.searchsorted(level_first, at[reaching], side="right") - 1
    reaching = reaching[np.argsort(depth, kind="stable")]
    seen: set[tuple] = set()
    forward: np.ndarray | None = None
    for r in reaching:
        info = describe_root(heap, names, int(r))
        if info.key in seen:
            continue
        seen.add(info.key)
        anchor = Anchor(info, graph.chain_down(at[r], order, first_child), int(r))
        if info.finalizer_of is not None and heap.roots.kind[r] != R.QUEUED_FINALIZER:
            if forward is None:
                forward = graph.reach_forward(
                    np.array([obj], np.int32), heap.cols.obj_first, heap.field_target, np.int32(-1)
                )
            finalized = heap.find(info.finalizer_of)
            anchor.cycle = finalized >= 0 and bool(forward[finalized])
        report.anchors.append(anchor)
    return report


def anchors_and_retained(
    heap: Heap, names: Names, obj: int
) -> tuple[AnchorReport, tuple[int, int, int] | None]:
    """find_anchors and what ``obj`` retains (dominators.retained_of: from the tree when at
    hand, else a search of the heap without ``obj``), the two searches side by side on
    two cores (compiled, without the GIL); None retained for a phantom."""
    report, retained = side_by_side(lambda: find_anchors(heap, names, obj),
                                    lambda: retained_of(heap, obj))  # fmt: skip
    return report, None if report.phantom else retained


def nearest_anchor(heap: Heap, names: Names, obj: int) -> AnchorReport:
    """Only the nearest anchor, with its shortest chain: a walk up a BFS tree built once
    per heap, so it costs the chain's length, not a search (what a hover can afford)."""
    report = AnchorReport(obj, phantom=bool(heap.phantom[obj]), complete=False)
    if report.phantom:
        return report
    path = graph.path_down(obj, heap.nearest_roots())
    if len(path):
        first_root = int(heap.roots_of(int(path[0]))[0])  # the one the BFS started from
        report.anchors.append(Anchor(describe_root(heap, names, first_root), path, first_root))
    return report
